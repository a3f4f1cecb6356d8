import fs from "node:fs";
import { FEATURE_NAMES, type FeatureName, type FeatureVector } from "../features/types.ts";
import { VigilError } from "../internal/errors.ts";
import type { Model } from "./types.ts";

/**
 * The trained model: L2-regularised logistic regression on the feature vector, with a log1p
 * transform for heavy-tailed features and standardisation. Small enough to read in a review,
 * deterministic to train (`npm run train`), explainable (a contribution per feature = weight ×
 * standardised value), and stored as a versioned JSON artifact.
 */
export type ModelArtifact = {
  kind: "logistic-regression";
  version: string;
  createdAt: string;
  features: FeatureName[];
  /** Features passed through log1p before standardisation. */
  log1p: FeatureName[];
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  training: Record<string, unknown>;
};

export class ModelError extends VigilError {
  override name = "ModelError";
}

/** Features whose values span orders of magnitude (ratios, counts, gas). */
export const LOG_FEATURES: readonly FeatureName[] = [
  "priceReadDeviation",
  "maxReserveSwing",
  "reserveRoundTrip",
  "flashLoanCount",
  "createdContracts",
  "protectedOutflowTokens",
  "senderProfitTokens",
  "callDepth",
  "gasUsedM",
];

export function transform(
  a: Pick<ModelArtifact, "features" | "log1p" | "mean" | "std">,
  v: FeatureVector,
): number[] {
  const logs = new Set(a.log1p);
  return a.features.map((f, i) => {
    const raw = Number.isFinite(v[f]) ? v[f] : 100;
    const x = logs.has(f) ? Math.log1p(Math.max(0, raw)) : raw;
    return (x - (a.mean[i] ?? 0)) / (a.std[i] || 1);
  });
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function modelFromArtifact(a: ModelArtifact): Model {
  return {
    version: a.version,
    features: a.features,
    predict(v) {
      const x = transform(a, v);
      const contributions = a.features.map((feature, i) => ({
        feature,
        value: (a.weights[i] ?? 0) * (x[i] ?? 0),
      }));
      const z = a.bias + contributions.reduce((s, c) => s + c.value, 0);
      return { probability: sigmoid(z), contributions };
    },
  };
}

/** Loads and checks a model artifact; the error says which file and what is wrong. */
export function loadModel(path: string): Model {
  let a: ModelArtifact;
  try {
    a = JSON.parse(fs.readFileSync(path, "utf8")) as ModelArtifact;
  } catch (error) {
    throw new ModelError(`cannot read the model ${path}`, {
      hint: "run `npm run train` to create it",
      cause: error,
    });
  }
  const known = new Set<string>(FEATURE_NAMES);
  const problems: string[] = [];
  if (a.kind !== "logistic-regression")
    problems.push(`kind is ${JSON.stringify(a.kind)}, expected "logistic-regression"`);
  if (!Array.isArray(a.features) || a.features.some((f) => !known.has(f)))
    problems.push("features lists a name this version does not compute");
  for (const k of ["mean", "std", "weights"] as const) {
    if (!Array.isArray(a[k]) || a[k].length !== a.features?.length || a[k].some((x) => !Number.isFinite(x))) {
      problems.push(`${k} must hold one finite number per feature`);
    }
  }
  if (!Number.isFinite(a.bias)) problems.push("bias must be a finite number");
  if (problems.length > 0)
    throw new ModelError(`the model ${path} is invalid`, {
      details: problems,
      hint: "retrain with `npm run train`",
    });
  return modelFromArtifact(a);
}

export type Sample = { features: FeatureVector; label: 0 | 1; family: string };

/**
 * Trains by full-batch gradient descent (deterministic: zero init, fixed steps), with classes
 * weighted so that the rare attacks count as much as the benign majority.
 */
export function trainLogistic(
  samples: readonly Sample[],
  options: { l2?: number; steps?: number; learningRate?: number; features?: readonly FeatureName[] } = {},
): ModelArtifact {
  const features = [...(options.features ?? FEATURE_NAMES)];
  const log1p = features.filter((f) => LOG_FEATURES.includes(f));
  const raw = samples.map((s) =>
    transform({ features, log1p, mean: features.map(() => 0), std: features.map(() => 1) }, s.features),
  );
  const mean = features.map((_, j) => raw.reduce((a, x) => a + (x[j] ?? 0), 0) / Math.max(1, raw.length));
  const std = features.map((_, j) => {
    const m = mean[j] ?? 0;
    const v = raw.reduce((a, x) => a + ((x[j] ?? 0) - m) ** 2, 0) / Math.max(1, raw.length);
    return Math.sqrt(v) || 1;
  });
  const X = raw.map((x) => x.map((xj, j) => (xj - (mean[j] ?? 0)) / (std[j] ?? 1)));
  const y = samples.map((s) => s.label);
  const pos = y.filter((v) => v === 1).length;
  const neg = y.length - pos;
  const wPos = pos > 0 ? y.length / (2 * pos) : 1;
  const wNeg = neg > 0 ? y.length / (2 * neg) : 1;
  const l2 = options.l2 ?? 0.01;
  const steps = options.steps ?? 800;
  const lr = options.learningRate ?? 0.5;
  const w = features.map(() => 0);
  let b = 0;
  for (let step = 0; step < steps; step++) {
    const gw = features.map(() => 0);
    let gb = 0;
    for (let i = 0; i < X.length; i++) {
      const xi = X[i] as number[];
      const yi = y[i] as number;
      const z = b + xi.reduce((a, x, j) => a + x * (w[j] ?? 0), 0);
      const err = (sigmoid(z) - yi) * (yi === 1 ? wPos : wNeg);
      for (let j = 0; j < xi.length; j++) gw[j] = (gw[j] ?? 0) + err * (xi[j] ?? 0);
      gb += err;
    }
    for (let j = 0; j < w.length; j++) w[j] = (w[j] ?? 0) - lr * ((gw[j] ?? 0) / X.length + l2 * (w[j] ?? 0));
    b -= (lr * gb) / X.length;
  }
  return {
    kind: "logistic-regression",
    version: "",
    createdAt: "",
    features,
    log1p,
    mean,
    std,
    weights: w,
    bias: b,
    training: { samples: samples.length, attacks: pos, benign: neg, l2, steps, learningRate: lr },
  };
}
