/**
 * Scoring results of the challenger and the champion on the shared holdout, turned into profiles with
 * the same profile code the evaluator uses: performance statistics for the gate's metrics, and the
 * challenger's prediction profile that, combined with the feature profile of the whole prepared dataset
 * (`trainingBaseline`), becomes the new baseline after promotion. Pure.
 */

import type { FeatureValue } from "../../../contracts/events";
import type { ProfileSpec, TaskType } from "../../../contracts/model";
import { emptyProfile, type Profile } from "../stats/profile";
import { mergeProfiles } from "../stats/profile-merge";
import { addOutcome, addPrediction } from "../stats/profile-update";

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

/**
 * Feature profile of labelled rows that have no model output (the train and validation channels), built
 * with the same `addPrediction` as every other profile so its feature summaries merge with them. Only
 * `features` is meant to be read: the prediction slot holds each row's label (the target distribution,
 * since no model scored these rows), `score` counts every row as missing, and `performance` is empty.
 */
export function profileFeatures(spec: ProfileSpec, rows: readonly HoldoutRow[]): Profile {
  const profile = emptyProfile(spec);
  for (const row of rows) addPrediction(profile, { features: row.features, prediction: row.label });
  return profile;
}

/**
 * The baseline stored when a challenger is promoted: the reference the evaluator compares live traffic
 * with until the next deploy. Two sources, because no single one has everything:
 *
 * - `features`: `trainingFeatures` (the train and validation rows, from `profileFeatures`) merged with
 *   the holdout profile's features, i.e. every prepared row: the data the new champion was trained and
 *   validated on. Each feature summary's `count`/`missing` therefore covers all prepared rows, which is
 *   what feature drift (`n.reference` = the summary's count, held against `drift.minSamples`) and the
 *   missing-rate check (a per-feature rate) read. The holdout alone (15 %) would often sit below
 *   `minSamples` and silence feature drift until the next deploy.
 * - `prediction`, `score`, `performance`, `labelled`: the challenger's scored holdout only, the one
 *   place the new model's outputs and their agreement with labels exist. Prediction/score drift, the
 *   label-free estimate and the realized-performance baseline read their sample sizes from these
 *   summaries (`prediction.count`, `score.count`, `performance.n`), so they see the holdout size.
 * - `count` stays the holdout's: the profile contract defines it as the prediction events profiled,
 *   which are the holdout predictions, consistent with `prediction.count`. Feature summaries may thus
 *   count more values than `count`. The only reader of a baseline's `count` is the volume check's
 *   reference rate (`count / hours`), which applies only to reference-window baselines (with `hours`);
 *   a training baseline has no `hours`, so its `count` is never read as a traffic volume.
 *
 * Pure: the inputs are not modified, but the result shares the holdout's prediction, score and
 * performance summaries, so mutate neither afterwards. Throws `ProfileFormatError` when the tasks differ.
 */
export function trainingBaseline(holdout: Profile, trainingFeatures: Profile): Profile {
  const merged = mergeProfiles(trainingFeatures, holdout);
  return { ...holdout, features: merged.features };
}
