import fs from "node:fs";
import path from "node:path";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { NEUTRAL_DEVIATION as N } from "../src/features/baseline.ts";
import { extractFeatures } from "../src/features/extract.ts";
import { FEATURE_NAMES, type FeatureVector } from "../src/features/types.ts";
import { RULES } from "../src/score/rules.ts";
import { createScorer } from "../src/score/scorer.ts";
import type { Model } from "../src/score/types.ts";
import { simulationFromJson } from "../src/simulate/serialize.ts";

const zero = Object.fromEntries(FEATURE_NAMES.map((n) => [n, 0])) as FeatureVector;
const vec = (v: Partial<FeatureVector>): FeatureVector => ({ ...zero, ...v });
const features = (v: Partial<FeatureVector>) => ({ vector: vec(v), evidence: {} });
const scorer = createScorer({ alertThreshold: 0.4, pauseThreshold: 0.7 });
const rule = (id: string) => {
  const r = RULES.find((x) => x.id === id);
  if (!r) throw new Error(id);
  return r;
};

describe("rules", () => {
  it("protected-read-manipulated ramps from 5% to 50% deviation", () => {
    const r = rule("protected-read-manipulated");
    expect(r.strength(vec({ priceReadDeviation: 0.04 }), N)).toBe(0);
    expect(r.strength(vec({ priceReadDeviation: 0.275 }), N)).toBeCloseTo(0.5);
    expect(r.strength(vec({ priceReadDeviation: 4 }), N)).toBe(1);
  });
  it("protected-drained ramps with the share that left", () => {
    const r = rule("protected-drained");
    expect(r.strength(vec({ protectedOutflowFraction: 0.05 }), N)).toBe(0);
    expect(r.strength(vec({ protectedOutflowFraction: 0.5 }), N)).toBe(1);
  });
  it("sender-captured-drain only counts when something meaningful was drained", () => {
    const r = rule("sender-captured-drain");
    expect(r.strength(vec({ senderCaptureFraction: 1, protectedOutflowFraction: 0.01 }), N)).toBe(0);
    expect(r.strength(vec({ senderCaptureFraction: 0.9, protectedOutflowFraction: 0.3 }), N)).toBe(0.9);
  });
  it("flash loans, pump-and-dumps and fresh contracts count only when a protected contract ran", () => {
    for (const id of ["flash-loan", "pool-pumped-and-dumped", "fresh-contract"]) {
      const v = { flashLoan: 1, flashLoanCount: 1, reserveRoundTrip: 1, createdContracts: 2 };
      expect(rule(id).strength(vec(v), N), id).toBe(0);
      expect(rule(id).strength(vec({ ...v, protectedTouched: 1 }), N), id).toBe(1);
    }
  });
});

describe("scorer", () => {
  it("ignores a flash loan that never reaches a protected contract", () => {
    expect(scorer.score(features({ flashLoan: 1, flashLoanCount: 1, maxReserveSwing: 0.3 })).decision).toBe(
      "ignore",
    );
  });
  it("alerts, without pausing, on a large legitimate withdrawal", () => {
    const v = scorer.score(
      features({ protectedTouched: 1, protectedOutflowFraction: 0.6, senderCaptureFraction: 1 }),
    );
    expect(v.decision).toBe("alert");
  });
  it("pauses on a manipulated read plus a drain, reasons ranked and summing to the score", () => {
    const v = scorer.score(
      features({
        protectedTouched: 1,
        priceReadDeviation: 4,
        protectedOutflowFraction: 1,
        senderCaptureFraction: 0.9,
        flashLoan: 1,
      }),
    );
    expect(v.decision).toBe("pause");
    expect(v.score).toBeCloseTo(1);
    expect(v.reasons.map((r) => r.rule).slice(0, 2)).toEqual([
      "protected-read-manipulated",
      "protected-drained",
    ]);
    expect(v.reasons.reduce((s, r) => s + r.contribution, 0)).toBeCloseTo(v.score);
  });
  it("blends a model's probability and explains its contribution", () => {
    const model: Model = {
      version: "test-model-1",
      features: ["priceReadDeviation"],
      predict: (x) => ({
        probability: x.priceReadDeviation > 1 ? 0.9 : 0.1,
        contributions: [{ feature: "priceReadDeviation", value: 2.5 }],
      }),
    };
    const s = createScorer({ alertThreshold: 0.4, pauseThreshold: 0.7, model, modelWeight: 0.5 });
    const v = s.score(features({ protectedTouched: 1, priceReadDeviation: 4, protectedOutflowFraction: 1 }));
    expect(v.version).toBe("rules-2+test-model-1");
    const m = v.reasons.find((r) => r.rule === "model:test-model-1");
    expect(m?.contribution).toBeCloseTo(0.45);
    expect(m?.detail).toMatch(/90\.0% attack probability; strongest inputs: priceReadDeviation \+2\.50/);
    expect(v.reasons.reduce((a, r) => a + r.contribution, 0)).toBeCloseTo(v.score);
  });

  it("decides every recorded drill scenario as its label says", () => {
    const dir = path.join(import.meta.dirname, "fixtures/traces");
    const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as {
      scenarios: Record<string, { kind: string; from: Address }>;
    };
    for (const [name, meta] of Object.entries(index.scenarios)) {
      const sim = simulationFromJson(fs.readFileSync(path.join(dir, `${name}.json`), "utf8"));
      const decision = scorer.score(extractFeatures(sim, meta.from)).decision;
      expect(decision === "pause", `${name} (${meta.kind}) -> ${decision}`).toBe(meta.kind === "attack");
    }
  });
});
