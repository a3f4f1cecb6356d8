import type { BaselineDeviation } from "../features/baseline.ts";
import type { FeatureName, FeatureVector } from "../features/types.ts";

/**
 * An explainable rule: a weight and a strength in [0, 1] computed from the feature vector (and,
 * for the baseline rules, from the comparison with the protected contracts' own history). A
 * negative weight lowers the score: evidence that the transaction is routine for the protocol.
 */
export type Rule = {
  id: string;
  weight: number;
  /** The features whose evidence explains this rule ("baseline": the history comparison's). */
  evidenceFrom: FeatureName | "baseline";
  strength(v: FeatureVector, b: BaselineDeviation): number;
  explain(v: FeatureVector, b: BaselineDeviation): string;
};

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : x > 0 ? 1 : 0);
/** 0 at `from`, 1 at `to`, linear in between. */
const ramp = (x: number, from: number, to: number) => clamp01((x - from) / (to - from));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Weights were set by reasoning about mechanics, not fitted to scenarios: manipulation of a
 * value the protocol reads and a large drain are each strong on their own; a flash loan, a
 * pump-and-dump and a fresh contract are common in attacks but also in benign MEV, so they only
 * add to evidence of harm to a protected contract.
 */
export const RULES: readonly Rule[] = [
  {
    id: "protected-read-manipulated",
    weight: 0.45,
    evidenceFrom: "priceReadDeviation",
    strength: (v) => ramp(v.priceReadDeviation, 0.05, 0.5),
    explain: (v) =>
      `a protected contract read a value ${pct(v.priceReadDeviation)} away from its pre-transaction value`,
  },
  {
    id: "protected-drained",
    weight: 0.4,
    evidenceFrom: "protectedOutflowFraction",
    strength: (v) => ramp(v.protectedOutflowFraction, 0.05, 0.5),
    explain: (v) => `${pct(v.protectedOutflowFraction)} of a protected contract's balance of a token left it`,
  },
  {
    id: "sender-captured-drain",
    weight: 0.15,
    evidenceFrom: "senderCaptureFraction",
    strength: (v) => (v.protectedOutflowFraction >= 0.05 ? clamp01(v.senderCaptureFraction) : 0),
    explain: (v) =>
      `the sender's side kept ${pct(v.senderCaptureFraction)} of what left the protected contract`,
  },
  {
    id: "flash-loan",
    weight: 0.15,
    evidenceFrom: "flashLoan",
    strength: (v) => (v.flashLoan > 0 && v.protectedTouched > 0 ? 1 : 0),
    explain: (v) =>
      `borrowed and repaid within the transaction (${v.flashLoanCount} loan(s)) while a protected contract ran`,
  },
  {
    id: "pool-pumped-and-dumped",
    weight: 0.1,
    evidenceFrom: "maxReserveSwing",
    strength: (v) => (v.protectedTouched > 0 ? ramp(v.reserveRoundTrip, 0.05, 0.5) : 0),
    explain: (v) =>
      `a pool's price was pushed ${pct(v.maxReserveSwing)} and pulled back within the transaction`,
  },
  {
    id: "fresh-contract",
    weight: 0.05,
    evidenceFrom: "createdContracts",
    strength: (v) => (v.createdContracts > 0 && v.protectedTouched > 0 ? 1 : 0),
    explain: (v) =>
      `the transaction created ${v.createdContracts} contract(s) and reached a protected contract`,
  },
];

/**
 * A protocol's own history sharpens the decision both ways, and only once it has enough of it
 * (`mature`): an outflow or a price far beyond anything the contract has seen adds to the
 * evidence of harm; a payout within its usual size, by a caller it knows, through a function it
 * knows, with no borrowed capital, no created contract and no moved read lowers the score.
 * Neither fires for a newly protected contract, which is judged on mechanics alone.
 */
export const BASELINE_RULES: readonly Rule[] = [
  {
    id: "baseline-outflow-unprecedented",
    weight: 0.2,
    evidenceFrom: "baseline",
    strength: (v, b) =>
      b.mature && v.protectedOutflowFraction >= 0.02 ? ramp(b.outflowExcess, 0.3, 1.3) : 0,
    explain: (_v, b) =>
      b.outflowExcess >= 1
        ? `a protected contract paid out ${(10 ** b.outflowExcess).toFixed(0)}x (or more) its largest payout of that token in its recent history`
        : `a protected contract paid out ${(10 ** b.outflowExcess).toFixed(1)}x its largest payout of that token in its recent history`,
  },
  {
    id: "baseline-read-out-of-range",
    weight: 0.2,
    evidenceFrom: "baseline",
    strength: (_v, b) => (b.mature ? ramp(b.readExcess, 0.1, 0.5) : 0),
    explain: (_v, b) =>
      `a protected contract read a value ${pct(b.readExcess)} outside the range of every answer in its recent history`,
  },
  {
    id: "baseline-unfamiliar-function",
    weight: 0.05,
    evidenceFrom: "baseline",
    strength: (v, b) => (b.mature && b.novelSelector > 0 && v.protectedOutflowFraction > 0 ? 1 : 0),
    explain: () => "a protected contract paid out through a function absent from its recent history",
  },
  {
    id: "baseline-routine",
    weight: -0.2,
    evidenceFrom: "baseline",
    strength: (v, b) =>
      b.mature &&
      v.protectedOutflowFraction > 0 &&
      b.outflowExcess === 0 &&
      b.readExcess === 0 &&
      b.novelSelector === 0 &&
      b.novelCaller === 0 &&
      v.flashLoan === 0 &&
      v.createdContracts === 0 &&
      v.priceReadDeviation < 0.05
        ? 1
        : 0,
    explain: (_v, b) =>
      `routine for this protocol: a payout within its usual size, by a known caller through a known function, over ${b.observations} recent transactions`,
  },
];

export const RULES_VERSION = "rules-2";
