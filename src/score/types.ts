import type { Evidence, FeatureName, FeatureVector } from "../features/types.ts";

export type Decision = "ignore" | "alert" | "pause";

/** One reason behind a score: which rule (or the model), how much it added, and why. */
export type Reason = { rule: string; contribution: number; detail: string; evidence: Evidence[] };

export type Verdict = {
  score: number;
  decision: Decision;
  /** Ranked by contribution, largest first; only rules that contributed. */
  reasons: Reason[];
  /** Version of the rules and model that made this verdict (records carry it). */
  version: string;
};

/**
 * A trained model that plugs in next to the rules: a probability of "attack" and per-feature
 * contributions (for a linear model: weight × value), so that alerts can show what it saw.
 */
export type Model = {
  version: string;
  features: readonly FeatureName[];
  predict(vector: FeatureVector): {
    probability: number;
    contributions: { feature: FeatureName; value: number }[];
  };
};
