import type { Command } from "commander";
import { startDevnet } from "../devnet/devnet.ts";
import { formatDeployment } from "../devnet/world.ts";
import { createLogger } from "../internal/logger.ts";
import { createShutdown } from "../internal/shutdown.ts";
import { parseIntOption } from "./options.ts";

export function registerDevnet(program: Command): void {
  program
    .command("devnet")
    .description(
      "start a local devnet (Anvil, no automine, FIFO), deploy the world, and run the local relay/builder",
    )
    .option("--port <port>", "Anvil port", parseIntOption("--port", 1, 65535), 8545)
    .option(
      "--relay-port <port>",
      "relay port (eth_sendBundle)",
      parseIntOption("--relay-port", 0, 65535),
      8550,
    )
    .option(
      "--block-time <ms>",
      "milliseconds between blocks",
      parseIntOption("--block-time", 100, 600_000),
      2000,
    )
    .option("--out <file>", "where to write the deployment JSON", ".vigil/devnet.json")
    .option(
      "--gas-limit <gas>",
      "block gas limit",
      parseIntOption("--gas-limit", 1_000_000, 10_000_000_000),
      30_000_000,
    )
    .option(
      "--keep-states <n>",
      "recent states Anvil keeps in memory (default: all; a long load run wants a bound)",
      parseIntOption("--keep-states", 16, 1_000_000),
    )
    .option("--json", "print the deployment as JSON instead of a summary")
    .action(
      async (opts: {
        port: number;
        relayPort: number;
        blockTime: number;
        out: string;
        gasLimit: number;
        keepStates?: number;
        json?: boolean;
      }) => {
        const logger = createLogger({ name: "devnet" });
        const shutdown = createShutdown(logger);
        const devnet = await startDevnet({
          anvilPort: opts.port,
          relayPort: opts.relayPort,
          blockTimeMs: opts.blockTime,
          gasLimit: BigInt(opts.gasLimit),
          ...(opts.keepStates === undefined ? {} : { keepStates: opts.keepStates }),
          deploymentFile: opts.out,
          logger,
          progress: (step) => process.stderr.write(`  deploying ${step}...\n`),
        });
        shutdown.register("devnet", () => devnet.stop());
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ ...devnet.deployment, relayUrl: devnet.relayUrl }, null, 2)}\n`,
          );
        } else {
          process.stdout.write(
            `\nVigil devnet is running (Ctrl-C to stop).\n\n${formatDeployment(devnet.deployment)}\n` +
              `relay (eth_sendBundle)  ${devnet.relayUrl}\n` +
              `deployment written to   ${opts.out}\n`,
          );
        }
        await shutdown.done;
      },
    );
}
