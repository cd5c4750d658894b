import { buildModelCatalog } from "../contracts/catalog";
import type { DeploymentConfig } from "../contracts/config";
import { SERVICE_NAMES } from "../contracts/telemetry";
import { DynamoDbModelStateRepository } from "../lambdas/adapters/dynamodb-model-state-repository";
import { DynamoDbStatsRepository } from "../lambdas/adapters/dynamodb-stats-repository";
import type { EvaluationReport } from "../lambdas/app/evaluate/evaluator";
import { createEvaluateHandler } from "../lambdas/handlers/evaluate";
import type { Notification, Notifier } from "../lambdas/ports/notifier";
import type { WorkflowStart } from "../lambdas/ports/workflow-starter";
import type { SimulatedClock } from "./clock";
import { type EvaluationOutcome, outcomeOf, QueueingWorkflowStarter } from "./evaluation-outcome";
import { type LocalPipeline, localContext, localPowertools } from "./pipeline";

export { type EvaluationOutcome, outcomeOf, QueueingWorkflowStarter } from "./evaluation-outcome";

/** LOCAL STAND-IN for the SNS topic: keeps every alert. */
export class RecordingNotifier implements Notifier {
  readonly sent: Array<Notification & { at: number }> = [];
  constructor(private readonly now: () => number) {}
  async publish(n: Notification): Promise<{ messageId?: string }> {
    this.sent.push({ ...n, at: this.now() });
    return { messageId: `local-${this.sent.length}` };
  }
}

const EVALUATOR_CONTEXT = localContext("evaluator", 300_000);

/** Runs a queued execution at simulated time `at` (local: the state machine; replay: release only). */
export type WorkflowRunner = (start: WorkflowStart, at: number) => Promise<WorkflowRunRecord>;

export interface WorkflowRunRecord {
  readonly name: string;
  readonly modelId: string;
  readonly startedAt: number;
  /** REJECTED: the validation gate kept the champion (a healthy outcome); FAILED: anything else that did not promote. */
  readonly status: "SUCCEEDED" | "REJECTED" | "FAILED" | "NOT_RUN";
  readonly detail: string;
}

export interface ControlPlaneOptions {
  readonly config: DeploymentConfig;
  readonly pipeline: LocalPipeline;
  readonly clock: SimulatedClock;
}

export class ControlPlane {
  readonly notifier: RecordingNotifier;
  readonly starter = new QueueingWorkflowStarter();
  readonly state: DynamoDbModelStateRepository;
  readonly stats: DynamoDbStatsRepository;
  readonly workflowRuns: WorkflowRunRecord[] = [];
  private readonly handler: ReturnType<typeof createEvaluateHandler>;
  private readonly driftMetric: string;

  constructor(
    readonly options: ControlPlaneOptions,
    private readonly runner: WorkflowRunner,
  ) {
    const { pipeline, clock, config } = options;
    const base = { client: pipeline.emulators.dynamodb, tableName: pipeline.emulators.tableName };
    this.state = new DynamoDbModelStateRepository(base);
    this.stats = new DynamoDbStatsRepository(base);
    this.notifier = new RecordingNotifier(clock.nowFn);
    this.handler = createEvaluateHandler({
      models: buildModelCatalog(config).models,
      stats: this.stats,
      state: this.state,
      notifier: this.notifier,
      workflow: this.starter,
      clock: clock.nowFn,
      tools: localPowertools(SERVICE_NAMES.evaluator),
    });
    this.driftMetric = config.models[0]?.policy.signals.drift.numericMethod ?? "drift";
  }

  /** Fires the evaluator at `at`, then runs the executions it started. */
  async evaluate(at: number): Promise<EvaluationOutcome[]> {
    const report = (await this.handler(
      { time: new Date(at).toISOString() },
      EVALUATOR_CONTEXT,
    )) as EvaluationReport;
    const outcomes: EvaluationOutcome[] = [];
    for (const m of report.models) {
      const record = await this.state.getDecision(m.modelId, at);
      if (record) outcomes.push(outcomeOf(record.decision, this.driftMetric));
    }
    while (this.starter.queue.length > 0) {
      const start = this.starter.queue.shift()!;
      this.workflowRuns.push(await this.runner(start, at));
    }
    return outcomes;
  }
}

/** Replay's runner: no training; the run is recorded and its lease released at once. */
export function releaseOnlyRunner(control: () => ControlPlane): WorkflowRunner {
  return async (start, at) => {
    const modelId = String(start.input.modelId);
    const owner = String(start.input.leaseOwner ?? start.name);
    await control().state.releaseLease(modelId, owner);
    return {
      name: start.name,
      modelId,
      startedAt: at,
      status: "NOT_RUN",
      detail: "replay: retraining not run",
    };
  };
}
