/**
 * Evaluator Lambda, invoked by EventBridge Scheduler with `{"time": "<scheduled ISO time>"}`. For every
 * model of the catalog: read the window's bucket profiles, the baseline and the trigger state; run the
 * pure policy (domain/decision.ts); record the decision; alert on SNS for warn and retrain; start the
 * retraining workflow under the model's single-flight lease.
 *
 * Idempotency under scheduler retries: the evaluation time comes from the event (the scheduled time,
 * not the wall clock), the decision record is keyed by it and written once, the lease owner and the
 * execution name derive from it. A retry of the same slot finds the recorded decision, re-sends its
 * alert only if it had not gone out, and re-issues the start, which Step Functions answers with
 * ExecutionAlreadyExists: at most one run per model and window.
 *
 * Environment: `TABLE_NAME`, `TOPIC_ARN`, `STATE_MACHINE_ARN`, optional
 * `LEASE_TTL_HOURS` (default 24: a run that dies without releasing blocks retrains at most that long).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { profileSpecOf, type RuntimeModel } from "../../contracts/model";
import { SEVERITIES, type Severity, type TriggerPolicy } from "../../contracts/policy";
import { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAMES } from "../../contracts/telemetry";
import { executionName } from "../../contracts/workflow";
import { DynamoDbModelStateRepository } from "../adapters/dynamodb-model-state-repository";
import { DynamoDbStatsRepository } from "../adapters/dynamodb-stats-repository";
import { SfnWorkflowStarter } from "../adapters/sfn-workflow-starter";
import { SnsNotifier } from "../adapters/sns-notifier";
import { mapLimit } from "../app/map-limit";
import { decide, suppressRetrain } from "../domain/decision/decide";
import { type BaselineInput, type Decision, historyHours } from "../domain/decision/decision";
import { advanceLedger } from "../domain/decision/label-ledger";
import type { ModelState, ModelStateRepository, ResetAfterDeploy } from "../ports/model-state-repository";
import type { Notifier } from "../ports/notifier";
import type { StatsRepository } from "../ports/stats-repository";
import type { WorkflowStarter } from "../ports/workflow-starter";
import { loadModelCatalog } from "./model-catalog";

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** The part of a runtime model (contracts/model.ts) the evaluator reads. */
export type EvaluatedModel = Pick<RuntimeModel, "id" | "task" | "classes" | "features" | "policy">;

export interface EvaluateDeps {
  readonly models: readonly EvaluatedModel[];
  readonly stats: StatsRepository;
  readonly state: ModelStateRepository;
  readonly notifier: Notifier;
  readonly workflow: WorkflowStarter;
  /** Wall clock, used only when the event carries no time. @default Date.now */
  readonly clock?: () => number;
  /** @default 24 h */
  readonly leaseTtlMs?: number;
  /** Models evaluated in parallel. @default 8 */
  readonly concurrency?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly tracer?: Tracer;
}

export interface EvaluateEvent {
  /** Scheduled time (ISO-8601); the evaluation time is this, truncated to the minute. */
  readonly time?: string;
}

export interface ModelOutcome {
  readonly modelId: string;
  readonly action: Decision["action"];
  readonly severity: Severity;
  /** The decision was already recorded for this slot (a retried invocation). */
  readonly reused: boolean;
  readonly executionName?: string;
  /** The workflow existed already (deterministic name). */
  readonly alreadyStarted?: boolean;
  readonly notified: boolean;
  readonly headline: string;
  readonly error?: string;
}

export interface EvaluationReport {
  readonly evaluatedAt: string;
  readonly models: readonly ModelOutcome[];
}

const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Evaluation time of an event: the scheduled time truncated to the minute, else the clock. */
export function evaluationTime(event: EvaluateEvent | undefined, clock: () => number): number {
  const parsed = event?.time ? Date.parse(event.time) : Number.NaN;
  const t = Number.isFinite(parsed) ? parsed : clock();
  return Math.floor(t / MINUTE_MS) * MINUTE_MS;
}

/**
 * The evaluation logic without middy/Powertools wiring: `evaluateAll(time)` for the handler, local
 * mode and benchmarks; `evaluateModel` for one model.
 */
export function createEvaluator(deps: EvaluateDeps) {
  const clock = deps.clock ?? Date.now;
  const leaseTtlMs = deps.leaseTtlMs ?? 24 * HOUR_MS;
  const logger = deps.logger ?? new Logger({ serviceName: SERVICE_NAMES.evaluator, logLevel: "WARN" });

  async function loadBaseline(
    model: EvaluatedModel,
    state: ModelState,
    now: number,
  ): Promise<BaselineInput | undefined> {
    const policy = model.policy;
    if (state.baselineVersion !== undefined) {
      const stored = await deps.state.getBaseline(model.id, state.baselineVersion);
      if (stored)
        return {
          version: stored.version,
          profile: stored.profile,
          ...(stored.hours ? { hours: stored.hours } : {}),
        };
      logger.warn("baseline pointer without baseline item", {
        modelId: model.id,
        version: state.baselineVersion,
      });
    }
    // No baseline from training: the first referenceWindowHours of traffic after the deploy become it.
    const hours = policy.referenceWindowHours;
    const from = state.lastDeployAt ?? now - hours * HOUR_MS;
    const to = from + hours * HOUR_MS;
    if (to > now) return undefined;
    const ref = await deps.stats.readWindow(model.id, from, to);
    if (ref.profile === undefined || ref.profile.count < policy.signals.drift.minSamples) return undefined;
    // Only a reference that covers (nearly) the whole window: a baseline of the first hours after an
    // install would make the daily cycle look like drift, and its event rate would be wrong.
    const first = ref.buckets[0]?.bucketStart;
    if (first === undefined || first > from + 0.1 * hours * HOUR_MS) return undefined;
    const version = `ref-${new Date(from).toISOString()}`;
    await deps.state.putBaseline(model.id, {
      version,
      profile: ref.profile,
      createdAt: now,
      source: "reference-window",
      hours,
    });
    await deps.state.setBaselineVersion(model.id, version);
    logger.info("baseline bootstrapped from a reference window", { modelId: model.id, version });
    return { version, profile: ref.profile, hours };
  }

  /**
   * One metric per single-metric object: Powertools flushes a single metric as soon as it has a value,
   * so each one needs its own object to keep the `{service, modelId}` dimension set.
   */
  function emitMetrics(model: EvaluatedModel, decision: Decision): void {
    const metrics = deps.metrics;
    if (!metrics) return;
    const emit = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number | null) => {
      if (value === null || !Number.isFinite(value)) return;
      const m = metrics.singleMetric();
      m.addDimension("modelId", model.id);
      m.addMetric(name, unit, value);
    };
    const dq = decision.signals.find((s) => s.signal === "dataQuality");
    emit(METRIC_NAMES.evaluations, MetricUnit.Count, 1);
    emit(METRIC_NAMES.driftScore, MetricUnit.NoUnit, decision.metrics.driftedShare);
    emit(METRIC_NAMES.performance, MetricUnit.NoUnit, decision.metrics.realizedMetric);
    emit(METRIC_NAMES.estimatedPerformance, MetricUnit.NoUnit, decision.metrics.estimatedMetric);
    emit(METRIC_NAMES.retrainDecisions, MetricUnit.Count, decision.action === "retrain" ? 1 : 0);
    emit(
      METRIC_NAMES.retrainsSuppressed,
      MetricUnit.Count,
      decision.ruleSatisfied && decision.action !== "retrain" ? 1 : 0,
    );
    emit(METRIC_NAMES.dataQualityBreaches, MetricUnit.Count, dq?.breached ? 1 : 0);
  }

  async function notify(
    policy: TriggerPolicy,
    decision: Decision,
    name: string | undefined,
  ): Promise<boolean> {
    if (
      decision.action === "none" ||
      severityRank(decision.severity) < severityRank(policy.alerting.minSeverity)
    )
      return false;
    const first = decision.summary.split("\n")[0] ?? decision.action;
    await deps.notifier.publish({
      subject: first,
      message: name ? `${decision.summary}\nWorkflow execution: ${name}` : decision.summary,
      severity: decision.severity,
      modelId: decision.modelId,
      attributes: { action: decision.action },
    });
    await deps.state.markNotified(decision.modelId, decision.evaluatedAt);
    return true;
  }

  function workflowInput(decision: Decision, name: string): Record<string, unknown> {
    return {
      modelId: decision.modelId,
      window: {
        from: new Date(decision.window.from).toISOString(),
        to: new Date(decision.window.to).toISOString(),
      },
      decisionTime: new Date(decision.evaluatedAt).toISOString(),
      severity: decision.severity,
      reason: decision.summary,
      leaseOwner: name,
    };
  }

  /** Starts (or confirms) the run of a retrain decision under the lease. */
  async function startRun(
    decision: Decision,
    name: string,
  ): Promise<{ started: boolean; alreadyStarted: boolean }> {
    const lease = await deps.state.acquireLease(decision.modelId, name, decision.evaluatedAt, leaseTtlMs);
    if (!lease.acquired) return { started: false, alreadyStarted: false };
    try {
      const out = await deps.workflow.start({ name, input: workflowInput(decision, name) });
      return { started: true, alreadyStarted: out.alreadyStarted };
    } catch (error) {
      await deps.state.releaseLease(decision.modelId, name);
      throw error;
    }
  }

  /** A retried slot: the decision stands; finish what the first attempt may not have done. */
  async function resume(
    model: EvaluatedModel,
    decision: Decision,
    notified: boolean,
    recordedName: string | undefined,
  ): Promise<ModelOutcome> {
    let alreadyStarted: boolean | undefined;
    const name =
      recordedName ??
      (decision.action === "retrain" ? executionName(model.id, decision.evaluatedAt) : undefined);
    if (decision.action === "retrain" && name) {
      const run = await startRun(decision, name);
      alreadyStarted = run.alreadyStarted || !run.started;
      if (run.started && !run.alreadyStarted)
        await deps.state.saveEvaluation(model.id, {
          labelLedger: (await deps.state.getState(model.id)).labelLedger,
          decision,
          retrainStartedAt: decision.evaluatedAt,
        });
    }
    const sent = notified ? false : await notify(model.policy, decision, name);
    return {
      modelId: model.id,
      action: decision.action,
      severity: decision.severity,
      reused: true,
      ...(name ? { executionName: name } : {}),
      ...(alreadyStarted !== undefined ? { alreadyStarted } : {}),
      notified: notified || sent,
      headline: decision.summary.split("\n")[0] ?? "",
    };
  }

  async function evaluateModel(model: EvaluatedModel, now: number): Promise<ModelOutcome> {
    const policy = model.policy;
    const existing = await deps.state.getDecision(model.id, now);
    if (existing) return resume(model, existing.decision, existing.notified, existing.executionName);

    const state = await deps.state.getState(model.id);
    const baseline = await loadBaseline(model, state, now);
    const longestHours = Math.max(policy.windowHours, policy.signals.performance.windowHours ?? 0);
    const [window, history] = await Promise.all([
      deps.stats.readWindow(model.id, now - longestHours * HOUR_MS, now),
      deps.state.listHistory(model.id, now - historyHours(policy) * HOUR_MS, now),
    ]);
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

    let run: { started: boolean; alreadyStarted: boolean } | undefined;
    if (decision.action === "retrain") {
      const acquired = await deps.state.acquireLease(model.id, name, now, leaseTtlMs);
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
        model,
        recorded.existing.decision,
        recorded.existing.notified,
        recorded.existing.executionName,
      );

    if (decision.action === "retrain") run = await startRun(decision, name);
    await deps.state.saveEvaluation(model.id, {
      labelLedger: ledger.ledger,
      decision,
      ...(run?.started ? { retrainStartedAt: now } : {}),
    });
    emitMetrics(model, decision);
    const notified = await notify(policy, decision, run?.started ? name : undefined);
    logger.info("model evaluated", {
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
      headline: decision.summary.split("\n")[0] ?? "",
    };
  }

  /** Evaluates every model; one model's failure is reported and does not stop the others. */
  async function evaluateAll(event?: EvaluateEvent): Promise<EvaluationReport> {
    const now = evaluationTime(event, clock);
    const outcomes = await mapLimit(deps.models, deps.concurrency ?? 8, async (model) => {
      try {
        return await evaluateModel(model, now);
      } catch (error) {
        logger.error("model evaluation failed", { modelId: model.id, error: error as Error });
        return {
          modelId: model.id,
          action: "none" as const,
          severity: "info" as const,
          reused: false,
          notified: false,
          headline: "evaluation failed",
          error: (error as Error).message,
        };
      }
    });
    return { evaluatedAt: new Date(now).toISOString(), models: outcomes };
  }

  return { evaluateAll, evaluateModel };
}

/** Thrown after all models ran when some failed, so the scheduler retries the slot (idempotently). */
export class EvaluationFailedError extends Error {
  override readonly name = "EvaluationFailedError";
}

/** The Lambda handler (middy + Powertools) over injected dependencies. */
export function createEvaluateHandler(deps: EvaluateDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: SERVICE_NAMES.evaluator });
  const metrics =
    deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAMES.evaluator });
  const tracer = deps.tracer ?? new Tracer({ serviceName: SERVICE_NAMES.evaluator });
  const evaluator = createEvaluator({ ...deps, logger, metrics });
  const base = async (event: EvaluateEvent, _context: Context): Promise<EvaluationReport> => {
    const report = await evaluator.evaluateAll(event ?? {});
    const failed = report.models.filter((m) => m.error !== undefined);
    logger.info("evaluation finished", {
      evaluatedAt: report.evaluatedAt,
      models: report.models.length,
      retrains: report.models.filter((m) => m.action === "retrain").length,
      failed: failed.length,
    });
    if (failed.length > 0)
      throw new EvaluationFailedError(
        `${failed.length} of ${report.models.length} models failed: ${failed.map((f) => `${f.modelId}: ${f.error}`).join("; ")}`,
      );
    return report;
  };
  return middy(base)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

/**
 * What the retraining workflow calls after a successful deploy (new champion and baseline, label
 * counters cleared, cooldown started, lease released). A thin alias of the repository method so the
 * workflow depends on the evaluator's contract, not on its storage.
 */
export function resetAfterDeploy(state: ModelStateRepository, reset: ResetAfterDeploy): Promise<void> {
  return state.resetAfterDeploy(reset);
}

let singleton: ReturnType<typeof createEvaluateHandler> | undefined;

/** The deployed handler: dependencies from the environment, built once per container. */
export const handler = (event: EvaluateEvent, context: Context): Promise<EvaluationReport> => {
  if (!singleton) {
    const env = process.env;
    if (!env.TABLE_NAME || !env.TOPIC_ARN || !env.STATE_MACHINE_ARN)
      throw new Error("evaluate: TABLE_NAME, TOPIC_ARN and STATE_MACHINE_ARN must be set");
    const tracer = new Tracer({ serviceName: SERVICE_NAMES.evaluator });
    const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));
    const tableName = env.TABLE_NAME;
    singleton = createEvaluateHandler({
      models: loadModelCatalog(env).models,
      stats: new DynamoDbStatsRepository({ client: dynamodb, tableName }),
      state: new DynamoDbModelStateRepository({ client: dynamodb, tableName }),
      notifier: new SnsNotifier({
        client: tracer.captureAWSv3Client(new SNSClient({})),
        topicArn: env.TOPIC_ARN,
      }),
      workflow: new SfnWorkflowStarter({
        client: tracer.captureAWSv3Client(new SFNClient({})),
        stateMachineArn: env.STATE_MACHINE_ARN,
      }),
      ...(env.LEASE_TTL_HOURS ? { leaseTtlMs: Number(env.LEASE_TTL_HOURS) * HOUR_MS } : {}),
      tracer,
    });
  }
  return singleton(event, context);
};
