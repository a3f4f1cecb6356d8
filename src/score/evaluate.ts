import fs from "node:fs";
import type { BaselineDeviation } from "../features/baseline.ts";
import type { FeatureVector } from "../features/types.ts";
import { InputError } from "../internal/errors.ts";
import { modelFromArtifact, type Sample, trainLogistic } from "./model.ts";
import { createScorer } from "./scorer.ts";
import type { Decision, Model } from "./types.ts";

/** One labelled line of the dataset (`npm run dataset`). */
export type DatasetRow = Sample & {
  id: string;
  kind: string;
  /** The victim's own history compared with the transaction (absent in datasets made before it). */
  baseline?: Omit<BaselineDeviation, "evidence">;
};

export function readDataset(path: string): DatasetRow[] {
  if (!fs.existsSync(path)) {
    throw new InputError(`no dataset at ${path}`, { hint: "create it with `npm run dataset -- --seed 1`" });
  }
  const rows: DatasetRow[] = [];
  for (const [i, line] of fs.readFileSync(path, "utf8").split("\n").entries()) {
    if (line.trim() === "") continue;
    const r = JSON.parse(line) as {
      id: string;
      kind: string;
      family: string;
      label: number;
      features: FeatureVector;
      baseline?: Omit<BaselineDeviation, "evidence">;
    };
    if (r.kind !== "attack" && r.kind !== "benign") continue; // preparation txs are not scored
    if (r.label !== 0 && r.label !== 1) throw new InputError(`${path}:${i + 1}: label must be 0 or 1`);
    rows.push({
      id: r.id,
      kind: r.kind,
      family: r.family,
      label: r.label,
      features: r.features,
      ...(r.baseline ? { baseline: r.baseline } : {}),
    });
  }
  return rows;
}

/** The scorer's settings; `baseline: false` scores as if no protocol history were kept. */
export type Thresholds = { alertThreshold: number; pauseThreshold: number; baseline?: boolean };

export function decide(
  rows: readonly DatasetRow[],
  thresholds: Thresholds,
  model: Model | undefined,
): Decision[] {
  const { baseline: useBaseline = true, ...limits } = thresholds;
  const scorer = createScorer({ ...limits, ...(model ? { model } : {}) });
  return rows.map(
    (r) =>
      scorer.score({
        vector: r.features,
        evidence: {},
        ...(useBaseline && r.baseline ? { baseline: { ...r.baseline, evidence: [] } } : {}),
      }).decision,
  );
}

export type Metrics = {
  attacks: number;
  benign: number;
  recall: number;
  precision: number;
  falsePauses: number;
};

/** Recall and precision of the "pause" decision; false pauses are benign transactions paused. */
export function metrics(rows: readonly DatasetRow[], decisions: readonly Decision[]): Metrics {
  let tp = 0;
  let fp = 0;
  let attacks = 0;
  for (const [i, r] of rows.entries()) {
    const paused = decisions[i] === "pause";
    if (r.label === 1) {
      attacks++;
      if (paused) tp++;
    } else if (paused) fp++;
  }
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    attacks,
    benign: rows.length - attacks,
    recall: attacks === 0 ? 1 : round(tp / attacks),
    precision: tp + fp === 0 ? 1 : round(tp / (tp + fp)),
    falsePauses: fp,
  };
}

/** Seeded shuffle (mulberry32), so folds are reproducible. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const train = (rows: readonly DatasetRow[]): Model =>
  modelFromArtifact({ ...trainLogistic(rows), version: "eval" });

/**
 * k-fold cross-validation stratified by family: every row is decided by a model that did not
 * see it, so all benign rows count toward false pauses.
 */
export function crossValidate(
  rows: readonly DatasetRow[],
  thresholds: Thresholds,
  k = 5,
  seed = 1,
): Decision[] {
  const fold = new Map<string, number>();
  const byFamily = new Map<string, DatasetRow[]>();
  for (const r of rows) byFamily.set(r.family, [...(byFamily.get(r.family) ?? []), r]);
  for (const group of byFamily.values()) {
    for (const [i, r] of shuffled(group, seed).entries()) fold.set(r.id, i % k);
  }
  const decisions: Decision[] = rows.map(() => "ignore");
  for (let f = 0; f < k; f++) {
    const model = train(rows.filter((r) => fold.get(r.id) !== f));
    const testIdx = rows.flatMap((r, i) => (fold.get(r.id) === f ? [i] : []));
    const d = decide(
      testIdx.map((i) => rows[i] as DatasetRow),
      thresholds,
      model,
    );
    testIdx.forEach((i, j) => {
      decisions[i] = d[j] as Decision;
    });
  }
  return decisions;
}

/**
 * Leave one family out: for each family, a model trained without any of its rows decides them.
 * Attack families measure recall on an unseen attack mechanic; benign families, false pauses on
 * an unseen kind of traffic.
 */
export function leaveOneFamilyOut(rows: readonly DatasetRow[], thresholds: Thresholds): Decision[] {
  const decisions: Decision[] = rows.map(() => "ignore");
  for (const family of new Set(rows.map((r) => r.family))) {
    const model = train(rows.filter((r) => r.family !== family));
    const idx = rows.flatMap((r, i) => (r.family === family ? [i] : []));
    const d = decide(
      idx.map((i) => rows[i] as DatasetRow),
      thresholds,
      model,
    );
    idx.forEach((i, j) => {
      decisions[i] = d[j] as Decision;
    });
  }
  return decisions;
}

export function perFamily(rows: readonly DatasetRow[], decisions: readonly Decision[]) {
  const out: Record<string, { kind: string; n: number; recall?: number; falsePauses?: number }> = {};
  for (const family of [...new Set(rows.map((r) => r.family))].sort()) {
    const idx = rows.flatMap((r, i) => (r.family === family ? [i] : []));
    const attack = rows[idx[0] ?? 0]?.label === 1;
    const paused = idx.filter((i) => decisions[i] === "pause").length;
    out[family] = attack
      ? { kind: "attack", n: idx.length, recall: Math.round((paused / idx.length) * 10_000) / 10_000 }
      : { kind: "benign", n: idx.length, falsePauses: paused };
  }
  return out;
}
