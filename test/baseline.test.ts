import fs from "node:fs";
import path from "node:path";
import { type Address, type Hex, keccak256, toHex } from "viem";
import { describe, expect, it } from "vitest";
import { ProtocolBaseline } from "../src/features/baseline.ts";
import { extractFeatures } from "../src/features/extract.ts";
import { createScorer } from "../src/score/scorer.ts";
import { simulationFromJson } from "../src/simulate/serialize.ts";
import type { CallFrame, Simulation } from "../src/simulate/types.ts";

// The per-protocol baseline on recorded traces of the drill's world (one protected lending
// market): history is built from benign transactions, then pending ones are compared with it.
const dir = path.join(import.meta.dirname, "fixtures/traces");
const world = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as {
  market: Address;
  scenarios: Record<string, { from: Address }>;
};
const load = (name: string): Simulation =>
  simulationFromJson(fs.readFileSync(path.join(dir, `${name}.json`), "utf8"));
const hash = (s: string): Hex => keccak256(toHex(s));
const fromOf = (name: string) => world.scenarios[name]?.from as Address;

function historyOf(names: string[], times: number, options = { minObservations: 5, window: 100 }) {
  const b = new ProtocolBaseline([world.market], options);
  for (let i = 0; i < times; i++) {
    for (const n of names) b.observe(hash(`${n}/${i}`), load(n).root, BigInt(i));
  }
  return b;
}

describe("per-protocol baseline", () => {
  it("says nothing until a contract has enough history", () => {
    const b = historyOf(["deposit", "borrow"], 2);
    expect(b.counts()[world.market]).toBe(4);
    const d = b.deviation(load("attack-erc3156").root);
    expect(d.mature).toBe(false);
    expect(d.observations).toBe(4);
    expect([d.outflowExcess, d.readExcess, d.novelSelector, d.novelCaller]).toEqual([0, 0, 0, 0]);
    // A newly protected victim (a short history, as in a first deployment) is scored exactly as
    // with no baseline at all, attack or not, and no baseline rule speaks.
    const scorer = createScorer({ alertThreshold: 0.4, pauseThreshold: 0.7 });
    for (const name of ["attack-erc3156", "attack-v2-flash-swap", "borrow", "large-deposit"]) {
      const without = scorer.score(extractFeatures(load(name), fromOf(name)));
      const young = scorer.score(extractFeatures(load(name), fromOf(name), b));
      expect(young.score, name).toBe(without.score);
      expect(young.decision, name).toBe(without.decision);
      expect(
        young.reasons.some((r) => r.rule.startsWith("baseline-")),
        name,
      ).toBe(false);
    }
  });

  it("learns only from transactions that touched a protected contract, once per hash", () => {
    const b = new ProtocolBaseline([world.market], { minObservations: 1, window: 10 });
    b.observe(hash("swap"), load("swap").root, 1n); // a pool swap: the market is not involved
    expect(b.counts()[world.market]).toBe(0);
    b.observe(hash("borrow"), load("borrow").root, 1n);
    b.observe(hash("borrow"), load("borrow").root, 1n);
    expect(b.counts()[world.market]).toBe(1);
    const reverted: CallFrame = { ...load("deposit").root, error: "execution reverted" };
    b.observe(hash("reverted"), reverted, 2n);
    expect(b.counts()[world.market]).toBe(1);
  });

  it("finds an attack's payout and price far outside the market's history", () => {
    const b = historyOf(["deposit", "borrow", "large-deposit"], 3);
    const d = b.deviation(load("attack-erc3156").root);
    expect(d.mature).toBe(true);
    expect(d.outflowExcess).toBeGreaterThan(0.3); // more than twice the largest borrow
    expect(d.readExcess).toBeGreaterThan(0.5); // the pumped price is outside every answer seen
    expect(d.novelCaller).toBe(1); // a contract the market never dealt with
    expect(d.evidence.some((e) => /outside every answer/.test(e.detail))).toBe(true);
    expect(d.evidence.some((e) => /the most it paid out/.test(e.detail))).toBe(true);
  });

  it("finds a repeat of a known transaction routine, and the scorer lowers its score", () => {
    const b = historyOf(["deposit", "borrow"], 3);
    const sim = load("borrow");
    const d = b.deviation(sim.root);
    expect(d).toMatchObject({
      mature: true,
      outflowExcess: 0,
      readExcess: 0,
      novelSelector: 0,
      novelCaller: 0,
    });

    // The recorded borrow is small (2% of the market's balance) and scores 0 either way; a
    // large withdrawal with the same (routine) comparison is where the history matters.
    const scorer = createScorer({ alertThreshold: 0.4, pauseThreshold: 0.7 });
    const large = extractFeatures(sim, fromOf("borrow"));
    large.vector = { ...large.vector, protectedOutflowFraction: 0.6, senderCaptureFraction: 1 };
    const plain = scorer.score(large);
    const routine = scorer.score({ ...large, baseline: d });
    expect(plain.decision).toBe("alert");
    expect(routine.score).toBeLessThan(plain.score);
    expect(routine.decision).toBe("ignore");
    const reason = routine.reasons.find((r) => r.rule === "baseline-routine");
    expect(reason?.contribution).toBeLessThan(0);
    expect(routine.reasons.reduce((s, r) => s + r.contribution, 0)).toBeCloseTo(routine.score, 6);
    // the same payout from a caller the market never saw is not routine
    const stranger = scorer.score({ ...large, baseline: { ...d, novelCaller: 1 } });
    expect(stranger.score).toBe(plain.score);
  });

  it("adds history's evidence to an attack's reasons, never lowering it", () => {
    const b = historyOf(["deposit", "borrow", "large-deposit"], 3);
    const scorer = createScorer({ alertThreshold: 0.4, pauseThreshold: 0.7 });
    for (const name of ["attack-erc3156", "attack-v2-flash-swap", "attack-in-constructor"]) {
      const sim = load(name);
      const plain = scorer.score(extractFeatures(sim, fromOf(name)));
      const sharpened = scorer.score(extractFeatures(sim, fromOf(name), b));
      expect(sharpened.score, name).toBeGreaterThanOrEqual(plain.score);
      expect(sharpened.decision, name).toBe("pause");
      expect(
        sharpened.reasons.some((r) => r.rule.startsWith("baseline-") && r.contribution > 0),
        name,
      ).toBe(true);
      expect(sharpened.reasons.reduce((s, r) => s + r.contribution, 0)).toBeCloseTo(sharpened.score, 6);
    }
  });

  it("forgets what left its window", () => {
    const b = new ProtocolBaseline([world.market], { minObservations: 2, window: 3 });
    b.observe(hash("big"), load("borrow").root, 1n);
    for (let i = 0; i < 3; i++) b.observe(hash(`d${i}`), load("deposit").root, BigInt(2 + i));
    expect(b.counts()[world.market]).toBe(3);
    // the borrow's payout left the window: borrowing again is a payout the market no longer knows
    const d = b.deviation(load("borrow").root);
    expect(d.outflowExcess).toBe(1);
    expect(d.novelSelector).toBe(1);
  });

  it("rejects options that cannot work", () => {
    expect(() => new ProtocolBaseline([world.market], { minObservations: 0 })).toThrow(RangeError);
    expect(() => new ProtocolBaseline([world.market], { minObservations: 50, window: 10 })).toThrow(
      RangeError,
    );
  });
});
