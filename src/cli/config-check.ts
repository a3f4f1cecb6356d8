import { access, constants, readFile, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname } from "node:path";
import type { Command } from "commander";
import {
  type Address,
  createPublicClient,
  formatEther,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  parseEther,
  toHex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { Guardian } from "../contracts/generated/artifacts.ts";
import { formatSeconds } from "../governance/status.ts";
import {
  ConfigError,
  loadConfig,
  metricsSettings,
  type ResolvedConfig,
  redactUrl,
} from "../internal/config.ts";
import { describeError, VigilError } from "../internal/errors.ts";
import { loadSentinelKey } from "../internal/keystore.ts";
import { createRpc } from "../internal/rpc.ts";
import { verifyIncidentLog } from "../record/incidents.ts";
import { openRpcSocket } from "../source/socket.ts";
import { parseIntOption } from "./options.ts";

/**
 * `vigil config check`: validates a config file, then the world around it, and says what to fix.
 * Every check is independent and bounded by a timeout; checks that need an earlier one (the
 * chain for the Guardian) are skipped, not failed, when it failed. Nothing is sent but reads and
 * one harmless signed request per relay; no key or URL path is ever printed.
 */

export type CheckStatus = "ok" | "warn" | "fail" | "skip";
export type CheckResult = { name: string; status: CheckStatus; detail: string; fix?: string };
export type ConfigCheckReport = { ok: boolean; file: string; checks: CheckResult[] };

export type ConfigCheckOptions = {
  env?: Readonly<Record<string, string | undefined>>;
  /** Per network check (default 5 s). */
  timeoutMs?: number;
};

/** A sentinel balance below this may not pay for a pause at a high tip. */
const LOW_BALANCE = parseEther("0.05");

export async function runConfigCheck(
  file: string,
  options: ConfigCheckOptions = {},
): Promise<ConfigCheckReport> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const checks: CheckResult[] = [];
  const add = (c: CheckResult) => checks.push(c);
  const done = (): ConfigCheckReport => ({ ok: checks.every((c) => c.status !== "fail"), file, checks });

  let config: ResolvedConfig;
  try {
    config = loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) {
      add({
        name: "config",
        status: "fail",
        detail: `${error.problems.length} problem${error.problems.length === 1 ? "" : "s"}:\n${error.problems.map((p) => `- ${p}`).join("\n")}`,
        fix: "fix the fields above; schema/vigil.config.schema.json describes every field",
      });
      return done();
    }
    throw error;
  }
  const shadow = config.response.mode === "shadow";
  add({
    name: "config",
    status: "ok",
    detail: `valid: ${config.targets.length} target(s), ${config.relays.length} relay(s), mode ${config.response.mode}`,
  });

  // The chain over HTTP and WebSocket.
  const rpcShown = redactUrl(config.chain.rpcUrl);
  let client: PublicClient | undefined;
  try {
    const rpc = createRpc(config.chain.rpcUrl, { timeoutMs });
    const [chainHex, blockHex] = await Promise.all([
      rpc.call<Hex>("eth_chainId"),
      rpc.call<Hex>("eth_blockNumber"),
    ]);
    const chainId = Number(BigInt(chainHex));
    if (chainId !== config.chain.chainId) {
      add({
        name: "rpc",
        status: "fail",
        detail: `${rpcShown} is on chain ${chainId}, the config says ${config.chain.chainId}`,
        fix: `set chain.chainId to ${chainId}, or point chain.rpcUrl at a node of chain ${config.chain.chainId}`,
      });
    } else {
      add({ name: "rpc", status: "ok", detail: `${rpcShown}: chain ${chainId}, block ${BigInt(blockHex)}` });
      client = createPublicClient({
        transport: http(config.chain.rpcUrl, { timeout: timeoutMs, retryCount: 0 }),
      });
    }
  } catch (error) {
    add({
      name: "rpc",
      status: "fail",
      detail: `no JSON-RPC answer from ${rpcShown} (${describeError(error).replace(config.chain.rpcUrl, rpcShown)})`,
      fix: "check chain.rpcUrl and that the node is running and reachable from this machine",
    });
  }
  add(await checkWebSocket(config, timeoutMs));

  // The Guardian, the sentinel and the targets.
  const skip = (name: string): CheckResult => ({ name, status: "skip", detail: "needs a working rpc" });
  let guardianOk = false;
  if (client) {
    const g = await checkGuardian(client, config.guardian);
    guardianOk = g.status === "ok";
    add(g);
  } else add(skip("guardian"));

  let sentinel: Address | undefined;
  try {
    sentinel = privateKeyToAccount(await loadSentinelKey(config.sentinel, env)).address;
    add({
      name: "sentinel key",
      status: "ok",
      detail: `loads from ${"privateKeyEnv" in config.sentinel ? `$${config.sentinel.privateKeyEnv}` : config.sentinel.keystore}: ${sentinel}`,
    });
  } catch (error) {
    add({
      name: "sentinel key",
      status: "fail",
      detail: error instanceof VigilError ? error.shortMessage : describeError(error),
      ...(error instanceof VigilError && error.hint ? { fix: error.hint } : {}),
    });
  }
  if (client && guardianOk && sentinel) {
    add(await checkSentinel(client, config.guardian, sentinel, file));
    add(await checkBalance(client, sentinel));
  } else {
    const why = !sentinel ? "needs the sentinel key" : !client ? "needs a working rpc" : "needs the Guardian";
    add({ name: "sentinel registered", status: "skip", detail: why });
    add({ name: "sentinel balance", status: "skip", detail: why });
  }
  for (const t of config.targets) {
    const name = `target ${t.name ?? t.address}`;
    if (client && guardianOk) add(await checkTarget(client, config.guardian, t.address, name, file));
    else add({ name, status: "skip", detail: client ? "needs the Guardian" : "needs a working rpc" });
  }

  // Relays.
  if (config.relays.length === 0 && shadow) {
    add({ name: "relays", status: "ok", detail: "none (shadow mode sends nothing)" });
  }
  const authKey = relayAuthKey(config, env, add);
  for (const [i, r] of config.relays.entries()) {
    add(await checkRelay(r.url, r.name ?? `relay ${i}`, authKey, timeoutMs));
  }

  // Alerts, record, metrics.
  for (const [i, w] of config.alerts.webhooks.entries()) {
    const name = `webhook ${i} (${w.format})`;
    const where = `${redactUrl(w.url)}, severity ${w.minSeverity} and above`;
    if (w.format === "pagerduty" && w.routingKeyEnv && !env[w.routingKeyEnv]?.trim()) {
      add({
        name,
        status: "fail",
        detail: `${where}; $${w.routingKeyEnv} is not set`,
        fix: `set ${w.routingKeyEnv} to the PagerDuty Events API v2 routing key (the daemon refuses to start without it)`,
      });
    } else {
      add({ name, status: "ok", detail: `${where} (not sent: no test alert is posted)` });
    }
  }
  add(await checkRecord(config.record.path));
  add(await checkMetrics(config));
  return done();
}

// ---------------------------------------------------------------------------------------------

async function checkWebSocket(config: ResolvedConfig, timeoutMs: number): Promise<CheckResult> {
  const shown = redactUrl(config.chain.wsUrl);
  let socket: Awaited<ReturnType<typeof openRpcSocket>> | undefined;
  try {
    socket = await openRpcSocket({
      url: config.chain.wsUrl,
      connectTimeoutMs: timeoutMs,
      requestTimeoutMs: timeoutMs,
      keepAlive: { intervalMs: 60_000, timeoutMs: 60_000 },
      onMalformed: () => {},
      onClose: () => {},
    });
    const chainId = Number(BigInt((await socket.request("eth_chainId", [])) as Hex));
    if (chainId !== config.chain.chainId) {
      return {
        name: "ws",
        status: "fail",
        detail: `${shown} is on chain ${chainId}, the config says ${config.chain.chainId}`,
        fix: "point chain.wsUrl at the same node as chain.rpcUrl",
      };
    }
    return { name: "ws", status: "ok", detail: `${shown}: chain ${chainId} (mempool subscription endpoint)` };
  } catch (error) {
    return {
      name: "ws",
      status: "fail",
      detail: `no WebSocket JSON-RPC answer from ${shown} (${describeError(error).replace(config.chain.wsUrl, shown)})`,
      fix: "check chain.wsUrl: the daemon subscribes to pending transactions and heads over it",
    };
  } finally {
    socket?.close();
  }
}

async function checkGuardian(client: PublicClient, guardian: Address): Promise<CheckResult> {
  const code = await client.getCode({ address: guardian }).catch(() => undefined);
  if (!code || code === "0x") {
    return {
      name: "guardian",
      status: "fail",
      detail: `no contract at ${guardian}`,
      fix: "set guardian to the deployed Guardian's address (and check chain.rpcUrl is the right chain)",
    };
  }
  try {
    const read = (functionName: "governance" | "maxPauseDuration" | "budgetWindow") =>
      client.readContract({ address: guardian, abi: Guardian.abi, functionName });
    const [governance, maxPause, window] = await Promise.all([
      read("governance"),
      read("maxPauseDuration"),
      read("budgetWindow"),
    ]);
    return {
      name: "guardian",
      status: "ok",
      detail: `${guardian}: governance ${governance}, pauses last ${formatSeconds(Number(maxPause))}, budget window ${formatSeconds(Number(window))}`,
    };
  } catch {
    return {
      name: "guardian",
      status: "fail",
      detail: `${guardian} has code but does not answer governance(): it is not a Vigil Guardian`,
      fix: "set guardian to the Guardian's address, not the Safe's or a target's",
    };
  }
}

async function checkSentinel(
  client: PublicClient,
  guardian: Address,
  sentinel: Address,
  file: string,
): Promise<CheckResult> {
  const [is, [budget, used, endsAt], block] = await Promise.all([
    client.readContract({
      address: guardian,
      abi: Guardian.abi,
      functionName: "isSentinel",
      args: [sentinel],
    }),
    client.readContract({ address: guardian, abi: Guardian.abi, functionName: "budgetOf", args: [sentinel] }),
    client.getBlock(),
  ]);
  if (!is) {
    return {
      name: "sentinel registered",
      status: "fail",
      detail: `${sentinel} is not a sentinel of the Guardian: its pauses would revert`,
      fix: `have governance add it: vigil governance add-sentinel ${sentinel} <budget> --config ${file} --safe <governance safe>`,
    };
  }
  const left = Math.max(0, budget - used);
  const resets = Number(endsAt) - Number(block.timestamp);
  if (left === 0) {
    return {
      name: "sentinel registered",
      status: "fail",
      detail: `${sentinel} used its whole budget (${used}/${budget}); it cannot pause for ${formatSeconds(resets)}`,
      fix: "wait for the window to end, or have governance raise it (vigil governance set-budget)",
    };
  }
  return {
    name: "sentinel registered",
    status: "ok",
    detail: `${sentinel}: budget ${budget}, ${left} left in this window (resets in ${formatSeconds(resets)})`,
  };
}

async function checkBalance(client: PublicClient, sentinel: Address): Promise<CheckResult> {
  const balance = await client.getBalance({ address: sentinel });
  if (balance === 0n) {
    return {
      name: "sentinel balance",
      status: "fail",
      detail: `${sentinel} holds no ether: it pays the pause transaction's gas`,
      fix: `send ether to ${sentinel}`,
    };
  }
  return {
    name: "sentinel balance",
    status: balance < LOW_BALANCE ? "warn" : "ok",
    detail: `${formatEther(balance)} ETH${balance < LOW_BALANCE ? `: below ${formatEther(LOW_BALANCE)}, may not pay for a pause at a high tip` : ""}`,
    ...(balance < LOW_BALANCE ? { fix: `top up ${sentinel}` } : {}),
  };
}

async function checkTarget(
  client: PublicClient,
  guardian: Address,
  target: Address,
  name: string,
  file: string,
): Promise<CheckResult> {
  const [code, registered, record] = await Promise.all([
    client.getCode({ address: target }),
    client.readContract({ address: guardian, abi: Guardian.abi, functionName: "isTarget", args: [target] }),
    client.readContract({ address: guardian, abi: Guardian.abi, functionName: "pauseOf", args: [target] }),
  ]);
  if (!code || code === "0x") {
    return {
      name,
      status: "fail",
      detail: `no contract at ${target}`,
      fix: "check the target's address and the chain",
    };
  }
  if (!registered) {
    return {
      name,
      status: "fail",
      detail: `${target} is not a target of the Guardian: a pause of it would revert`,
      fix: `grant the Guardian the target's pause role, then have governance register it: vigil governance add-target ${target} --config ${file} --safe <governance safe>`,
    };
  }
  if (record.sentinel !== "0x0000000000000000000000000000000000000000") {
    return {
      name,
      status: "warn",
      detail: `${target} is registered and paused by the Guardian now (incident ${record.incidentId}${record.confirmed ? ", confirmed" : ""})`,
      fix: "see `vigil governance status`; governance confirms or lifts the pause",
    };
  }
  return { name, status: "ok", detail: `${target}: registered, not paused` };
}

function relayAuthKey(
  config: ResolvedConfig,
  env: Readonly<Record<string, string | undefined>>,
  add: (c: CheckResult) => void,
): Hex {
  const name = config.relayAuthKeyEnv;
  if (!name) return generatePrivateKey();
  const raw = env[name]?.trim();
  const hex = raw?.replace(/^0x/i, "");
  if (!hex || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    add({
      name: "relay auth key",
      status: "fail",
      detail: raw === undefined ? `$${name} is not set` : `$${name} does not hold 64 hex digits (not shown)`,
      fix: `set ${name} to the key that signs X-Flashbots-Signature, or remove relayAuthKeyEnv`,
    });
    return generatePrivateKey();
  }
  add({ name: "relay auth key", status: "ok", detail: `$${name} holds a key (not shown)` });
  return `0x${hex.toLowerCase()}`;
}

/**
 * A relay answers if a signed `eth_callBundle` with no parameters gets any JSON back quickly (a
 * JSON-RPC error is the expected answer): the request cannot simulate or send anything.
 */
async function checkRelay(url: string, name: string, authKey: Hex, timeoutMs: number): Promise<CheckResult> {
  const shown = redactUrl(url);
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_callBundle", params: [] });
  const account = privateKeyToAccount(authKey);
  const signature = await account.signMessage({ message: keccak256(toHex(body)) });
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-flashbots-signature": `${account.address}:${signature}`,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return {
      name: `relay ${name}`,
      status: "fail",
      detail: `no answer from ${shown} (${networkReason(error, url, shown)})`,
      fix: "check the relay URL and this machine's outbound network",
    };
  }
  const ms = Math.round(performance.now() - started);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {
      name: `relay ${name}`,
      status: "fail",
      detail: `${shown} answered HTTP ${res.status} without JSON: it does not look like a relay endpoint`,
      fix: "use the relay's JSON-RPC URL (it accepts eth_sendBundle)",
    };
  }
  const error = (json as { error?: { message?: string } } | null)?.error;
  if (res.status === 401 || res.status === 403) {
    return {
      name: `relay ${name}`,
      status: "warn",
      detail: `${shown} answered in ${ms} ms but refused the signed request (HTTP ${res.status}: ${error?.message ?? "no message"})`,
      fix: "check relayAuthKeyEnv: the relay may require a registered or differently signed key",
    };
  }
  return {
    name: `relay ${name}`,
    status: "ok",
    detail: `${shown} answered in ${ms} ms${error?.message ? ` (expected error: ${error.message.slice(0, 80)})` : ""}`,
  };
}

/** "fetch failed: ECONNREFUSED", with the URL replaced by its shown form. */
function networkReason(error: unknown, url: string, shown: string): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const why =
    typeof cause?.code === "string"
      ? cause.code
      : typeof cause?.message === "string"
        ? cause.message
        : undefined;
  return `${describeError(error)}${why ? `: ${why}` : ""}`.split(url).join(shown);
}

async function checkRecord(path: string): Promise<CheckResult> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const dir = await nearestExistingDir(dirname(path));
    try {
      await access(dir, constants.W_OK);
      return { name: "record", status: "ok", detail: `${path} will be created` };
    } catch {
      return {
        name: "record",
        status: "fail",
        detail: `${path} cannot be created: ${dir} is not writable`,
        fix: "set record.path to a writable location (the service's StateDirectory)",
      };
    }
  }
  try {
    await access(path, constants.W_OK);
  } catch {
    return {
      name: "record",
      status: "fail",
      detail: `${path} is not writable`,
      fix: "give the user running Vigil write access, or set record.path elsewhere",
    };
  }
  const verified = await verifyIncidentLog(path).catch((error: unknown) => ({ error }));
  if ("error" in verified) {
    return {
      name: "record",
      status: "fail",
      detail: `${path} cannot be read: ${describeError(verified.error)}`,
    };
  }
  if (!verified.ok) {
    return {
      name: "record",
      status: "fail",
      detail: `${path} has a broken hash chain at line ${verified.badLine}: ${verified.problem}`,
      fix: `the daemon refuses to append to it: keep it as evidence, move it aside, inspect it with \`vigil verify-records ${path}\``,
    };
  }
  const lockOwner = Number.parseInt(await readFile(`${path}.lock`, "utf8").catch(() => ""), 10);
  const locked = Number.isInteger(lockOwner) && lockOwner > 0 && processAlive(lockOwner);
  return {
    name: "record",
    status: locked ? "warn" : "ok",
    detail: `${path}: ${verified.lines} line(s), ${verified.incidents} incident(s), hash chain intact${locked ? `; open in process ${lockOwner}` : ""}`,
    ...(locked ? { fix: "a running Vigil holds it; a second one needs its own record.path" } : {}),
  };
}

async function checkMetrics(config: ResolvedConfig): Promise<CheckResult> {
  const { port, host } = metricsSettings(config);
  if (port === 0) return { name: "metrics", status: "ok", detail: "disabled (metrics.port 0)" };
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
  return free
    ? { name: "metrics", status: "ok", detail: `will serve http://${host}:${port}/metrics and /healthz` }
    : {
        name: "metrics",
        status: "warn",
        detail: `${host}:${port} is in use now (a running Vigil?) or not an address of this machine`,
        fix: "if no Vigil runs here, set metrics.port to a free port or metrics.host to a local address",
      };
}

async function nearestExistingDir(dir: string): Promise<string> {
  let d = dir;
  for (;;) {
    const ok = await stat(d).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (ok || dirname(d) === d) return d;
    d = dirname(d);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// ---------------------------------------------------------------------------------------------

const MARK: Record<CheckStatus, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL", skip: "skip" };

export function formatConfigCheck(report: ConfigCheckReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = [`Checking ${report.file}`, ""];
  for (const c of report.checks) {
    const [first, ...rest] = c.detail.split("\n");
    lines.push(`  ${MARK[c.status]}  ${c.name.padEnd(width)}  ${first ?? ""}`);
    for (const r of rest) lines.push(`        ${" ".repeat(width)}  ${r}`);
    if (c.fix && c.status !== "ok") lines.push(`        ${" ".repeat(width)}  fix: ${c.fix}`);
  }
  const failed = report.checks.filter((c) => c.status === "fail").length;
  const warned = report.checks.filter((c) => c.status === "warn").length;
  lines.push(
    "",
    failed > 0
      ? `${failed} check(s) failed${warned ? `, ${warned} warning(s)` : ""}: Vigil would not work as configured.`
      : `All checks passed${warned ? ` with ${warned} warning(s)` : ""}.`,
  );
  return lines.join("\n");
}

export function registerConfigCheck(program: Command): void {
  const config =
    program.commands.find((c) => c.name() === "config") ??
    program.command("config").description("work with Vigil configuration files");
  config
    .command("check")
    .description("validate a config file and the chain, keys, Guardian, targets and relays around it")
    .requiredOption("--config <file>", "configuration JSON")
    .option("--timeout <ms>", "time limit per network check", parseIntOption("--timeout", 100, 120_000), 5000)
    .option("--json", "print one JSON document")
    .action(async (opts: { config: string; timeout: number; json?: boolean }) => {
      const report = await runConfigCheck(opts.config, { timeoutMs: opts.timeout });
      process.stdout.write(
        opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatConfigCheck(report)}\n`,
      );
      process.exitCode = report.ok ? 0 : 1;
    });
}
