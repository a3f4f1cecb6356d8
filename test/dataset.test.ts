import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATTACK_FAMILIES } from "../src/dataset/generators.ts";
import { createRng } from "../src/dataset/prng.ts";
import { type DatasetSummary, runDataset, type SampleLine } from "../src/dataset/run.ts";
import { FEATURE_NAMES } from "../src/features/types.ts";

// A small dataset (2 attacks per family, 20 benign), built twice from the same seed on two fresh
// devnets: it must label only real attacks, include benign traffic on the victims, and reproduce.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-dataset-"));
const outA = path.join(dir, "a.jsonl");
const outB = path.join(dir, "b.jsonl");
let summary: DatasetSummary;
let lines: SampleLine[];

const read = (file: string): SampleLine[] =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as SampleLine);

beforeAll(async () => {
  summary = await runDataset({ seed: 7, attacks: 14, benign: 20, out: outA, progressEvery: 0 });
  lines = read(outA);
}, 90_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("dataset", () => {
  it("writes the requested numbers of attack and benign samples, plus preparation samples", () => {
    expect(summary.byKind.attack).toBe(14);
    expect(summary.byKind.benign).toBe(20);
    expect(lines).toHaveLength(summary.samples);
    expect(lines.filter((l) => l.kind === "attack-prep").length).toBe(summary.byKind["attack-prep"]);
    for (const l of lines) {
      expect(l.label).toBe(l.kind === "attack" ? 1 : 0);
      expect(Object.keys(l.features).sort()).toEqual([...FEATURE_NAMES].sort());
      for (const v of Object.values(l.features)) expect(Number.isFinite(v)).toBe(true);
    }
  });

  it("labels only attacks that succeeded and drained, and every family really attacks", () => {
    const attacks = lines.filter((l) => l.label === 1);
    for (const a of attacks) {
      expect(a.simulation.success).toBe(true);
      expect(Number(a.params.profitUsd)).toBeGreaterThan(50_000);
    }
    for (const family of ATTACK_FAMILIES) {
      const mine = attacks.filter((a) => a.family === family);
      expect(mine.length, family).toBe(2);
      const strong = mine.filter(
        (a) => a.features.protectedOutflowFraction > 0.3 || a.features.priceReadDeviation > 0.2,
      );
      expect(strong.length, `${family} moves value or prices`).toBeGreaterThan(0);
    }
  });

  it("has benign traffic that touches the protected victims", () => {
    const benign = lines.filter((l) => l.kind === "benign");
    const touching = benign.filter((l) => l.features.protectedTouched === 1 && l.victim !== null);
    expect(touching.length).toBeGreaterThanOrEqual(5);
    expect(new Set(benign.map((l) => l.family)).size).toBeGreaterThanOrEqual(5);
    expect(benign.every((l) => l.simulation.success)).toBe(true);
  });

  it("reproduces the same samples and features from the same seed", async () => {
    await runDataset({ seed: 7, attacks: 14, benign: 20, out: outB, progressEvery: 0 });
    // Simulation wall time is the only thing allowed to differ.
    const strip = (ls: SampleLine[]) =>
      ls.map((l) => JSON.stringify({ ...l, simulation: { ...l.simulation, durationMs: 0 } }));
    expect(strip(read(outB))).toEqual(strip(lines));
  }, 90_000);

  it("draws the same sequence from the same seed, and forks are independent", () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(createRng(43).next()).not.toBe(xs[0]);
    const f1 = createRng(1).fork("x");
    const f2 = createRng(1).fork("x");
    expect(f1.int(0, 1_000_000)).toBe(f2.int(0, 1_000_000));
    const r = createRng(5);
    for (let i = 0; i < 200; i++) {
      const v = r.bigint(10n, 20n);
      expect(v >= 10n && v <= 20n).toBe(true);
      const w = r.logBigint(1_000n, 10n ** 24n);
      expect(w >= 1_000n && w <= 10n ** 24n).toBe(true);
    }
  });
});
