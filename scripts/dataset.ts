// Builds the labelled detection dataset: scenario-library attacks and benign traffic on a devnet,
// each transaction simulated through the daemon's simulator and feature code, one JSON line each.
// Usage: npm run dataset -- [--seed 1] [--attacks 300] [--benign 2500] [--out .vigil/dataset.jsonl] [--json]
import { Command, InvalidArgumentError } from "commander";
import { type DatasetSummary, runDataset } from "../src/dataset/run.ts";
import { table } from "../src/internal/table.ts";

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

const program = new Command("dataset")
  .description("Generate labelled feature vectors (JSON lines) from simulated attacks and benign traffic")
  .option("--seed <n>", "PRNG seed: the same seed gives the same samples and features", int("seed", 0), 1)
  .option("--attacks <n>", "attack samples (label 1) to write", int("attacks", 0), 300)
  .option("--benign <n>", "benign samples (label 0) to write", int("benign", 0), 2500)
  .option("--out <file>", "JSON-lines output", ".vigil/dataset.jsonl")
  .option("--forks <n>", "simulation forks", int("forks", 1), 2)
  .option(
    "--progress-every <n>",
    "progress line on stderr every n samples (0: none)",
    int("progress-every", 0),
    250,
  )
  .option("--json", "print the summary as one JSON document")
  .parse();

const o = program.opts<{
  seed: number;
  attacks: number;
  benign: number;
  out: string;
  forks: number;
  progressEvery: number;
  json?: boolean;
}>();

function summaryText(s: DatasetSummary): string {
  const rows = Object.entries(s.families).map(([name, f]) => [
    name,
    f.kind,
    String(f.n),
    String(f.simulatedOk),
    String(f.reverted),
    String(f.skipped),
    String(f.minedReverted),
    Object.entries(f.skipReasons)
      .map(([r, n]) => `${r} x${n}`)
      .join("; "),
  ]);
  const lines = table(
    ["family", "kind", "n", "sim ok", "reverted", "skipped", "mined reverted", "skip reasons"],
    rows,
  );
  return [
    `seed ${s.seed}: ${s.samples} samples (attack ${s.byKind.attack}, benign ${s.byKind.benign}, attack-prep ${s.byKind["attack-prep"]}) from ${s.attackAttempts} attack attempts`,
    `${s.blocks} blocks, ${s.minedTransactions} mined transactions; ${s.wallTimeSec} s wall (${s.setupSec} s set-up), ${s.samplesPerSec} samples/s on ${s.forks} forks`,
    `written to ${s.out ?? "(nowhere)"}`,
    "",
    ...lines,
  ].join("\n");
}

// SIGINT/SIGTERM stop the run at the next block and stop every Anvil it started (no orphans).
const abort = new AbortController();
const onSignal = (signal: NodeJS.Signals) => {
  if (abort.signal.aborted) process.exit(130);
  process.stderr.write(`dataset: ${signal}, stopping (the partial output is discarded)\n`);
  abort.abort(new Error(`stopped by ${signal}`));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

try {
  const summary = await runDataset({
    signal: abort.signal,
    seed: o.seed,
    attacks: o.attacks,
    benign: o.benign,
    out: o.out,
    forks: o.forks,
    progressEvery: o.progressEvery,
  });
  process.stdout.write(o.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryText(summary)}\n`);
} catch (error) {
  if (abort.signal.aborted) {
    process.stderr.write("dataset stopped; every Anvil it started is stopped\n");
    process.exit(130);
  }
  process.stderr.write(
    `dataset failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
// Stopped Anvil wrappers leave kill timers behind; everything this command started is stopped.
process.exit(process.exitCode ?? 0);
