import fs from "node:fs";
import path from "node:path";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { extractFeatures } from "../src/features/extract.ts";
import { detectFlashLoans } from "../src/features/flash-loan.ts";
import { wordDeviation } from "../src/features/price-read.ts";
import { indexTrace, senderSide } from "../src/features/trace-index.ts";
import { simulationFromJson } from "../src/simulate/serialize.ts";
import type { Simulation } from "../src/simulate/types.ts";

// Recorded traces of the drill's scenarios (scripts/record-traces.ts), replayed through the
// feature code: each mechanic is checked on a real simulation, not on a hand-made tree.
const dir = path.join(import.meta.dirname, "fixtures/traces");
const world = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as {
  market: Address;
  flashLender: Address;
  pricePair: Address;
  fundingPair: Address;
  scenarios: Record<string, { kind: string; from: Address; to: Address | null }>;
};
const load = (name: string): { sim: Simulation; from: Address } => ({
  sim: simulationFromJson(fs.readFileSync(path.join(dir, `${name}.json`), "utf8")),
  from: world.scenarios[name]?.from as Address,
});
const features = (name: string) => {
  const { sim, from } = load(name);
  return extractFeatures(sim, from);
};

describe("features on recorded traces", () => {
  it("finds the ERC-3156 borrow-and-repay by its callback shape, naming the lender", () => {
    const { sim, from } = load("attack-erc3156");
    const index = indexTrace(sim);
    const loans = detectFlashLoans(index, senderSide(sim, index, from)).loans;
    expect(loans).toHaveLength(1);
    expect(loans[0]?.lender).toBe(world.flashLender);
    expect(loans[0]?.repaid).toBeGreaterThan(loans[0]?.borrowed ?? 0n); // fee included
  });

  it("finds a Uniswap V2 flash swap as a flash loan from the pair", () => {
    const { sim, from } = load("attack-v2-flash-swap");
    const index = indexTrace(sim);
    const loans = detectFlashLoans(index, senderSide(sim, index, from)).loans;
    expect(loans.map((l) => l.lender)).toEqual([world.fundingPair]);
  });

  it("sees the price the market read moved far from its pre-transaction value", () => {
    const f = features("attack-erc3156");
    expect(f.vector.priceReadDeviation).toBeGreaterThan(1); // reserves ×5 during the tx
    const ev = f.evidence.priceReadDeviation?.[0];
    expect(ev?.detail).toContain(world.pricePair);
    expect(ev?.frames[0]?.length).toBeGreaterThan(0); // points into the trace
  });

  it("measures the drain and the sender's capture of it", () => {
    const f = features("attack-erc3156").vector;
    expect(f.protectedOutflowFraction).toBeGreaterThan(0.9);
    expect(f.senderCaptureFraction).toBeGreaterThan(0.8);
    expect(f.reserveRoundTrip).toBeGreaterThan(0.5); // pumped, then sold back
  });

  it("counts contracts created by an attack that runs in a constructor", () => {
    const f = features("attack-in-constructor").vector;
    expect(f.createdContracts).toBeGreaterThanOrEqual(2);
    expect(f.flashLoan).toBe(1);
    expect(f.protectedOutflowFraction).toBeGreaterThan(0.9);
  });

  it("keeps benign traffic quiet: swaps, deposits and borrows read honest prices", () => {
    for (const name of ["swap", "deposit", "borrow", "whale-swap", "large-deposit"]) {
      const f = features(name).vector;
      expect(f.priceReadDeviation, name).toBe(0);
      expect(f.flashLoan, name).toBe(0);
    }
    expect(features("borrow").vector.protectedOutflowFraction).toBeLessThan(0.05);
    // A whale swap that never reaches a protected contract: its pool's reserves are not even read
    // (the simulator skips that work), and nothing else fires.
    expect(features("whale-swap").vector.protectedTouched).toBe(0);
    expect(features("whale-swap").vector.maxReserveSwing).toBe(0);
  });

  it("sees flash-loan arbitrage as a flash loan that never touches the protected contract", () => {
    const f = features("flash-loan-arbitrage").vector;
    expect(f.flashLoan).toBe(1);
    expect(f.protectedTouched).toBe(0);
    expect(f.protectedOutflowFraction).toBe(0);
  });
});

describe("price-read deviation, word by word", () => {
  const word = (n: bigint) => n.toString(16).padStart(64, "0");
  it("takes the largest relative change among quantities", () => {
    expect(wordDeviation(`0x${word(100n)}${word(50n)}`, `0x${word(500n)}${word(40n)}`)).toBeCloseTo(4);
  });
  it("ignores unchanged words and hashes", () => {
    const hash = (1n << 255n) + 7n;
    expect(wordDeviation(`0x${word(hash)}${word(9n)}`, `0x${word(hash - 5n)}${word(9n)}`)).toBe(0);
  });
});
