import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { extractFeatures } from "../src/features/extract.ts";
import { metrics } from "../src/score/evaluate.ts";
import { loadModel, modelFromArtifact, type Sample, trainLogistic } from "../src/score/model.ts";
import { simulationFromJson } from "../src/simulate/serialize.ts";

// The model trained on the recorded drill traces (real simulations): small, but enough to check
// that training is deterministic, separates the classes it saw, and explains itself.
const dir = path.join(import.meta.dirname, "fixtures/traces");
const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as {
  scenarios: Record<string, { kind: string; from: Address }>;
};
const samples: Sample[] = Object.entries(index.scenarios).map(([name, meta]) => ({
  family: name,
  label: meta.kind === "attack" ? 1 : 0,
  features: extractFeatures(
    simulationFromJson(fs.readFileSync(path.join(dir, `${name}.json`), "utf8")),
    meta.from,
  ).vector,
}));

describe("logistic-regression model", () => {
  it("trains deterministically and separates attacks from benign traffic it was trained on", () => {
    const a = trainLogistic(samples);
    const b = trainLogistic(samples);
    expect(a.weights).toEqual(b.weights);
    const model = modelFromArtifact({ ...a, version: "test" });
    for (const s of samples) {
      const p = model.predict(s.features).probability;
      if (s.label === 1) expect(p, s.family).toBeGreaterThan(0.5);
      else expect(p, s.family).toBeLessThan(0.5);
    }
    // Contributions explain the logit: their sum plus the bias gives the probability back.
    const attack = samples.find((s) => s.label === 1) as Sample;
    const r = model.predict(attack.features);
    const z = a.bias + r.contributions.reduce((s, c) => s + c.value, 0);
    expect(1 / (1 + Math.exp(-z))).toBeCloseTo(r.probability);
  });

  it("refuses an artifact that does not fit this version, saying what is wrong", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vigil-model-")), "m.json");
    const good = { ...trainLogistic(samples), version: "x" };
    fs.writeFileSync(file, JSON.stringify({ ...good, features: [...good.features.slice(1), "oracleName"] }));
    expect(() => loadModel(file)).toThrow(/features lists a name this version does not compute/);
    fs.writeFileSync(file, JSON.stringify({ ...good, bias: "high" }));
    expect(() => loadModel(file)).toThrow(/bias must be a finite number/);
    expect(() => loadModel(`${file}.missing`)).toThrow(/npm run train/);
  });

  it("counts recall, precision and false pauses of the pause decision", () => {
    const rows = samples.map((s, i) => ({ ...s, id: String(i), kind: s.label ? "attack" : "benign" }));
    const decisions = rows.map(
      (r) => (r.label === 1 ? "pause" : r.family === "swap" ? "pause" : "ignore") as "pause" | "ignore",
    );
    expect(metrics(rows, decisions)).toEqual({
      attacks: 3,
      benign: 6,
      recall: 1,
      precision: 0.75,
      falsePauses: 1,
    });
  });
});
