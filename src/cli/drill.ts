import path from "node:path";
import type { Command } from "commander";
import { pino } from "pino";
import { formatDrillReport, runDrill } from "../drill/drill.ts";
import { stopAllAnvils } from "../internal/anvil.ts";
import { InputError } from "../internal/errors.ts";
import { createShutdown } from "../internal/shutdown.ts";
import { parseIntOption } from "./options.ts";

export function registerDrill(program: Command): void {
  program
    .command("drill")
    .description(
      "fire drill: start a devnet, relay and daemon; play benign traffic and attacks; report what was prevented",
    )
    .option(
      "--block-time <ms>",
      "milliseconds between blocks",
      parseIntOption("--block-time", 200, 60_000),
      1000,
    )
    .option("--rpc <url>", "run against an existing chain instead of a local devnet (not available yet)")
    .option("--out <dir>", "where the deployment, incident record and daemon log go", ".vigil/drill")
    .option("--json", "print exactly one JSON document")
    .action(async (opts: { blockTime: number; rpc?: string; out: string; json?: boolean }) => {
      if (opts.rpc) {
        throw new InputError("vigil drill --rpc is not implemented yet", {
          hint: "run `vigil drill` without --rpc for the local devnet drill",
        });
      }
      const out = path.resolve(opts.out);
      // The daemon's and relay's logs go to a file: the terminal shows the drill's progress.
      const logFile = path.join(out, "daemon.log");
      const logger = pino(
        { level: "info", base: null },
        pino.destination({ dest: logFile, mkdir: true, sync: false }),
      );
      const shutdown = createShutdown(logger);
      shutdown.register("anvil", () => stopAllAnvils());
      const progress = (line: string) => process.stderr.write(`${line}\n`);
      const report = await runDrill({ blockTimeMs: opts.blockTime, outDir: out, logger, progress });
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatDrillReport(report));
      if (!opts.json) process.stdout.write(`daemon log: ${logFile}\n`);
      const failed = report.summary.prevented < report.summary.attacks || report.summary.falsePauses > 0;
      process.exitCode = failed ? 1 : 0;
      await shutdown.stop("drill finished");
    });
}
