import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { getAddress, type Hex, keccak256, toHex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckResult, runConfigCheck } from "../src/cli/config-check.ts";
import { createKeystoreFile } from "../src/cli/keystore.ts";
import { buildShadowReport, formatShadowReport } from "../src/cli/shadow-report.ts";
import { devnetAccount, devnetPrivateKey } from "../src/devnet/accounts.ts";
import { type RunningDevnet, startDevnet } from "../src/devnet/devnet.ts";
import { loadConfig } from "../src/internal/config.ts";
import { loadSentinelKey } from "../src/internal/keystore.ts";
import { silentLogger } from "../src/internal/logger.ts";
import { freePort } from "../src/internal/ports.ts";
import { createIncidentLog, type IncidentOpened } from "../src/record/incidents.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-ops-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs `vigil ...` as a child process; `input(stdout, write)` may answer prompts. */
function vigil(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/vigil.js", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, VIGIL_KEYSTORE_PASSWORD: undefined, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const byName = (checks: readonly CheckResult[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

describe("vigil config check against a devnet", () => {
  let net: RunningDevnet;
  const env = { VIGIL_SENTINEL_KEY: devnetPrivateKey("sentinel") };
  let good: Record<string, unknown>;
  const write = (name: string, json: unknown): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(json, null, 2));
    return file;
  };

  beforeAll(async () => {
    net = await startDevnet({ blockTimeMs: 0, logger: silentLogger() });
    const d = net.deployment;
    good = {
      chain: { rpcUrl: net.anvil.rpcUrl, wsUrl: net.anvil.wsUrl, chainId: d.chainId },
      guardian: d.guardian.address,
      targets: [{ address: d.market, name: "market" }],
      sentinel: { privateKeyEnv: "VIGIL_SENTINEL_KEY" },
      relays: [{ url: net.relayUrl, name: "devnet" }],
      record: { path: path.join(dir, "good", "incidents.jsonl") },
      metrics: { port: 0 },
    };
  });
  afterAll(async () => {
    await net?.stop();
  });

  it("passes a good config, checking the chain, Guardian, sentinel, targets and relay", async () => {
    const report = await runConfigCheck(write("good.json", good), { env });
    expect(report.checks.filter((c) => c.status !== "ok")).toEqual([]);
    expect(report.ok).toBe(true);
    const c = byName(report.checks);
    expect(Object.keys(c)).toEqual([
      "config",
      "rpc",
      "ws",
      "guardian",
      "sentinel key",
      "sentinel registered",
      "sentinel balance",
      "target market",
      "relay devnet",
      "record",
      "metrics",
    ]);
    expect(c.rpc?.detail).toMatch(/chain 31337, block \d+/);
    expect(c.guardian?.detail).toContain(`governance ${net.deployment.safe.address}`);
    expect(c["sentinel registered"]?.detail).toMatch(/budget 20, 20 left in this window/);
    expect(c["relay devnet"]?.detail).toMatch(/answered in \d+ ms/);
    expect(c["sentinel key"]?.detail).toContain(devnetAccount("sentinel").address);
    expect(JSON.stringify(report)).not.toContain(env.VIGIL_SENTINEL_KEY.slice(2));
  });

  it("fails a broken config check by check, each with what to fix", async () => {
    const d = net.deployment;
    const brokenRecord = path.join(dir, "broken.jsonl");
    fs.writeFileSync(brokenRecord, '{"not":"a record"}\n');
    const deadRelay = `http://127.0.0.1:${await freePort()}`;
    const file = write("broken.json", {
      ...good,
      targets: [
        { address: d.market, name: "market" },
        { address: d.tokens.usd, name: "usd" },
        { address: "0x00000000000000000000000000000000deadbeef", name: "ghost" },
      ],
      relays: [{ url: deadRelay, name: "dead" }],
      record: { path: brokenRecord },
      alerts: {
        webhooks: [
          { url: "https://events.pagerduty.com/v2/enqueue", format: "pagerduty", routingKeyEnv: "PD_KEY" },
        ],
      },
    });
    const report = await runConfigCheck(file, {
      env: { VIGIL_SENTINEL_KEY: devnetPrivateKey("attacker") },
      timeoutMs: 2000,
    });
    expect(report.ok).toBe(false);
    const c = byName(report.checks);
    const failed = report.checks.filter((x) => x.status === "fail").map((x) => x.name);
    expect(failed).toEqual([
      "sentinel registered",
      "target usd",
      "target ghost",
      "relay dead",
      "webhook 0 (pagerduty)",
      "record",
    ]);
    expect(c["sentinel registered"]?.detail).toBe(
      `${devnetAccount("attacker").address} is not a sentinel of the Guardian: its pauses would revert`,
    );
    expect(c["sentinel registered"]?.fix).toMatch(
      /vigil governance add-sentinel 0x[0-9a-fA-F]{40} <budget> --config/,
    );
    expect(c["target usd"]?.detail).toMatch(/is not a target of the Guardian/);
    expect(c["target usd"]?.fix).toMatch(/vigil governance add-target/);
    expect(c["target ghost"]?.detail).toBe(
      `no contract at ${getAddress("0x00000000000000000000000000000000deadbeef")}`,
    );
    expect(c["relay dead"]?.detail).toMatch(
      /no answer from http:\/\/127\.0\.0\.1:\d+ \(fetch failed: ECONNREFUSED\)/,
    );
    expect(c["webhook 0 (pagerduty)"]?.detail).toMatch(/\$PD_KEY is not set/);
    expect(c.record?.detail).toMatch(/broken hash chain at line 1/);
    expect(c.record?.fix).toMatch(/move it aside/);
  });

  it("skips what depends on a chain that does not match, and says why", async () => {
    const wrongChain = write("wrong-chain.json", {
      ...good,
      chain: { ...(good.chain as object), chainId: 1 },
    });
    const report = await runConfigCheck(wrongChain, { env });
    const c = byName(report.checks);
    expect(c.rpc).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(/is on chain 31337, the config says 1/),
      fix: "set chain.chainId to 31337, or point chain.rpcUrl at a node of chain 1",
    });
    expect(c.ws?.status).toBe("fail");
    expect(c.guardian).toMatchObject({ status: "skip", detail: "needs a working rpc" });
    expect(c["target market"]?.status).toBe("skip");

    const noGuardian = write("no-guardian.json", { ...good, guardian: net.deployment.tokens.usd });
    const g = byName((await runConfigCheck(noGuardian, { env })).checks);
    expect(g.guardian).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(/is not a Vigil Guardian/),
    });
    expect(g["sentinel registered"]?.status).toBe("skip");

    const noKey = byName((await runConfigCheck(write("no-key.json", good), { env: {} })).checks);
    expect(noKey["sentinel key"]).toMatchObject({
      status: "fail",
      detail: "Environment variable VIGIL_SENTINEL_KEY is not set (sentinel.privateKeyEnv)",
    });
  });

  it("reports an invalid file as one failing check, and the command exits 1 with the fixes", async () => {
    const invalid = write("invalid.json", { ...good, guardian: "0x123", relays: [] });
    const report = await runConfigCheck(invalid, { env });
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]?.detail).toMatch(/2 problems:\n- guardian must be a 20-byte hex address/);

    const run = await vigil(
      [
        "config",
        "check",
        "--config",
        write("broken-cli.json", { ...good, targets: [{ address: net.deployment.tokens.usd }] }),
      ],
      env,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}target 0x5FbDB2315678afecb367f032d93F642f64180aa3/);
    expect(run.stdout).toMatch(/fix: grant the Guardian the target's pause role/);
    expect(run.stdout).toMatch(/1 check\(s\) failed: Vigil would not work as configured\./);
    const ok = await vigil(["config", "check", "--config", path.join(dir, "good.json"), "--json"], env);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { ok: boolean }).ok).toBe(true);
  });
});

describe("vigil keystore create", () => {
  const KEY: Hex = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
  const PASSWORD = "correct horse battery staple";

  it("encrypts a key from a variable; the daemon's loader decrypts it", async () => {
    const out = path.join(dir, "ks", "sentinel.json");
    const result = await createKeystoreFile({
      out,
      keyEnv: "MY_KEY",
      env: { MY_KEY: KEY, VIGIL_KEYSTORE_PASSWORD: PASSWORD },
      scryptN: 1024,
    });
    expect(result).toEqual({ address: privateKeyToAddress(KEY), path: out, generated: false });
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(await loadSentinelKey({ keystore: out, passwordEnv: "PW" }, { PW: PASSWORD })).toBe(KEY);
    await expect(
      createKeystoreFile({ out, keyEnv: "MY_KEY", env: { MY_KEY: KEY, VIGIL_KEYSTORE_PASSWORD: PASSWORD } }),
    ).rejects.toThrow(/Refusing to overwrite/);
  });

  it("generates a key when none is given, and refuses weak or missing passwords", async () => {
    const out = path.join(dir, "ks", "generated.json");
    const result = await createKeystoreFile({
      out,
      env: { VIGIL_KEYSTORE_PASSWORD: PASSWORD },
      scryptN: 1024,
    });
    expect(result.generated).toBe(true);
    const key = await loadSentinelKey({ keystore: out, passwordEnv: "PW" }, { PW: PASSWORD });
    expect(privateKeyToAddress(key)).toBe(result.address);

    const other = path.join(dir, "ks", "nope.json");
    await expect(
      createKeystoreFile({ out: other, env: { VIGIL_KEYSTORE_PASSWORD: "short" } }),
    ).rejects.toThrow(/password is too short/);
    await expect(createKeystoreFile({ out: other, env: {} })).rejects.toThrow(
      /VIGIL_KEYSTORE_PASSWORD is not set and there is no terminal/,
    );
    await expect(
      createKeystoreFile({ out: other, keyEnv: "MISSING", env: { VIGIL_KEYSTORE_PASSWORD: PASSWORD } }),
    ).rejects.toThrow(/Environment variable MISSING is not set \(--key-env\)/);
    await expect(
      createKeystoreFile({ out: other, env: {}, prompt: async () => ["one password", "another one"] }),
    ).rejects.toThrow(/the two passwords differ/);
    expect(fs.existsSync(other)).toBe(false);
  });

  it("the command prints only the address: never the key or the password", async () => {
    const out = path.join(dir, "ks", "cli.json");
    const run = await vigil(["keystore", "create", "--out", out, "--key-env", "MY_KEY"], {
      MY_KEY: KEY,
      VIGIL_KEYSTORE_PASSWORD: PASSWORD,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${privateKeyToAddress(KEY)}\n`);
    for (const secret of [KEY.slice(2), PASSWORD]) {
      expect(run.stdout + run.stderr).not.toContain(secret);
      expect(fs.readFileSync(out, "utf8")).not.toContain(secret);
    }
    const bad = await vigil(
      ["keystore", "create", "--out", path.join(dir, "ks", "bad.json"), "--key-env", "MY_KEY"],
      {
        MY_KEY: `${KEY.slice(0, -1)}x`,
        VIGIL_KEYSTORE_PASSWORD: PASSWORD,
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /the private key is invalid: the value has characters that are not hex digits/,
    );
    expect(bad.stderr).not.toContain(KEY.slice(2, 30));
  });

  const hasScript = spawnSync("script", ["--version"]).status === 0;
  it.skipIf(!hasScript)("asks for the password on a terminal without echoing it", async () => {
    const out = path.join(dir, "ks", "tty.json");
    // `script` gives the command a pseudo-terminal; its output is what a user would see.
    const child = spawn(
      "script",
      ["-qfec", `${process.execPath} bin/vigil.js keystore create --out ${out}`, "/dev/null"],
      {
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...process.env, VIGIL_KEYSTORE_PASSWORD: undefined },
      },
    );
    let seen = "";
    child.stdout.on("data", (c: Buffer) => {
      seen += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    const waitFor = async (text: string) => {
      for (let i = 0; i < 300 && !seen.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await waitFor("Keystore password:");
    child.stdin.write(`${PASSWORD}\r`);
    await waitFor("Repeat the password:");
    child.stdin.write(`${PASSWORD}\r`);
    expect(await exited).toBe(0);
    expect(seen).not.toContain(PASSWORD);
    const address = /0x[0-9a-fA-F]{40}/.exec(seen)?.[0];
    const key = await loadSentinelKey({ keystore: out, passwordEnv: "PW" }, { PW: PASSWORD });
    expect(privateKeyToAddress(key)).toBe(address);
  });
});

describe("vigil shadow-report", () => {
  const MARKET = "0xa85233C63b9Ee964Add6F2cffe00Fd84eb32338f";
  const VAULT = "0x0000000000000000000000000000000000002004";
  const T0 = Date.UTC(2025, 4, 1, 12, 0, 0);
  let records: string;

  function opened(
    n: number,
    decision: "alert" | "pause",
    score: number,
    targets: string[],
    reasons: [string, number][],
  ): IncidentOpened {
    return {
      kind: "opened",
      incidentId: keccak256(toHex(`incident-${n}`)),
      at: T0 + n * 60_000,
      decision,
      score,
      reasons: reasons.map(([rule, contribution]) => ({ rule, contribution, detail: `${rule} fired` })),
      tx: {
        hash: keccak256(toHex(`tx-${n}`)),
        from: devnetAccount("attacker").address,
        to: MARKET as Hex,
        nonce: n,
      },
      targets: targets as Hex[],
      simulation: {},
      features: {},
      versions: { code: "vigil-test", config: "abc", model: "rules-1" },
      timings: { seenAt: 0, simulatedMs: 8, scoredMs: 9.4 },
    };
  }

  beforeAll(async () => {
    records = path.join(dir, "shadow", "incidents.jsonl");
    const log = await createIncidentLog(records);
    const events = [
      opened(
        1,
        "pause",
        0.93,
        [MARKET],
        [
          ["protected-read-manipulated", 0.45],
          ["flash-loan", 0.2],
          ["protected-drained", 0.28],
        ],
      ),
      opened(2, "alert", 0.52, [MARKET], [["flash-loan", 0.52]]),
      opened(
        3,
        "pause",
        0.81,
        [VAULT],
        [
          ["protected-drained", 0.5],
          ["fresh-contract", 0.31],
        ],
      ),
    ];
    for (const e of events) await log.append(e);
    for (const e of [events[0], events[2]]) {
      if (e)
        await log.append({
          kind: "resolved",
          incidentId: e.incidentId,
          at: e.at + 500,
          outcome: "shadow",
          timings: { resolvedMs: 20 },
        });
    }
    await log.close();
  });

  it("summarises what would have been paused, when, why, per target and per rule", async () => {
    const r = await buildShadowReport(records);
    expect(r.chain).toEqual({ ok: true, lines: 5 });
    expect(r.totals).toEqual({ incidents: 3, wouldPause: 2, alerts: 1, unopened: 0 });
    expect(r.period).toEqual({
      from: new Date(T0 + 60_000).toISOString(),
      to: new Date(T0 + 180_000).toISOString(),
    });
    expect(r.outcomes).toEqual({ shadow: 2 });
    expect(r.pauses.map((p) => [p.score, p.targets, p.outcome, p.decidedInMs])).toEqual([
      [0.93, [MARKET], "shadow", 9],
      [0.81, [VAULT], "shadow", 9],
    ]);
    expect(r.pauses[0]?.topReasons.map((x) => x.rule)).toEqual([
      "protected-read-manipulated",
      "protected-drained",
      "flash-loan",
    ]);
    expect(r.targets).toEqual([
      expect.objectContaining({ target: MARKET, incidents: 2, wouldPause: 1, alerts: 1, maxScore: 0.93 }),
      expect.objectContaining({ target: VAULT, incidents: 1, wouldPause: 1, alerts: 0, maxScore: 0.81 }),
    ]);
    expect(r.targets[0]?.topRules[0]).toEqual({ rule: "flash-loan", count: 2 });
    expect(r.rules.find((x) => x.rule === "flash-loan")).toEqual({
      rule: "flash-loan",
      incidents: 2,
      inPauses: 1,
      meanContribution: 0.36,
    });
    expect(r.scores.find((b) => b.band === "0.9-1.0")).toEqual({ band: "0.9-1.0", alerts: 0, pauses: 1 });
    expect(r.scores.find((b) => b.band === "0.5-0.6")).toEqual({ band: "0.5-0.6", alerts: 1, pauses: 0 });

    const text = formatShadowReport(r);
    expect(text).toContain("record verified: 5 line(s), hash chain intact");
    expect(text).toContain("3 incident(s): 2 would have paused, 1 alert(s) only");
    expect(text).toContain(
      `${new Date(T0 + 60_000).toISOString()}  score 0.93  shadow  decided 9 ms after first sight`,
    );
    expect(text).toContain("why      protected-read-manipulated (+0.45): protected-read-manipulated fired");
  });

  it("the command prints JSON, and refuses a record whose hash chain is broken", async () => {
    const run = await vigil(["shadow-report", "--records", records, "--json"]);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { totals: { wouldPause: number } }).totals.wouldPause).toBe(2);

    const tampered = path.join(dir, "shadow", "tampered.jsonl");
    fs.writeFileSync(tampered, fs.readFileSync(records, "utf8").replace('"score":0.93', '"score":0.13'));
    const bad = await vigil(["shadow-report", "--records", tampered]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/has a broken hash chain/);
    const partial = await buildShadowReport(tampered, { allowBroken: true });
    expect(partial.chain.ok).toBe(false);
    expect(partial.totals.incidents).toBe(0);
  });
});

describe("the example config and the systemd unit", () => {
  it("the production-shaped example config is valid", () => {
    const config = loadConfig("examples/vigil.example.json");
    expect(config.response.mode).toBe("shadow");
    expect(config.alerts.webhooks.map((w) => w.format)).toEqual(["slack", "pagerduty", "telegram"]);
    expect(config.metrics).toEqual({ port: 9464, host: "127.0.0.1" });
  });

  it("the unit restarts on failure, stops with SIGTERM and reads secrets from an EnvironmentFile", () => {
    const unit = fs.readFileSync("deploy/vigil.service", "utf8");
    for (const line of [
      "Restart=on-failure",
      "KillSignal=SIGTERM",
      "EnvironmentFile=/etc/vigil/vigil.env",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "StateDirectory=vigil",
    ]) {
      expect(unit.split("\n")).toContain(line);
    }
    expect(unit).toMatch(/^TimeoutStopSec=\d+$/m);
    // Node's own flags (the heap limit) come before the script, or Node would pass them to vigil.
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node --max-old-space-size=\d+ \/opt\/vigil\/bin\/vigil\.js run --config \/etc\/vigil\/vigil\.json$/m,
    );
  });
});
