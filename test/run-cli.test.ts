import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { encodeFunctionData, keccak256, parseUnits } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpotPriceAttacker } from "../src/contracts/generated/artifacts.ts";
import { devnetAccount, devnetPrivateKey } from "../src/devnet/accounts.ts";
import { deployAndMine } from "../src/devnet/chain.ts";
import { type RunningDevnet, startDevnet } from "../src/devnet/devnet.ts";
import { silentLogger } from "../src/internal/logger.ts";
import { readIncidents } from "../src/record/incidents.ts";
import { marketPaused, signTx } from "./helpers.ts";

// `vigil run` as a user runs it: a config file, the key in the environment, signals to stop.
describe("vigil run --shadow (the daemon as a process)", () => {
  let net: RunningDevnet;
  let dir: string;

  beforeAll(async () => {
    net = await startDevnet({ blockTimeMs: 0, logger: silentLogger() });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-run-"));
  });
  afterAll(async () => {
    await net?.stop();
  });

  it("records what it would pause, sends nothing, never logs the key, and exits cleanly on SIGTERM", async () => {
    const d = net.deployment;
    const configPath = path.join(dir, "vigil.json");
    fs.writeFileSync(
      configPath,
      JSON.stringify({
        chain: { rpcUrl: net.anvil.rpcUrl, wsUrl: net.anvil.wsUrl, chainId: d.chainId },
        guardian: d.guardian.address,
        targets: [{ address: d.market }],
        sentinel: { privateKeyEnv: "TEST_SENTINEL_KEY" },
        relays: [{ url: net.relayUrl }],
        simulator: { forks: 1 },
        record: { path: "incidents.jsonl" },
        log: { level: "debug" },
        metrics: { port: 0 },
      }),
    );
    const key = devnetPrivateKey("sentinel");
    const child = spawn(process.execPath, ["bin/vigil.js", "run", "--config", configPath, "--shadow"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TEST_SENTINEL_KEY: key },
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    for (let i = 0; i < 300 && !output.includes("Started guardian"); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain("Started guardian");

    const attacker = devnetAccount("attacker");
    const contract = await deployAndMine(net.devnet, attacker, SpotPriceAttacker, []);
    const data = encodeFunctionData({
      abi: SpotPriceAttacker.abi,
      functionName: "attackWithFlashLender",
      args: [d.flashLender, d.market, parseUnits("4000000", 6)],
    });
    const raw = await signTx(net.devnet, attacker, { to: contract, data, tipGwei: 30, gas: 3_000_000n });
    await net.devnet.publicClient.sendRawTransaction({ serializedTransaction: raw });
    const record = path.join(dir, "incidents.jsonl");
    let outcome: string | undefined;
    for (let i = 0; i < 200 && outcome === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if (fs.existsSync(record)) outcome = (await readIncidents(record, { allowBroken: true }))[0]?.outcome;
    }
    expect(outcome).toBe("shadow");
    const built = await net.buildBlock();
    expect(built.included).toEqual([]); // no bundle was sent
    expect((await net.devnet.publicClient.getTransactionReceipt({ hash: keccak256(raw) })).status).toBe(
      "success",
    );
    expect(await marketPaused(net.devnet, d.market)).toBe(false);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);

    // The record holds the raw transaction; `vigil simulate` replays the mined attack and explains it.
    const [incident] = await readIncidents(record);
    expect(incident?.opened?.tx.raw).toBe(raw);
    const sim = spawn(
      process.execPath,
      ["bin/vigil.js", "simulate", keccak256(raw), "--config", configPath, "--json"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, TEST_SENTINEL_KEY: key },
      },
    );
    let simOut = "";
    sim.stdout.on("data", (c: Buffer) => {
      simOut += c.toString();
    });
    const simCode = await new Promise<number | null>((resolve) => sim.once("exit", (c) => resolve(c)));
    expect(simCode).toBe(3); // non-ignore decisions exit 3
    const explained = JSON.parse(simOut) as {
      decision: string;
      reasons: { rule: string }[];
      stateBlock: string;
      stateChanges: { address: string; slotsChanged: number }[];
    };
    expect(explained.decision).toBe("pause");
    // The post-mortem shows what the attack changed in the market's own storage (its loan book).
    expect(explained.stateChanges.find((c) => c.address === d.market)?.slotsChanged).toBeGreaterThan(0);
    expect(explained.reasons.map((r) => r.rule).find((r) => !r.startsWith("model:"))).toBe(
      "protected-read-manipulated",
    );
    expect(BigInt(explained.stateBlock)).toBe(built.number - 1n);
    for (const text of [output, fs.readFileSync(record, "utf8")]) {
      expect(text).not.toContain(key.slice(2));
      expect(text.toLowerCase()).not.toContain(key.slice(2).toLowerCase());
    }
  });

  it("refuses to start without the key, naming the variable", async () => {
    const configPath = path.join(dir, "vigil.json");
    const child = spawn(process.execPath, ["bin/vigil.js", "run", "--config", configPath], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TEST_SENTINEL_KEY: "" },
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/TEST_SENTINEL_KEY/);
  });
});
