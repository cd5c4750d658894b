/**
 * EvaluateChallenger: scores of challenger and champion on the same holdout rows, the validation gate's
 * paired verdict, and the baseline profile the promotion will store.
 */
import { profileSpecOf } from "../../../contracts/model";
import type { LabelledRow } from "../../domain/retraining/dataset";
import {
  parseScoredLine,
  profileHoldout,
  type ScoredOutput,
  trainingBaseline,
} from "../../domain/retraining/holdout-evaluation";
import {
  applyValidationGate,
  describeChecks,
  type GateVerdict,
  type ModelMetric,
} from "../../domain/retraining/validation-gate";
import { deserializeProfile, serializeProfile } from "../../domain/stats/profile-codec";
import type { ObjectStore } from "../../ports/object-store";
import {
  type DatasetResult,
  type EvaluationResult,
  joinUri,
  type MetricValues,
  type RetrainingDeps,
  type RunPlan,
  readLines,
  type ScoresResult,
} from "./run-plan";

async function readScores(objects: ObjectStore, outputUri: string, run: RunPlan): Promise<ScoredOutput[]> {
  return (await readLines(objects, outputUri)).map((l) => parseScoredLine(l, run.task, run.classes));
}

const fourDigits = (x: number | undefined): string => (x === undefined ? "n/a" : x.toFixed(4));

const OUTCOME_WORDS: Readonly<Record<GateVerdict["outcome"], string>> = {
  passed: "passed",
  rejected: "rejected",
  insufficientHoldout: "rejected for an insufficient holdout (undecided, not shown worse)",
};

/** First line of the summary: the outcome, the metrics and the test's settings. */
function headline(run: RunPlan, verdict: GateVerdict, rows: number): string {
  const m = verdict.metric;
  const margin =
    verdict.marginKind === "relative"
      ? `${Number((verdict.margin * 100).toPrecision(4))}%`
      : String(verdict.margin);
  const test =
    run.gate.hypothesis === "superiority"
      ? `paired superiority test, sized for an improvement of ${margin}`
      : `paired non-inferiority test, margin ${margin}`;
  const compared = verdict.champion
    ? `challenger ${m} ${fourDigits(verdict.challenger.value)} vs champion ${fourDigits(verdict.champion.value)} on ${rows} holdout rows (${test}, alpha ${run.gate.alpha})`
    : `challenger ${m} ${fourDigits(verdict.challenger.value)} on ${rows} holdout rows (first model: no champion to compare with)`;
  const outcome = OUTCOME_WORDS[verdict.outcome];
  return `Model ${run.modelId}, run ${run.runId}: validation gate ${outcome}: ${compared}.`;
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
  // Also checks that the outputs line up with the holdout rows (ScoringOutputError otherwise).
  const challengerProfile = profileHoldout(spec, rows, challengerOut);
  let championOut: ScoredOutput[] | undefined;
  if (scores.champion.outputUri && !scores.champion.skipped) {
    championOut = await readScores(objects, scores.champion.outputUri, run);
    profileHoldout(spec, rows, championOut);
  }
  const positive = run.classes?.[1];
  const verdict = applyValidationGate(run.gate, {
    task: run.task,
    labels,
    ...(positive !== undefined ? { positive } : {}),
    challenger: challengerOut,
    ...(championOut ? { champion: championOut } : {}),
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

  const pick = (x: ModelMetric): MetricValues => ({
    ...(x.value !== undefined ? { [verdict.metric]: x.value } : {}),
    n: x.n,
  });
  return {
    passed: verdict.passed,
    outcome: verdict.outcome,
    metric: verdict.metric,
    margin: verdict.margin,
    challenger: pick(verdict.challenger),
    ...(verdict.champion ? { champion: pick(verdict.champion) } : {}),
    ...(verdict.agreement !== undefined ? { agreement: verdict.agreement } : {}),
    checks: verdict.checks,
    reasons: verdict.reasons,
    summary: [headline(run, verdict, rows.length), describeChecks(verdict)]
      .filter((part) => part !== "")
      .join("\n"),
    baselineUri,
  };
}
