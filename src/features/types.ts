import type { BaselineDeviation } from "./baseline.ts";

/** Numbers the scorer (rules and model) reads; every value is finite, most are in [0, ~10]. */
export type FeatureVector = {
  /** Largest relative change of a value a protected contract read, vs the same read before the tx. */
  priceReadDeviation: number;
  /** Largest share of a protected contract's balance of one token that left it (net) in the tx. */
  protectedOutflowFraction: number;
  /** Number of (protected contract, token) pairs with a net outflow. */
  protectedOutflowTokens: number;
  /** Of what left protected contracts, the largest share that ended with the sender's side. */
  senderCaptureFraction: number;
  /** Number of tokens the sender's side gained, net. */
  senderProfitTokens: number;
  /** 1 if a borrow-and-repay (flash loan) happened inside the tx. */
  flashLoan: number;
  flashLoanCount: number;
  /** Largest relative price excursion of a V2-style pool during the tx, vs before. */
  maxReserveSwing: number;
  /** Part of that excursion that was undone by the end of the tx (pump and dump). */
  reserveRoundTrip: number;
  /** Contracts created by the tx (the root of a creation tx included). */
  createdContracts: number;
  /** 1 if any protected contract's code ran. */
  protectedTouched: number;
  callDepth: number;
  reverted: number;
  /** Gas used, in millions. */
  gasUsedM: number;
};

export type FeatureName = keyof FeatureVector;

export const FEATURE_NAMES: readonly FeatureName[] = [
  "priceReadDeviation",
  "protectedOutflowFraction",
  "protectedOutflowTokens",
  "senderCaptureFraction",
  "senderProfitTokens",
  "flashLoan",
  "flashLoanCount",
  "maxReserveSwing",
  "reserveRoundTrip",
  "createdContracts",
  "protectedTouched",
  "callDepth",
  "reverted",
  "gasUsedM",
];

/** Where a feature's value came from: trace frame paths and a sentence for humans. */
export type Evidence = { frames: number[][]; detail: string };

export type Features = {
  vector: FeatureVector;
  evidence: Partial<Record<FeatureName, Evidence[]>>;
  /**
   * How the transaction compares with its protected contracts' own history (features/baseline.ts).
   * Absent when no history is kept; neutral while a contract's history is too short. Kept out of
   * the model's vector on purpose: a newly protected contract has no history, and the model must
   * not come to depend on it.
   */
  baseline?: BaselineDeviation;
};
