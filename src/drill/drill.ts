import fs from "node:fs";
import path from "node:path";
import {
  type Account,
  type Address,
  createWalletClient,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  parseGwei,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { Guardian, VulnerableSpotPriceLendingMarket } from "../contracts/generated/artifacts.ts";
import { devnetAccount, devnetPrivateKey } from "../devnet/accounts.ts";
import { connectDevnet, type Devnet, withExternalBlocks } from "../devnet/chain.ts";
import { startDevnet } from "../devnet/devnet.ts";
import { execSafeTx, safeCall, safeNonce, signSafeTx } from "../devnet/safe.ts";
import type { Deployment } from "../devnet/world.ts";
import { type Decided, type Resolved, startGuardian } from "../guardian.ts";
import { parseConfig } from "../internal/config.ts";
import { InputError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";
import {
  DRILL_SCENARIOS,
  type DrillAccounts,
  type DrillContext,
  type Scenario,
  type ScenarioTx,
} from "./scenarios.ts";

export type ScenarioResult = {
  name: string;
  kind: "attack" | "benign";
  description: string;
  txHash: Hex;
  detected: boolean;
  decision: "ignore" | "alert" | "pause" | "unseen";
  score: number;
  reasons: string[];
  paused: boolean;
  prevented: boolean;
  /** Drop of the market's lendable balance (USD base units) caused by the transaction. */
  valueLostWei: string;
  minedBlock: string;
  txStatus: "success" | "reverted";
  outcome: string | undefined;
  timings: {
    /** Always 0: times are ms from the moment the daemon first saw the transaction. */
    seenMs: number;
    simulatedMs: number | null;
    decidedMs: number | null;
    bundleSentMs: number | null;
    includedBlock: string | null;
    /** ms from `eth_sendRawTransaction` to the daemon seeing the transaction. */
    sentToSeenMs: number | null;
  };
};

export type DrillReport = {
  scenarios: ScenarioResult[];
  summary: {
    attacks: number;
    prevented: number;
    benign: number;
    falsePauses: number;
    detected: number;
    missed: number;
  };
  blockTimeMs: number;
  recordPath: string;
  deploymentPath: string;
};

/** Where the drill runs: a devnet it starts itself, or an existing chain with the world deployed. */
export type DrillTarget =
  | { kind: "local"; blockTimeMs: number }
  | {
      kind: "rpc";
      rpcUrl: string;
      wsUrl: string;
      relayUrl: string;
      deployment: Deployment;
      /** Environment holding the keys (see `drillKeysFromEnv`). */
      env: Readonly<Record<string, string | undefined>>;
    };

export type DrillOptions = {
  target: DrillTarget;
  /** Where the deployment, the incident record and the daemon log go. */
  outDir: string;
  logger: Logger;
  progress: (line: string) => void;
  scenarios?: readonly Scenario[];
};

const now = () => performance.timeOrigin + performance.now();

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function signScenarioTx(devnet: Devnet, tx: ScenarioTx): Promise<Hex> {
  const wallet = createWalletClient({
    account: tx.account,
    chain: devnet.chain,
    transport: http(devnet.rpcUrl),
  });
  const block = await devnet.publicClient.getBlock();
  const nonce = await devnet.publicClient.getTransactionCount({
    address: tx.account.address,
    blockTag: "pending",
  });
  const tip = parseGwei(String(tx.tipGwei));
  const request = await wallet.prepareTransactionRequest({
    account: tx.account,
    chain: devnet.chain,
    ...(tx.to ? { to: tx.to } : {}),
    data: tx.data,
    nonce,
    gas: tx.gas,
    maxPriorityFeePerGas: tip,
    maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + tip,
    type: "eip1559",
  });
  return wallet.signTransaction(request as never);
}

/**
 * The fire drill on a local devnet: devnet + relay + daemon, benign traffic and attacks sent at
 * the start of a slot, and for each what the daemon decided, whether a pause landed ahead of it,
 * and what was lost.
 */
/** Environment variables holding the drill's keys when it runs against an existing chain. */
export const DRILL_KEY_ENV = {
  sentinel: "VIGIL_SENTINEL_KEY",
  trader: "VIGIL_DRILL_TRADER_KEY",
  whale: "VIGIL_DRILL_WHALE_KEY",
  arbitrageur: "VIGIL_DRILL_ARBITRAGEUR_KEY",
  attacker: "VIGIL_DRILL_ATTACKER_KEY",
  safeOwners: "VIGIL_DRILL_SAFE_OWNER_KEYS",
} as const;

/** Reads the drill's keys; one error lists every missing or malformed variable (never values). */
export function drillKeysFromEnv(env: Readonly<Record<string, string | undefined>>): {
  sentinelKey: Hex;
  accounts: DrillAccounts;
} {
  const problems: string[] = [];
  const key = (name: string): Hex => {
    const v = env[name]?.trim();
    const hex = v && !v.startsWith("0x") ? `0x${v}` : v;
    if (!hex || !/^0x[0-9a-fA-F]{64}$/.test(hex)) {
      problems.push(`${name} must hold a private key (64 hex digits)`);
      return `0x${"1".padStart(64, "0")}`;
    }
    return hex as Hex;
  };
  const sentinelKey = key(DRILL_KEY_ENV.sentinel);
  const trader = privateKeyToAccount(key(DRILL_KEY_ENV.trader));
  const whale = privateKeyToAccount(key(DRILL_KEY_ENV.whale));
  const arbitrageur = privateKeyToAccount(key(DRILL_KEY_ENV.arbitrageur));
  const attacker = privateKeyToAccount(key(DRILL_KEY_ENV.attacker));
  const owners = (env[DRILL_KEY_ENV.safeOwners] ?? "").split(",").filter((k) => k.trim() !== "");
  if (owners.length !== 2)
    problems.push(`${DRILL_KEY_ENV.safeOwners} must hold two Safe owners' keys, comma-separated`);
  const ownerAccount = (i: number) => {
    const v = owners[i]?.trim() ?? "";
    const hex = v.startsWith("0x") ? v : `0x${v}`;
    if (owners.length === 2 && !/^0x[0-9a-fA-F]{64}$/.test(hex))
      problems.push(`${DRILL_KEY_ENV.safeOwners} item ${i + 1} is not a private key`);
    return privateKeyToAccount(/^0x[0-9a-fA-F]{64}$/.test(hex) ? (hex as Hex) : `0x${"1".padStart(64, "0")}`);
  };
  const safeOwners: [Account, Account] = [ownerAccount(0), ownerAccount(1)];
  if (problems.length > 0) {
    throw new InputError("vigil drill --rpc needs the drill's keys in the environment", {
      details: problems,
      hint: "export the variables (the devnet's dev keys work against `vigil devnet`)",
    });
  }
  return {
    sentinelKey,
    accounts: { trader, whale, arbitrageur, attacker, submitter: trader, safeOwners },
  };
}

/** The drill's actors on the local devnet: Anvil's public dev accounts. */
export function devnetDrillAccounts(): DrillAccounts {
  return {
    trader: devnetAccount("trader"),
    whale: devnetAccount("whale"),
    arbitrageur: devnetAccount("arbitrageur"),
    attacker: devnetAccount("attacker"),
    submitter: devnetAccount("deployer"),
    safeOwners: [devnetAccount("safeOwner1"), devnetAccount("safeOwner2")],
  };
}

type DrillChain = {
  devnet: Devnet;
  deployment: Deployment;
  rpcUrl: string;
  wsUrl: string;
  relayUrl: string;
  accounts: DrillAccounts;
  sentinelKey: Hex;
  /** Resolves when the next block exists. */
  nextBlock(): Promise<void>;
  stop(): Promise<void>;
};

async function openChain(options: DrillOptions, deploymentPath: string): Promise<DrillChain> {
  const t = options.target;
  if (t.kind === "local") {
    options.progress(`starting devnet (block time ${t.blockTimeMs} ms) and deploying the world`);
    const net = await startDevnet({
      blockTimeMs: t.blockTimeMs,
      deploymentFile: deploymentPath,
      logger: options.logger,
      progress: (step) => options.progress(`  deploying ${step}`),
    });
    return {
      devnet: withExternalBlocks(net.devnet),
      deployment: net.deployment,
      rpcUrl: net.anvil.rpcUrl,
      wsUrl: net.anvil.wsUrl,
      relayUrl: net.relayUrl,
      accounts: devnetDrillAccounts(),
      sentinelKey: devnetPrivateKey("sentinel"),
      nextBlock: async () => {
        await net.nextBlock();
      },
      stop: () => net.stop(),
    };
  }
  const { sentinelKey, accounts } = drillKeysFromEnv(t.env);
  options.progress(`connecting to ${new URL(t.rpcUrl).origin}`);
  const devnet = withExternalBlocks(await connectDevnet(t.rpcUrl));
  if (Number(devnet.chain.id) !== t.deployment.chainId) {
    throw new InputError(
      `the node is chain ${devnet.chain.id} but the deployment file is for chain ${t.deployment.chainId}`,
    );
  }
  return {
    devnet,
    deployment: t.deployment,
    rpcUrl: t.rpcUrl,
    wsUrl: t.wsUrl,
    relayUrl: t.relayUrl,
    accounts,
    sentinelKey,
    nextBlock: async () => {
      const start = await devnet.publicClient.getBlockNumber();
      while ((await devnet.publicClient.getBlockNumber()) <= start)
        await new Promise((r) => setTimeout(r, 50));
    },
    stop: async () => {},
  };
}

/**
 * The fire drill: a chain with the world deployed (a devnet it starts, or an existing chain),
 * the daemon, benign traffic and attacks sent at the start of a slot, and for each what the
 * daemon decided, whether a pause landed ahead of it, and what was lost.
 */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const { progress, logger } = options;
  const scenarios = options.scenarios ?? DRILL_SCENARIOS;
  fs.mkdirSync(options.outDir, { recursive: true });
  const deploymentPath = path.join(options.outDir, "devnet.json");
  const recordPath = path.join(options.outDir, "incidents.jsonl");
  fs.rmSync(recordPath, { force: true });
  const chain = await openChain(options, deploymentPath);
  const blockTimeMs = options.target.kind === "local" ? options.target.blockTimeMs : 12_000;
  try {
    const d = chain.deployment;
    const config = parseConfig({
      chain: { rpcUrl: chain.rpcUrl, wsUrl: chain.wsUrl, chainId: d.chainId },
      guardian: d.guardian.address,
      targets: [{ address: d.market, name: "VulnerableSpotPriceLendingMarket" }],
      sentinel: { privateKeyEnv: DRILL_KEY_ENV.sentinel },
      relays: [{ url: chain.relayUrl, name: "relay" }],
      simulator: { forks: 2 },
      record: { path: recordPath },
      // No metrics port: a drill must not collide with a daemon running on this machine.
      metrics: { port: 0 },
    });
    progress("starting the guardian daemon");
    const guardian = await startGuardian({ config, sentinelKey: chain.sentinelKey, logger });
    const decisions = new Map<Hex, Decided>();
    const resolved = new Map<Hex, Resolved>();
    guardian.onDecision((x) => decisions.set(x.tx.hash, x));
    guardian.onResolved((x) => resolved.set(x.tx.hash, x));
    try {
      const ctx: DrillContext = {
        devnet: chain.devnet,
        deployment: d,
        accounts: chain.accounts,
        helpers: new Map(),
      };
      const results: ScenarioResult[] = [];
      for (const [i, s] of scenarios.entries()) {
        progress(`[${i + 1}/${scenarios.length}] ${s.kind} ${s.name}: ${s.description}`);
        results.push(await playScenario(s, ctx, chain, { decisions, resolved, blockTimeMs, progress }));
      }
      const attacks = results.filter((r) => r.kind === "attack");
      const benign = results.filter((r) => r.kind === "benign");
      return {
        scenarios: results,
        summary: {
          attacks: attacks.length,
          prevented: attacks.filter((r) => r.prevented).length,
          benign: benign.length,
          falsePauses: benign.filter((r) => r.paused).length,
          detected: attacks.filter((r) => r.detected).length,
          missed: attacks.filter((r) => !r.prevented).length,
        },
        blockTimeMs,
        recordPath,
        deploymentPath,
      };
    } finally {
      await guardian.stop();
    }
  } finally {
    await chain.stop();
  }
}

type Watch = {
  decisions: Map<Hex, Decided>;
  resolved: Map<Hex, Resolved>;
  blockTimeMs: number;
  progress: (line: string) => void;
};

async function playScenario(
  s: Scenario,
  ctx: DrillContext,
  chain: Pick<DrillChain, "nextBlock">,
  w: Watch,
): Promise<ScenarioResult> {
  const d = ctx.deployment;
  const { publicClient } = ctx.devnet;
  const readMarket = <T>(functionName: "paused" | "liquidity") =>
    publicClient.readContract({
      address: d.market,
      abi: VulnerableSpotPriceLendingMarket.abi,
      functionName,
    }) as Promise<T>;

  if (await readMarket<boolean>("paused")) {
    w.progress("  governance lifts the previous pause through the Safe (2 of 3 owners sign)");
    await liftThroughSafe(ctx, d.market);
  }
  await s.prepare?.(ctx);
  const tx = await s.transaction(ctx);
  const before = await readMarket<bigint>("liquidity");
  // Send at the start of a slot, as an attacker racing the next block would.
  await chain.nextBlock();
  const raw = await signScenarioTx(ctx.devnet, tx);
  const hash = keccak256(raw);
  const sentAt = now();
  await publicClient.sendRawTransaction({ serializedTransaction: raw });
  const receipt = await publicClient.waitForTransactionReceipt({
    hash,
    pollingInterval: 25,
    timeout: 60_000,
  });
  const decided = await waitFor(() => w.decisions.get(hash), 2 * w.blockTimeMs);
  let outcome: Resolved | undefined;
  if (decided?.verdict.decision === "pause")
    outcome = await waitFor(() => w.resolved.get(hash), 4 * w.blockTimeMs + 2000);
  const after = await readMarket<bigint>("liquidity");
  const lost = before > after ? before - after : 0n;
  const paused = outcome?.outcome === "paused";
  const result: ScenarioResult = {
    name: s.name,
    kind: s.kind,
    description: s.description,
    txHash: hash,
    detected: decided !== undefined && decided.verdict.decision !== "ignore",
    decision: decided?.verdict.decision ?? "unseen",
    score: decided ? Number(decided.verdict.score.toFixed(4)) : 0,
    reasons: decided?.verdict.reasons.map((r) => r.rule) ?? [],
    paused,
    prevented: s.kind === "attack" && lost === 0n,
    valueLostWei: lost.toString(),
    minedBlock: receipt.blockNumber.toString(),
    txStatus: receipt.status,
    outcome: outcome?.outcome,
    timings: {
      seenMs: 0,
      simulatedMs: round(decided?.timings.simulatedMs),
      decidedMs: round(decided?.timings.scoredMs),
      bundleSentMs: round(decided?.timings.bundleSentMs),
      includedBlock: outcome?.includedBlock?.toString() ?? null,
      sentToSeenMs: decided ? round(decided.timings.seenAt - sentAt) : null,
    },
  };
  w.progress(`  ${describe(result)}`);
  return result;
}

const round = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 10) / 10);

function describe(r: ScenarioResult): string {
  const t = r.timings;
  const decision = `${r.decision} (score ${r.score.toFixed(2)}${r.reasons.length ? `: ${r.reasons.slice(0, 3).join(", ")}` : ""})`;
  if (r.kind === "attack") {
    return r.prevented
      ? `PREVENTED: ${decision}; pause landed in block ${t.includedBlock} ahead of the attack; bundle sent ${t.bundleSentMs} ms after first sight`
      : `NOT PREVENTED: ${decision}; ${r.valueLostWei} USD units lost (tx ${r.txStatus} in block ${r.minedBlock})`;
  }
  return r.paused ? `FALSE PAUSE: ${decision}` : `ok, not paused: ${decision}`;
}

async function liftThroughSafe(ctx: DrillContext, target: Address): Promise<void> {
  const d = ctx.deployment;
  const data = encodeFunctionData({ abi: Guardian.abi, functionName: "liftPause", args: [target] });
  const tx = safeCall(d.guardian.address, data, await safeNonce(ctx.devnet, d.safe.address));
  const signatures = await Promise.all(
    ctx.accounts.safeOwners.map((o) => signSafeTx(o, d.safe.address, d.chainId, tx)),
  );
  await execSafeTx(ctx.devnet, ctx.accounts.submitter, d.safe.address, tx, signatures);
}

/** Readable summary of a drill. */
export function formatDrillReport(r: DrillReport): string {
  const lines = ["", "Vigil fire drill", ""];
  const width = Math.max(...r.scenarios.map((s) => s.name.length));
  lines.push(`  ${"scenario".padEnd(width)}  kind    decision  score  result          seen→sent  block`);
  for (const s of r.scenarios) {
    const result =
      s.kind === "attack"
        ? s.prevented
          ? "prevented"
          : "NOT PREVENTED"
        : s.paused
          ? "FALSE PAUSE"
          : "left alone";
    lines.push(
      `  ${s.name.padEnd(width)}  ${s.kind.padEnd(6)}  ${s.decision.padEnd(8)}  ${s.score.toFixed(2).padStart(5)}  ${result.padEnd(14)}  ${(s.timings.bundleSentMs === null ? "-" : `${s.timings.bundleSentMs} ms`).padStart(9)}  ${s.minedBlock}`,
    );
  }
  const m = r.summary;
  lines.push(
    "",
    `attacks prevented: ${m.prevented}/${m.attacks}    false pauses: ${m.falsePauses}/${m.benign} benign`,
    `incident record: ${r.recordPath}`,
    "",
  );
  return lines.join("\n");
}
