import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { pino } from "pino";
import type { Deployment } from "../devnet/world.ts";
import { type DrillTarget, formatDrillReport, runDrill } from "../drill/drill.ts";
import { stopAllAnvils } from "../internal/anvil.ts";
import { InputError } from "../internal/errors.ts";
import { createShutdown } from "../internal/shutdown.ts";
import { parseIntOption } from "./options.ts";

type DrillFlags = {
  blockTime: number;
  rpc?: string;
  ws?: string;
  relay?: string;
  deployment?: string;
  out: string;
  json?: boolean;
};

export function registerDrill(program: Command): void {
  program
    .command("drill")
    .description(
      "fire drill: a devnet, relay and daemon; benign traffic and attacks; what was prevented and how fast",
    )
    .option(
      "--block-time <ms>",
      "local devnet: milliseconds between blocks",
      parseIntOption("--block-time", 200, 60_000),
      1000,
    )
    .option("--rpc <url>", "run against an existing chain (HTTP JSON-RPC) instead of starting a devnet")
    .option("--ws <url>", "with --rpc: its WebSocket endpoint (default: the --rpc URL with ws://)")
    .option("--relay <url>", "with --rpc: the bundle relay to send pauses to")
    .option("--deployment <file>", "with --rpc: the world's addresses (as `vigil devnet` writes them)")
    .option("--out <dir>", "where the deployment, incident record and daemon log go", ".vigil/drill")
    .option("--json", "print exactly one JSON document")
    .addHelpText(
      "after",
      "\nWith --rpc, keys come from the environment: VIGIL_SENTINEL_KEY, VIGIL_DRILL_TRADER_KEY, VIGIL_DRILL_WHALE_KEY,\n" +
        "VIGIL_DRILL_ARBITRAGEUR_KEY, VIGIL_DRILL_ATTACKER_KEY, VIGIL_DRILL_SAFE_OWNER_KEYS (two keys, comma-separated).",
    )
    .action(async (opts: DrillFlags) => {
      const out = path.resolve(opts.out);
      const target = drillTarget(opts);
      // The daemon's and relay's logs go to a file: the terminal shows the drill's progress.
      const logFile = path.join(out, "daemon.log");
      const logger = pino(
        { level: "info", base: null },
        pino.destination({ dest: logFile, mkdir: true, sync: true }),
      );
      const shutdown = createShutdown(logger);
      shutdown.register("anvil", () => stopAllAnvils());
      const progress = (line: string) => process.stderr.write(`${line}\n`);
      const report = await runDrill({ target, outDir: out, logger, progress });
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatDrillReport(report));
      if (!opts.json) process.stdout.write(`daemon log: ${logFile}\n`);
      const failed = report.summary.prevented < report.summary.attacks || report.summary.falsePauses > 0;
      process.exitCode = failed ? 1 : 0;
      await shutdown.stop("drill finished");
    });
}

function drillTarget(opts: DrillFlags): DrillTarget {
  if (!opts.rpc) {
    if (opts.relay || opts.deployment || opts.ws)
      throw new InputError("--ws, --relay and --deployment go with --rpc");
    return { kind: "local", blockTimeMs: opts.blockTime };
  }
  if (!opts.relay || !opts.deployment) {
    throw new InputError("vigil drill --rpc also needs --relay <url> and --deployment <file>", {
      hint: "start `vigil devnet` for a local example: it prints the relay URL and writes .vigil/devnet.json",
    });
  }
  let deployment: Deployment;
  try {
    deployment = JSON.parse(fs.readFileSync(opts.deployment, "utf8")) as Deployment;
  } catch (error) {
    throw new InputError(`cannot read the deployment file ${opts.deployment}`, { cause: error });
  }
  const wsUrl = opts.ws ?? opts.rpc.replace(/^http/, "ws");
  return { kind: "rpc", rpcUrl: opts.rpc, wsUrl, relayUrl: opts.relay, deployment, env: process.env };
}
