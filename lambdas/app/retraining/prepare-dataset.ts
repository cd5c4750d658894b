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
  type LabelledRow,
  type SplitFractions,
  splitDataset,
  trainingLine,
  transformLine,
} from "../../domain/retraining/dataset";
import { profileFeatures } from "../../domain/retraining/holdout-evaluation";
import { labelClasses } from "../../domain/retraining/holdout-outcomes";
import {
  assessHoldout,
  describeNeed,
  MAX_HOLDOUT_SHARE,
  planHoldoutShare,
  resolveGate,
} from "../../domain/retraining/holdout-sizing";
import { serializeProfile } from "../../domain/stats/profile-codec";
import { type DatasetResult, joinUri, type RetrainingDeps, type RunPlan, readLines } from "./run-plan";

/** The split fractions with `holdout` as the holdout share, train and validation keeping their ratio. */
function fractionsWithHoldout(holdout: number): SplitFractions {
  const rest = DEFAULT_SPLIT.train + DEFAULT_SPLIT.validation;
  const train = (DEFAULT_SPLIT.train / rest) * (1 - holdout);
  return { train, validation: 1 - holdout - train, holdout };
}

/**
 * The largest holdout share (at most MAX_HOLDOUT_SHARE, at least the default) that still leaves train and
 * validation their minimum rows, with the same two-standard-deviation allowance for the hash split.
 */
function largestHoldoutShare(total: number): number {
  const rest = DEFAULT_SPLIT.train + DEFAULT_SPLIT.validation;
  const keeps = (share: number) =>
    (["train", "validation"] as const).every((channel) => {
      const p = (DEFAULT_SPLIT[channel] / rest) * (1 - share);
      return total * p - 2 * Math.sqrt(total * p * (1 - p)) >= DEFAULT_MINIMUM_ROWS[channel];
    });
  let share = MAX_HOLDOUT_SHARE;
  while (share > DEFAULT_SPLIT.holdout + 1e-9 && !keeps(share))
    share = Math.round((share - 0.01) * 100) / 100;
  return Math.max(DEFAULT_SPLIT.holdout, share);
}

/**
 * With a champion to compare against, the holdout is sized for the validation gate's paired test
 * (holdout-sizing.ts): its share of the labelled rows grows from the default up to MAX_HOLDOUT_SHARE until
 * the test is expected to be powered, as long as train and validation keep their minimums (a smaller cap
otherwise: largestHoldoutShare). The run fails here only when a class falls below the test's
 * coverage need, a rejection that is certain before any training. The first model has no paired test.
 */
function holdoutPlanOf(
  run: RunPlan,
  rows: readonly LabelledRow[],
): { fractions: SplitFractions; check?: HoldoutCheck; note?: string } {
  if (!run.champion.exists) return { fractions: DEFAULT_SPLIT };
  const gate = resolveGate(run.gate, run.task);
  const positive = run.classes?.[1];
  const classesOf = (some: readonly LabelledRow[]) =>
    labelClasses({
      task: run.task,
      labels: some.map((row) => row.label),
      ...(positive !== undefined ? { positive } : {}),
    });
  const plan = planHoldoutShare(
    gate,
    run.task,
    classesOf(rows),
    DEFAULT_SPLIT.holdout,
    largestHoldoutShare(rows.length),
  );
  const check: HoldoutCheck = (holdout) => {
    const assessment = assessHoldout(gate, run.task, classesOf(holdout));
    const coverage = assessment.shortfalls.filter((n) => n.kind === "coverage");
    if (coverage.length === 0) return [];
    return [
      `holdout too small for the validation gate's paired ${gate.metric} test: ${coverage.map(describeNeed).join(", ")} (a class below margin x rows: the gate would reject any challenger)`,
    ];
  };
  return { fractions: fractionsWithHoldout(plan.share), check, note: plan.note };
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
  const holdoutPlan = holdoutPlanOf(run, rows);
  const split = splitDataset(rows, holdoutPlan.fractions, DEFAULT_MINIMUM_ROWS, holdoutPlan.check);
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
        fractions: holdoutPlan.fractions,
        ...(holdoutPlan.note !== undefined ? { holdoutPlan: holdoutPlan.note } : {}),
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
    holdoutShare: holdoutPlan.fractions.holdout,
    ...(holdoutPlan.note !== undefined ? { holdoutPlan: holdoutPlan.note } : {}),
    source,
  };
}
