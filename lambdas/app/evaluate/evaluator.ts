/**
 * What the evaluator's use cases share: their ports, the part of the runtime model they read, and the
 * outcome of one model's evaluation. A schedule slot (evaluate-slot.ts) evaluates every model
 * (evaluate-model.ts), which reads or bootstraps its baseline (load-baseline.ts), decides (the pure
 * domain, domain/decision/decide.ts), records, starts the retraining under the model's lease
 * (start-retraining.ts) and publishes the decision (publish-decision.ts).
 */
import type { RuntimeModel } from "../../../contracts/model";
import type { Severity } from "../../../contracts/policy";
import { HOUR_MS } from "../../../contracts/time";
import type { Action } from "../../domain/decision/decision";
import type { ModelStateRepository } from "../../ports/model-state-repository";
import type { Notifier } from "../../ports/notifier";
import type { StatsRepository } from "../../ports/stats-repository";
import type { Log, Telemetry } from "../../ports/telemetry";
import type { WorkflowStarter } from "../../ports/workflow-starter";

/** The part of a runtime model (contracts/model.ts) the evaluator reads. */
export type EvaluatedModel = Pick<
  RuntimeModel,
  "id" | "task" | "classes" | "features" | "policy" | "labelHorizonHours" | "bucketMinutes"
> & {
  /** Where its runs take their data: a retrain the training window cannot feed is not started. */
  readonly retraining?: Pick<RuntimeModel["retraining"], "trainingWindowDays" | "inputDataUri">;
};

export interface EvaluatorDeps {
  readonly models: readonly EvaluatedModel[];
  readonly stats: StatsRepository;
  readonly state: ModelStateRepository;
  readonly notifier: Notifier;
  readonly workflow: WorkflowStarter;
  /** Headline metrics per decision. @default NO_TELEMETRY */
  readonly telemetry?: Telemetry;
  /** @default SILENT_LOG */
  readonly log?: Log;
  /** Wall clock, used only when the event carries no time. @default Date.now */
  readonly clock?: () => number;
  /** How long a started run holds the model's lease before another may start. @default 24 h */
  readonly leaseTtlMs?: number;
  /** Models evaluated in parallel. @default 8 */
  readonly concurrency?: number;
}

/** Default lease TTL: a run that dies without releasing blocks retrains at most this long. */
export const DEFAULT_LEASE_TTL_MS = 24 * HOUR_MS;

export interface ModelOutcome {
  readonly modelId: string;
  readonly action: Action;
  readonly severity: Severity;
  /** The decision was already recorded for this slot (a retried invocation). */
  readonly reused: boolean;
  readonly executionName?: string;
  /** The workflow existed already (deterministic name). */
  readonly alreadyStarted?: boolean;
  readonly notified: boolean;
  readonly headline: string;
  /** Set when the model could not be evaluated; the other models still were. */
  readonly error?: string;
}

export interface EvaluationReport {
  readonly evaluatedAt: string;
  readonly models: readonly ModelOutcome[];
}
