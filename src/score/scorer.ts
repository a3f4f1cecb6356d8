import { NEUTRAL_DEVIATION } from "../features/baseline.ts";
import type { Features } from "../features/types.ts";
import { BASELINE_RULES, RULES, RULES_VERSION } from "./rules.ts";
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
      const b = features.baseline ?? NEUTRAL_DEVIATION;
      const reasons: Reason[] = [];
      let raised = 0;
      let lowered = 0;
      for (const rule of [...RULES, ...BASELINE_RULES]) {
        const s = rule.strength(v, b);
        if (s <= 0) continue;
        const c = rule.weight * s;
        if (c > 0) raised += c;
        else lowered += c;
        reasons.push({
          rule: rule.id,
          contribution: c,
          detail: rule.explain(v, b),
          evidence:
            rule.evidenceFrom === "baseline" ? b.evidence : (features.evidence[rule.evidenceFrom] ?? []),
        });
      }
      // Evidence of harm is capped at 1, then routine evidence subtracts; contributions are scaled
      // so that the reasons add up to the score.
      const up = Math.min(1, raised);
      const down = Math.max(-up, lowered);
      const ruleScore = up + down;
      for (const r of reasons) {
        const k = r.contribution > 0 ? (raised > 0 ? up / raised : 0) : lowered < 0 ? down / lowered : 0;
        r.contribution *= k * (1 - modelWeight);
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
