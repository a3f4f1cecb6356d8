import type { Command } from "commander";
import type { Hex } from "viem";
import { startGuardian } from "../guardian.ts";
import { loadConfig } from "../internal/config.ts";
import { InputError } from "../internal/errors.ts";
import { loadSentinelKey } from "../internal/keystore.ts";
import { createLogger } from "../internal/logger.ts";
import { createShutdown } from "../internal/shutdown.ts";

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run the guardian daemon: watch the mempool, simulate, score, pause ahead of attacks")
    .requiredOption("--config <file>", "configuration JSON (schema: schema/vigil.config.schema.json)")
    .option("--shadow", "decide and record, send nothing")
    .action(async (opts: { config: string; shadow?: boolean }) => {
      const config = loadConfig(opts.config);
      const logger = createLogger({ level: config.log.level });
      const sentinelKey = await loadSentinelKey(config.sentinel);
      const relayAuthKey = readRelayAuthKey(config.relayAuthKeyEnv);
      const shutdown = createShutdown(logger);
      const guardian = await startGuardian({
        config,
        sentinelKey,
        ...(relayAuthKey ? { relayAuthKey } : {}),
        logger,
        shadow: opts.shadow === true,
      });
      shutdown.register("guardian", () => guardian.stop());
      await shutdown.done;
    });
}

function readRelayAuthKey(envName: string | undefined): Hex | undefined {
  if (!envName) return undefined;
  const v = process.env[envName];
  if (v === undefined) {
    throw new InputError(`Environment variable ${envName} is not set (relayAuthKeyEnv)`, {
      hint: `set ${envName} to the key that signs X-Flashbots-Signature, or remove relayAuthKeyEnv to use a random one`,
    });
  }
  const hex = v.startsWith("0x") ? v : `0x${v}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new InputError(`Environment variable ${envName} must hold 64 hex digits (relayAuthKeyEnv)`);
  }
  return hex as Hex;
}
