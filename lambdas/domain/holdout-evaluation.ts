/**
 * Scoring results of the challenger and the champion on the shared holdout, turned into profiles with
 * the same profile code the evaluator uses: performance statistics for the gate's metrics, and a full
 * prediction profile of the challenger that becomes the new baseline after promotion. Pure.
 */
import type { FeatureKind, FeatureValue, TaskType } from "./events";
import { addOutcome, addPrediction, emptyProfile, type Profile, type ProfileSpec } from "./profile";

/** One model output line of a batch transform, normalized. */
export interface ScoredOutput {
  readonly prediction: number | string;
  readonly score?: number;
  readonly probabilities?: Readonly<Record<string, number>>;
}

/** The transform output does not line up with the holdout (wrong count or unreadable line). */
export class ScoringOutputError extends Error {
  override readonly name = "ScoringOutputError";
}

/**
 * Parses one output line. Accepted: `{"prediction": p, "score"?: s, "probabilities"?: {...}}`, or a bare
 * number (regression: the value; binary: P(positive), thresholded at 0.5 into `classes`), or a bare
 * string (a class label). The contract for a bring-your-own inference container is in docs/workflow.md.
 */
export function parseScoredLine(
  line: string,
  task: TaskType,
  classes: readonly string[] = ["0", "1"],
): ScoredOutput {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ScoringOutputError(`transform output line is not JSON: ${line.slice(0, 200)}`);
  }
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (typeof v === "number" && Number.isFinite(v)) {
    if (task !== "binary") return { prediction: v };
    const positive = classes[1] ?? "1";
    const negative = classes[0] ?? "0";
    const label = v >= 0.5 ? positive : negative;
    return { prediction: /^-?\d+$/.test(label) ? Number(label) : label, score: v };
  }
  if (typeof v === "string") return { prediction: v };
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o.prediction === "number" || typeof o.prediction === "string") {
      return {
        prediction: o.prediction,
        ...(typeof o.score === "number" ? { score: o.score } : {}),
        ...(typeof o.probabilities === "object" && o.probabilities !== null
          ? { probabilities: o.probabilities as Record<string, number> }
          : {}),
      };
    }
  }
  throw new ScoringOutputError(`transform output line has no prediction: ${line.slice(0, 200)}`);
}

export interface HoldoutRow {
  readonly features: Readonly<Record<string, FeatureValue>>;
  readonly label: number | string;
}

/** Profile spec of a model from its configured features. */
export function profileSpecOf(
  task: TaskType,
  features: readonly { name: string; kind: FeatureKind }[],
  classes?: readonly string[],
): ProfileSpec {
  return {
    task,
    features: Object.fromEntries(features.map((f) => [f.name, f.kind])),
    ...(classes ? { classes } : {}),
  };
}

/**
 * Profiles one model's holdout scores: predictions with their features (for the baseline) and outcomes
 * against the labels (for the metrics). Outputs must align one-to-one with the holdout rows.
 */
export function profileHoldout(
  spec: ProfileSpec,
  rows: readonly HoldoutRow[],
  outputs: readonly ScoredOutput[],
): Profile {
  if (rows.length !== outputs.length) {
    throw new ScoringOutputError(
      `transform produced ${outputs.length} predictions for ${rows.length} holdout rows`,
    );
  }
  const profile = emptyProfile(spec);
  rows.forEach((row, i) => {
    const out = outputs[i]!;
    addPrediction(profile, {
      features: row.features,
      prediction: out.prediction,
      ...(out.score !== undefined ? { score: out.score } : {}),
    });
    addOutcome(profile, {
      prediction: out.prediction,
      label: row.label,
      ...(out.score !== undefined ? { score: out.score } : {}),
      ...(out.probabilities ? { probabilities: out.probabilities } : {}),
    });
  });
  return profile;
}

/** What the prediction-shift guardrail compares: scores for binary models, else the predictions. */
export function shiftValues(task: TaskType, outputs: readonly ScoredOutput[]): (number | string)[] {
  if (task === "binary" && outputs.every((o) => o.score !== undefined)) return outputs.map((o) => o.score!);
  return outputs.map((o) => o.prediction);
}
