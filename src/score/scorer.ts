import type { Features } from "../features/types.ts";
import { RULES, RULES_VERSION } from "./rules.ts";
import type { Decision, Model, Reason, Verdict } from "./types.ts";

export type ScorerOptions = {
  alertThreshold: number;
  pauseThreshold: number;
  /** Optional trained model, blended with the rules. */
  model?: Model;
  /** Share of the score given to the model when one is loaded (0..1). */
  modelWeight?: number;
};

export type Scorer = { score(features: Features): Verdict; readonly version: string };

export function createScorer(options: ScorerOptions): Scorer {
  const { model } = options;
  const modelWeight = model ? (options.modelWeight ?? 0.5) : 0;
  const version = model ? `${RULES_VERSION}+${model.version}` : RULES_VERSION;

  return {
    version,
    score(features) {
      const v = features.vector;
      const reasons: Reason[] = [];
      let ruleScore = 0;
      for (const rule of RULES) {
        const s = rule.strength(v);
        if (s <= 0) continue;
        const c = rule.weight * s;
        ruleScore += c;
        reasons.push({
          rule: rule.id,
          contribution: c * (1 - modelWeight),
          detail: rule.explain(v),
          evidence: features.evidence[rule.evidenceFrom] ?? [],
        });
      }
      ruleScore = Math.min(1, ruleScore);
      // Rule contributions beyond the cap are scaled so that reasons add up to the score.
      const capScale = reasons.reduce((s, r) => s + r.contribution, 0);
      if (capScale > 0 && capScale > ruleScore * (1 - modelWeight)) {
        const k = (ruleScore * (1 - modelWeight)) / capScale;
        for (const r of reasons) r.contribution *= k;
      }
      let score = ruleScore * (1 - modelWeight);
      if (model) {
        const p = model.predict(v);
        score += modelWeight * p.probability;
        const top = [...p.contributions].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 3);
        reasons.push({
          rule: `model:${model.version}`,
          contribution: modelWeight * p.probability,
          detail: `model gives ${(p.probability * 100).toFixed(1)}% attack probability; strongest inputs: ${top
            .map((t) => `${t.feature} ${t.value >= 0 ? "+" : ""}${t.value.toFixed(2)}`)
            .join(", ")}`,
          evidence: [],
        });
      }
      reasons.sort((a, b) => b.contribution - a.contribution);
      const decision: Decision =
        score >= options.pauseThreshold ? "pause" : score >= options.alertThreshold ? "alert" : "ignore";
      return { score, decision, reasons, version };
    },
  };
}
