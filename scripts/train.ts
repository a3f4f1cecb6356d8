// Trains the scorer's model on the labelled dataset and writes the versioned artifact the daemon
// loads (models/vigil-model.json). Everything runs on this machine.
//   npm run train -- [--dataset .vigil/dataset.jsonl] [--out models/vigil-model.json] [--json]
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { decide, metrics, readDataset } from "../src/score/evaluate.ts";
import { modelFromArtifact, trainLogistic } from "../src/score/model.ts";

const argv = process.argv.slice(2);
const get = (flag: string, fallback: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const datasetPath = get("--dataset", ".vigil/dataset.jsonl");
const out = get("--out", "models/vigil-model.json");
const rows = readDataset(datasetPath);
const artifact = trainLogistic(rows);
const digest = crypto
  .createHash("sha256")
  .update(JSON.stringify([artifact.weights, artifact.bias, artifact.mean, artifact.std]))
  .digest("hex");
artifact.version = `lr-${digest.slice(0, 10)}`;
artifact.createdAt = new Date().toISOString();
const model = modelFromArtifact(artifact);
const thresholds = { alertThreshold: 0.4, pauseThreshold: 0.7 };
const inSample = metrics(rows, decide(rows, thresholds, model));
const rulesOnly = metrics(rows, decide(rows, thresholds, undefined));
artifact.training = {
  ...artifact.training,
  dataset: path.basename(datasetPath),
  datasetSha256: crypto.createHash("sha256").update(fs.readFileSync(datasetPath)).digest("hex"),
  families: [...new Set(rows.map((r) => r.family))].sort(),
  inSample,
  rulesOnlyInSample: rulesOnly,
  note: "in-sample figures; held-out figures come from `npm run bench:detect`",
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(artifact, null, 2)}\n`);
const summary = {
  model: artifact.version,
  out,
  samples: rows.length,
  inSample,
  rulesOnlyInSample: rulesOnly,
};
if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  process.stdout.write(
    `trained ${artifact.version} on ${rows.length} samples (${inSample.attacks} attacks)\n` +
      `in-sample: recall ${inSample.recall}, precision ${inSample.precision}, false pauses ${inSample.falsePauses}\n` +
      `rules alone: recall ${rulesOnly.recall}, precision ${rulesOnly.precision}, false pauses ${rulesOnly.falsePauses}\n` +
      "weights (standardised features):\n" +
      artifact.features
        .map((f, i) => `  ${f.padEnd(26)} ${(artifact.weights[i] ?? 0).toFixed(3)}`)
        .join("\n") +
      `\nwritten to ${out}\n`,
  );
}
