/**
 * PrepareDataset: joins the archived predictions of the training window with their labels (or reads the
 * user's training data), splits train/validation/holdout deterministically, and writes the dataset, its
 * manifest and the feature profile of the training rows to S3.
 */
import { profileSpecOf } from "../../../contracts/model";
import {
  archiveDayPrefixes,
  DEFAULT_MINIMUM_ROWS,
  DEFAULT_SPLIT,
  type HoldoutCheck,
  holdoutLabelLine,
  LabelJoin,
  splitDataset,
  trainingLine,
  transformLine,
} from "../../domain/retraining/dataset";
import { profileFeatures } from "../../domain/retraining/holdout-evaluation";
import { labelClasses } from "../../domain/retraining/holdout-outcomes";
import { assessHoldout, describeNeed, resolveGate } from "../../domain/retraining/holdout-sizing";
import { serializeProfile } from "../../domain/stats/profile-codec";
import { type DatasetResult, joinUri, type RetrainingDeps, type RunPlan, readLines } from "./run-plan";

/**
 * With a champion to compare against, the holdout must be large enough for the validation gate's paired
 * test (holdout-sizing.ts): a smaller one would reject good challengers after a whole training run, so
 * the run fails here instead, naming the numbers. The first model has no paired test.
 */
function gateHoldoutCheck(run: RunPlan): HoldoutCheck | undefined {
  if (!run.champion.exists) return undefined;
  const gate = resolveGate(run.gate, run.task);
  const positive = run.classes?.[1];
  return (holdout) => {
    const labels = holdout.map((row) => row.label);
    const classes = labelClasses({ task: run.task, labels, ...(positive !== undefined ? { positive } : {}) });
    const assessment = assessHoldout(gate, run.task, classes);
    if (assessment.shortfalls.length === 0) return [];
    const needs = assessment.shortfalls.map(describeNeed).join(", ");
    return [
      `holdout too small for the validation gate's paired ${gate.metric} test: ${needs} (${assessment.basis})`,
    ];
  };
}

export async function prepareDataset(deps: RetrainingDeps, input: { run: RunPlan }): Promise<DatasetResult> {
  const { objects, layout } = deps;
  const run = input.run;
  const join = new LabelJoin(run.modelId, { fromMs: run.window.fromMs, toMs: run.window.toMs });
  let source: DatasetResult["source"] = "archive";
  if (run.inputDataUri) {
    source = "inputDataUri";
    let n = 0;
    for (const line of await readLines(objects, run.inputDataUri)) {
      const raw = JSON.parse(line) as Record<string, unknown>;
      if ("type" in raw) {
        join.addRecord(raw);
        continue;
      }
      // A plain training row {features, label, requestId?}: fed as a prediction + label pair.
      const requestId = typeof raw.requestId === "string" ? raw.requestId : `row-${n}`;
      n++;
      const timestamp = run.window.fromMs;
      join.addRecord({
        schemaVersion: 1,
        type: "prediction",
        modelId: run.modelId,
        requestId,
        timestamp,
        features: raw.features,
        prediction: raw.label ?? 0,
      });
      join.addRecord({
        schemaVersion: 1,
        type: "label",
        modelId: run.modelId,
        requestId,
        timestamp,
        label: raw.label,
      });
    }
  } else {
    const labelsUntil = run.window.toMs + 0;
    const prefixes = archiveDayPrefixes(
      run.modelId,
      run.window.fromMs,
      Math.max(labelsUntil, run.window.labelsUntilMs) + 1,
    );
    for (const prefix of prefixes) {
      for (const line of await readLines(objects, `s3://${layout.bucket}/${prefix}`)) join.addLine(line);
    }
  }
  const rows = join.rows();
  const split = splitDataset(rows, DEFAULT_SPLIT, DEFAULT_MINIMUM_ROWS, gateHoldoutCheck(run));
  const put = (rest: string, lines: string[]) =>
    objects.putText(
      joinUri(run.s3.datasetUri, rest),
      lines.length ? `${lines.join("\n")}\n` : "",
      "application/jsonlines",
    );
  const featuresProfile = profileFeatures(profileSpecOf(run), [...split.train, ...split.validation]);
  const featuresProfileUri = joinUri(run.s3.datasetUri, "features-profile.json");
  await Promise.all([
    put("train/data.jsonl", split.train.map(trainingLine)),
    put("validation/data.jsonl", split.validation.map(trainingLine)),
    put("holdout/features.jsonl", split.holdout.map(transformLine)),
    put("holdout-labels.jsonl", split.holdout.map(holdoutLabelLine)),
    objects.putText(
      joinUri(run.s3.datasetUri, "manifest.json"),
      JSON.stringify({
        runId: run.runId,
        window: run.window,
        source,
        counts: split.counts,
        join: join.stats,
      }),
      "application/json",
    ),
    objects.putText(featuresProfileUri, serializeProfile(featuresProfile), "application/json"),
  ]);
  return {
    trainUri: joinUri(run.s3.datasetUri, "train/"),
    validationUri: joinUri(run.s3.datasetUri, "validation/"),
    holdoutFeaturesUri: joinUri(run.s3.datasetUri, "holdout/"),
    holdoutLabelsUri: joinUri(run.s3.datasetUri, "holdout-labels.jsonl"),
    featuresProfileUri,
    counts: { ...split.counts },
    source,
  };
}
