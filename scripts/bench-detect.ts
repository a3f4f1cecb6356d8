// Detection benchmark on the labelled dataset (real simulations, `npm run dataset`):
// in-distribution by 5-fold cross-validation (every row decided by a model that never saw it) and
// leave-one-family-out, for the rules alone and rules + model, with the daemon's thresholds; and
// the same without the per-protocol baseline, to show what each protocol's own history changes.
//   npm run bench:detect -- [--dataset .vigil/dataset.jsonl] [--json]
import fs from "node:fs";
import path from "node:path";
import {
  crossValidate,
  decide,
  leaveOneFamilyOut,
  metrics,
  perFamily,
  readDataset,
} from "../src/score/evaluate.ts";

const argv = process.argv.slice(2);
const i = argv.indexOf("--dataset");
const datasetPath = i >= 0 ? (argv[i + 1] ?? "") : ".vigil/dataset.jsonl";
const rows = readDataset(datasetPath);
const thresholds = { alertThreshold: 0.4, pauseThreshold: 0.7 };

const cv = crossValidate(rows, thresholds);
const lofo = leaveOneFamilyOut(rows, thresholds);
const rules = decide(rows, thresholds, undefined);
const lofoFamilies = perFamily(rows, lofo);
// The same, scored as if no protocol history were kept: what the per-protocol baseline changes.
const noHistory = { ...thresholds, baseline: false };
const mature = rows.filter((r) => r.baseline?.mature);
const withoutBaseline = {
  inDistribution: metrics(rows, crossValidate(rows, noHistory)),
  leaveOneFamilyOut: metrics(rows, leaveOneFamilyOut(rows, noHistory)),
  rulesOnly: metrics(rows, decide(rows, noHistory, undefined)),
};
const changed = (a: readonly string[], b: readonly string[]) => {
  const out: Record<string, number> = {};
  for (const [k, r] of rows.entries()) {
    if (a[k] === b[k]) continue;
    const key = `${r.kind}: ${b[k]} -> ${a[k]}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};
const report = {
  dataset: { path: datasetPath, rows: rows.length, families: Object.keys(lofoFamilies).length },
  thresholds,
  inDistribution: metrics(rows, cv),
  leaveOneFamilyOut: {
    ...metrics(rows, lofo),
    perFamily: Object.fromEntries(
      Object.entries(lofoFamilies).map(([f, v]) => [
        f,
        v.kind === "attack" ? { recall: v.recall, n: v.n } : { falsePauses: v.falsePauses, n: v.n },
      ]),
    ),
  },
  rulesOnly: { ...metrics(rows, rules), perFamily: perFamily(rows, rules) },
  baseline: {
    rowsWithHistory: rows.filter((r) => r.baseline !== undefined).length,
    rowsWithMatureHistory: {
      attack: mature.filter((r) => r.label === 1).length,
      benign: mature.filter((r) => r.label === 0).length,
    },
    withoutBaseline,
    /** Decisions the baseline changed (rules + model, leave-one-family-out), by kind. */
    changedDecisions: changed(lofo, leaveOneFamilyOut(rows, noHistory)),
  },
};
fs.mkdirSync("bench/results", { recursive: true });
const file = path.join("bench/results", `detect-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  const m = (x: {
    recall: number;
    precision: number;
    falsePauses: number;
    attacks: number;
    benign: number;
  }) =>
    `recall ${x.recall.toFixed(4)}  precision ${x.precision.toFixed(4)}  false pauses ${x.falsePauses} / ${x.benign} benign  (${x.attacks} attacks)`;
  const lines = [
    `dataset ${datasetPath}: ${rows.length} rows`,
    `in-distribution (5-fold CV, rules + model): ${m(report.inDistribution)}`,
    `leave-one-family-out (rules + model):      ${m(report.leaveOneFamilyOut)}`,
    `rules alone (no training involved):        ${m(report.rulesOnly)}`,
    `without the per-protocol baseline (${report.baseline.rowsWithMatureHistory.attack} attacks and ${report.baseline.rowsWithMatureHistory.benign} benign rows had a mature history):`,
    `  in-distribution:      ${m(withoutBaseline.inDistribution)}`,
    `  leave-one-family-out: ${m(withoutBaseline.leaveOneFamilyOut)}`,
    `  rules alone:          ${m(withoutBaseline.rulesOnly)}`,
    `  decisions the baseline changed (LOFO): ${JSON.stringify(report.baseline.changedDecisions)}`,
    "",
    "family                          kind    n     LOFO recall / false pauses   rules alone",
    ...Object.entries(lofoFamilies).map(([f, v]) => {
      const r = report.rulesOnly.perFamily[f];
      const a = v.kind === "attack" ? `recall ${v.recall?.toFixed(3)}` : `false pauses ${v.falsePauses}`;
      const b = r?.kind === "attack" ? `recall ${r.recall?.toFixed(3)}` : `false pauses ${r?.falsePauses}`;
      return `${f.padEnd(31)} ${v.kind.padEnd(7)} ${String(v.n).padStart(5)}  ${a.padEnd(28)} ${b}`;
    }),
    "",
    `written to ${file}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
