/**
 * One model at one evaluation time: read the window, the baseline, the history and the trigger state;
 * decide (pure); record the decision once; start the retraining under the lease when it says so; then
 * publish. A retried slot finds the recorded decision and only completes what may be missing (the
 * workflow start is re-issued and answered `alreadyStarted`; the alert is re-sent only if it had not
 * gone out).
 */
import { profileSpecOf } from "../../../contracts/model";
import { DAY_MS, HOUR_MS } from "../../../contracts/time";
import { executionName } from "../../../contracts/workflow";
import { decide, suppressRetrain } from "../../domain/decision/decide";
import {
  adaptiveReference,
  type Decision,
  historyHours,
  type OutcomeBucket,
} from "../../domain/decision/decision";
import { advanceLedger } from "../../domain/decision/label-ledger";
import { distributionMinimum } from "../../domain/decision/signals/context";
import type { Suppression } from "../../domain/decision/stability";
import { DEFAULT_SPLIT, expectedShortfalls, rowsNeeded } from "../../domain/retraining/dataset";
import { NO_TELEMETRY, SILENT_LOG } from "../../ports/telemetry";
import {
  DEFAULT_LEASE_TTL_MS,
  type EvaluatedModel,
  type EvaluatorDeps,
  type ModelOutcome,
} from "./evaluator";
import { loadBaseline, withCurrentOutcomes } from "./load-baseline";
import { emitDecisionMetrics, notifyDecision } from "./publish-decision";
import { startRetraining } from "./start-retraining";

const headlineOf = (decision: Decision): string => decision.summary.split("\n")[0] ?? "";

/**
 * A retried slot: the decision stands; finish what the first attempt may not have done. The first attempt
 * may have stopped after any of its writes (or committed a write whose answer it lost), so every step
 * that follows the decision is repeated, each idempotent: the history entry (an idempotent put), the run
 * (a deterministic execution name), its recorded start (conditional on the slot's time) and the alert
 * (only if not marked sent).
 */
async function resume(
  deps: EvaluatorDeps,
  model: EvaluatedModel,
  decision: Decision,
  notified: boolean,
  recordedName: string | undefined,
): Promise<ModelOutcome> {
  let alreadyStarted: boolean | undefined;
  await deps.state.recordHistory(decision, model.policy.decisionRetentionDays);
  const name =
    recordedName ??
    (decision.action === "retrain" ? executionName(model.id, decision.evaluatedAt) : undefined);
  if (decision.action === "retrain" && name) {
    const run = await startRetraining(deps, decision, name);
    alreadyStarted = run.alreadyStarted || !run.started;
    // Also when the run already existed: the attempt that started it may have failed before recording
    // the start, which the retrain budget and the cooldown read.
    if (run.started)
      await deps.state.saveEvaluation(model.id, {
        labelLedger: (await deps.state.getState(model.id)).labelLedger,
        decision,
        retrainStartedAt: decision.evaluatedAt,
      });
  }
  const sent = notified ? false : await notifyDecision(deps, model.policy, decision, name);
  return {
    modelId: model.id,
    action: decision.action,
    severity: decision.severity,
    reused: true,
    ...(name ? { executionName: name } : {}),
    ...(alreadyStarted !== undefined ? { alreadyStarted } : {}),
    notified: notified || sent,
    headline: headlineOf(decision),
  };
}

export async function evaluateModel(
  deps: EvaluatorDeps,
  model: EvaluatedModel,
  now: number,
): Promise<ModelOutcome> {
  const policy = model.policy;
  const log = deps.log ?? SILENT_LOG;
  const existing = await deps.state.getDecision(model.id, now);
  if (existing) return resume(deps, model, existing.decision, existing.notified, existing.executionName);

  const state = await deps.state.getState(model.id);
  const baseline = await withCurrentOutcomes(deps, model.id, await loadBaseline(deps, model, state, now));
  // Features over the evaluation window; labelled outcomes over the label horizon plus the widest
  // performance window, since the performance signal judges the latest window of mature labels.
  const outcomesHours = model.labelHorizonHours + policy.maxWindowHours;
  // Recent history (persistence, volume, gate escalation) and, with adaptive limits, the reference
  // period after the last deployment their limits come from.
  const historyFrom = now - historyHours(policy) * HOUR_MS;
  const reference = adaptiveReference(policy, state.lastDeployAt, baseline?.window);
  const [recent, outcomes, recentHistory, referenceHistory] = await Promise.all([
    deps.stats.readWindow(model.id, now - policy.windowHours * HOUR_MS, now),
    deps.stats.readOutcomes(model.id, now - outcomesHours * HOUR_MS, now),
    deps.state.listHistory(model.id, historyFrom, now),
    reference !== undefined && reference.from < historyFrom && reference.to <= now
      ? deps.state.listHistory(model.id, reference.from, Math.min(reference.to, historyFrom))
      : Promise.resolve([]),
  ]);
  const history = [...referenceHistory, ...recentHistory];
  // A low-volume model: the distribution signals widen into older buckets (signals/context.ts), so read
  // up to maxWindowHours of them. Low volume keeps these reads small.
  const window =
    (recent.profile?.count ?? 0) < distributionMinimum(policy) && policy.maxWindowHours > policy.windowHours
      ? await deps.stats.readWindow(model.id, now - policy.maxWindowHours * HOUR_MS, now)
      : recent;
  const mainFrom = now - policy.windowHours * HOUR_MS;
  const ledger = advanceLedger(
    state.labelLedger,
    window.buckets
      .filter((b) => b.bucketStart >= mainFrom)
      .map((b) => ({ bucketStart: b.bucketStart, labelled: b.profile.labelled })),
    mainFrom,
    state.championTrainedAt,
  );
  const name = executionName(model.id, now);
  const lease = state.lease;
  const runActive = lease !== undefined && lease.expiresAt > now && lease.owner !== name;
  let decision = decide(policy, {
    modelId: model.id,
    spec: profileSpecOf(model),
    now,
    features: model.features,
    window: {
      buckets: window.buckets,
      ...(window.profile !== undefined
        ? { merged: { from: window.fromMs, to: window.toMs, profile: window.profile } }
        : {}),
    },
    outcomes,
    labelHorizonHours: model.labelHorizonHours,
    bucketMinutes: model.bucketMinutes,
    baseline,
    history,
    state: {
      ...(state.championTrainedAt !== undefined ? { championTrainedAt: state.championTrainedAt } : {}),
      ...(state.lastRetrainAt !== undefined ? { lastRetrainAt: state.lastRetrainAt } : {}),
      ...(state.lastDeployAt !== undefined ? { lastDeployAt: state.lastDeployAt } : {}),
      retrainStarts: state.retrainStarts,
      labelsSinceTraining: ledger.labelsSinceTraining,
      runActive,
    },
  });

  if (decision.action === "retrain") {
    const short = await trainingDataShortfall(deps, model, now, {
      from: now - outcomesHours * HOUR_MS,
      outcomes,
    });
    if (short) decision = suppressRetrain(decision, short, policy);
  }
  if (decision.action === "retrain") {
    const acquired = await deps.state.acquireLease(
      model.id,
      name,
      now,
      deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
    );
    if (!acquired.acquired)
      decision = suppressRetrain(
        decision,
        { reason: "runActive", message: `run ${acquired.lease?.owner ?? "?"} holds the lease` },
        policy,
      );
  }
  const recorded = await deps.state.recordDecision(
    { decision, notified: false, ...(decision.action === "retrain" ? { executionName: name } : {}) },
    policy.decisionRetentionDays,
  );
  if (!recorded.recorded && recorded.existing)
    return resume(
      deps,
      model,
      recorded.existing.decision,
      recorded.existing.notified,
      recorded.existing.executionName,
    );

  const run = decision.action === "retrain" ? await startRetraining(deps, decision, name) : undefined;
  await deps.state.saveEvaluation(model.id, {
    labelLedger: ledger.ledger,
    decision,
    ...(run?.started ? { retrainStartedAt: now } : {}),
  });
  emitDecisionMetrics(deps.telemetry ?? NO_TELEMETRY, decision);
  const notified = await notifyDecision(deps, policy, decision, run?.started ? name : undefined);
  log.info("model evaluated", {
    modelId: model.id,
    action: decision.action,
    severity: decision.severity,
    suppressions: decision.suppressions.map((s) => s.reason),
    rule: decision.rule.explanation,
  });
  return {
    modelId: model.id,
    action: decision.action,
    severity: decision.severity,
    reused: false,
    ...(decision.action === "retrain"
      ? { executionName: name, alreadyStarted: run?.alreadyStarted ?? false }
      : {}),
    notified,
    headline: headlineOf(decision),
  };
}

/**
 * A retrain the training window cannot feed: fewer labelled predictions in the last `trainingWindowDays`
 * than the dataset step's split needs (dataset.ts), so the run would fail there. The retrain waits (an
 * alert says why) until the labels arrive. A model trained from `inputDataUri` is not counted here.
 */
async function trainingDataShortfall(
  deps: EvaluatorDeps,
  model: EvaluatedModel,
  now: number,
  read: { readonly from: number; readonly outcomes: readonly OutcomeBucket[] },
): Promise<Suppression | undefined> {
  const retraining = model.retraining;
  if (retraining === undefined || retraining.inputDataUri !== undefined) return undefined;
  const days = retraining.trainingWindowDays;
  const from = now - days * DAY_MS;
  // The outcomes of [read.from, now) were read for the decision: only the older part of the window is read.
  const older = from < read.from ? await deps.stats.readOutcomes(model.id, from, read.from) : [];
  const labelled = [...older, ...read.outcomes.filter((o) => o.bucketStart >= from)].reduce(
    (sum, o) => sum + o.labelled,
    0,
  );
  const shortfalls = expectedShortfalls(labelled);
  if (shortfalls.length === 0) return undefined;
  return {
    reason: "trainingData",
    message: `too little labelled data to train on: ${labelled} labelled predictions in the ${days}-day training window, about ${rowsNeeded()} needed (split ${splitInWords()} by request: ${shortfalls.join(", ")}); retraining waits for more labels`,
  };
}

function splitInWords(): string {
  return `${DEFAULT_SPLIT.train * 100}/${DEFAULT_SPLIT.validation * 100}/${DEFAULT_SPLIT.holdout * 100}`;
}
