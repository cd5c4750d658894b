/**
 * EvaluateChallenger: scores of challenger and champion on the same holdout, the validation gate's
 * verdict and the baseline profile the promotion will store.
 */
import { profileSpecOf } from "../../../contracts/model";
import type { LabelledRow } from "../../domain/retraining/dataset";
import {
  parseScoredLine,
  profileHoldout,
  type ScoredOutput,
  shiftValues,
  trainingBaseline,
} from "../../domain/retraining/holdout-evaluation";
import {
  applyValidationGate,
  type MetricValues,
  predictionShift,
} from "../../domain/retraining/validation-gate";
import { performanceMetrics } from "../../domain/stats/performance";
import { deserializeProfile, serializeProfile } from "../../domain/stats/profile-codec";
import type { ObjectStore } from "../../ports/object-store";
import {
  type DatasetResult,
  type EvaluationResult,
  joinUri,
  type RetrainingDeps,
  type RunPlan,
  readLines,
  type ScoresResult,
} from "./run-plan";

async function readScores(objects: ObjectStore, outputUri: string, run: RunPlan): Promise<ScoredOutput[]> {
  return (await readLines(objects, outputUri)).map((l) => parseScoredLine(l, run.task, run.classes));
}

export async function evaluateChallenger(
  deps: RetrainingDeps,
  input: {
    run: RunPlan;
    dataset: DatasetResult;
    scores: ScoresResult;
  },
): Promise<EvaluationResult> {
  const { objects } = deps;
  const { run, dataset, scores } = input;
  const features = (await readLines(objects, dataset.holdoutFeaturesUri)).map(
    (l) => (JSON.parse(l) as { features: LabelledRow["features"] }).features,
  );
  const labels = (await objects.getText(dataset.holdoutLabelsUri))
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => (JSON.parse(l) as { label: number | string }).label);
  const rows = features.map((f, i) => ({ features: f, label: labels[i]! }));
  const spec = profileSpecOf(run);

  const challengerOut = await readScores(objects, scores.challenger.outputUri, run);
  const challengerProfile = profileHoldout(spec, rows, challengerOut);
  const challenger: MetricValues = { ...performanceMetrics(challengerProfile.performance) } as MetricValues;

  let champion: MetricValues | undefined;
  let shift: number | undefined;
  if (scores.champion.outputUri && !scores.champion.skipped) {
    const championOut = await readScores(objects, scores.champion.outputUri, run);
    const championProfile = profileHoldout(spec, rows, championOut);
    champion = { ...performanceMetrics(championProfile.performance) } as MetricValues;
    shift = predictionShift(shiftValues(run.task, championOut), shiftValues(run.task, challengerOut));
  }
  const verdict = applyValidationGate(run.gate, {
    task: run.task,
    challenger,
    ...(champion ? { champion } : {}),
    ...(shift !== undefined ? { predictionShift: shift } : {}),
  });
  // Features of every prepared row, outputs and performance of the challenger on the holdout: see
  // trainingBaseline for why, and for what `count` means in the result.
  const baseline =
    dataset.featuresProfileUri === undefined
      ? challengerProfile
      : trainingBaseline(
          challengerProfile,
          deserializeProfile(await objects.getText(dataset.featuresProfileUri)),
        );
  const baselineUri = joinUri(run.s3.datasetUri, "baseline-profile.json");
  await objects.putText(baselineUri, serializeProfile(baseline), "application/json");

  const m = verdict.metric;
  const val = (x: MetricValues | undefined) => (x?.[m] === undefined ? "n/a" : x[m]!.toFixed(4));
  const summary =
    `Model ${run.modelId}, run ${run.runId}: challenger ${m} ${val(challenger)} vs champion ${champion ? val(champion) : "(none)"} ` +
    `on ${rows.length} holdout rows${shift !== undefined ? `, prediction shift ${shift.toFixed(4)}` : ""}; ` +
    (verdict.passed ? "validation gate passed." : `validation gate rejected: ${verdict.reasons.join("; ")}.`);
  const pick = (x: MetricValues): MetricValues => ({ [m]: x[m], n: x.n ?? rows.length });
  return {
    passed: verdict.passed,
    metric: m,
    challenger: pick(challenger),
    ...(champion ? { champion: pick(champion) } : {}),
    ...(shift !== undefined ? { predictionShift: shift } : {}),
    reasons: verdict.reasons,
    summary,
    baselineUri,
  };
}
