import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devnetPrivateKey } from "../src/devnet/accounts.ts";
import { type RunningDevnet, startDevnet } from "../src/devnet/devnet.ts";
import { DRILL_KEY_ENV, drillKeysFromEnv, runDrill } from "../src/drill/drill.ts";
import { DRILL_SCENARIOS } from "../src/drill/scenarios.ts";
import { silentLogger } from "../src/internal/logger.ts";

// `vigil drill --rpc`: the drill against a chain it did not start (here a `vigil devnet`-style
// chain whose relay makes a block every 600 ms), with every key taken from the environment.
describe("drill against an existing chain", () => {
  let net: RunningDevnet;
  beforeAll(async () => {
    net = await startDevnet({ blockTimeMs: 600, logger: silentLogger() });
  });
  afterAll(async () => {
    await net?.stop();
  });

  it("prevents the attack using keys from the environment", async () => {
    const env = {
      [DRILL_KEY_ENV.sentinel]: devnetPrivateKey("sentinel"),
      [DRILL_KEY_ENV.trader]: devnetPrivateKey("trader"),
      [DRILL_KEY_ENV.whale]: devnetPrivateKey("whale"),
      [DRILL_KEY_ENV.arbitrageur]: devnetPrivateKey("arbitrageur"),
      [DRILL_KEY_ENV.attacker]: devnetPrivateKey("attacker").slice(2), // without 0x works too
      [DRILL_KEY_ENV.safeOwners]: `${devnetPrivateKey("safeOwner2")},${devnetPrivateKey("safeOwner3")}`,
    };
    const report = await runDrill({
      target: {
        kind: "rpc",
        rpcUrl: net.anvil.rpcUrl,
        wsUrl: net.anvil.wsUrl,
        relayUrl: net.relayUrl,
        deployment: net.deployment,
        env,
      },
      outDir: fs.mkdtempSync(path.join(os.tmpdir(), "vigil-drill-rpc-")),
      logger: silentLogger(),
      progress: () => {},
      scenarios: DRILL_SCENARIOS.filter((s) => s.name === "swap" || s.name === "attack-erc3156"),
    });
    expect(report.summary).toMatchObject({ attacks: 1, prevented: 1, benign: 1, falsePauses: 0 });
  }, 120_000);

  it("names every missing or malformed key variable, never a value", () => {
    const secret = "ab".repeat(32);
    let message = "";
    try {
      drillKeysFromEnv({ [DRILL_KEY_ENV.trader]: "0x1234", [DRILL_KEY_ENV.attacker]: secret });
    } catch (error) {
      message = String(error);
    }
    for (const name of [
      DRILL_KEY_ENV.sentinel,
      DRILL_KEY_ENV.trader,
      DRILL_KEY_ENV.whale,
      DRILL_KEY_ENV.safeOwners,
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain(DRILL_KEY_ENV.attacker); // that one is fine
    expect(message).not.toContain(secret);
  });
});
