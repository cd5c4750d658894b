import { Annotations, Stack, type StackProps } from "aws-cdk-lib";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { buildModelCatalog, type CatalogOptions } from "../../contracts/catalog";
import { type DeploymentConfig, effectiveStrategy, SAGEMAKER_LIMITS } from "../../contracts/config";
import { AlarmRelay } from "../constructs/alarm-relay";
import { Alerts } from "../constructs/alerts";
import { RetrainDashboard } from "../constructs/dashboard";
import { PredictionIngest } from "../constructs/prediction-ingest";
import { TriggerSchedule } from "../constructs/trigger-schedule";
import { RetrainingWorkflow } from "../constructs/workflow/retraining-workflow";
import type { StatefulStack } from "./stateful-stack";

/** Entry files of the Lambda handlers (overridable for forks that swap a handler). */
export interface HandlerEntries {
  /** @default "lambdas/handlers/ingest.ts" */
  readonly ingest?: string;
  /** @default "lambdas/handlers/evaluate.ts" */
  readonly evaluator?: string;
  /** @default "lambdas/handlers/alarm-relay.ts" */
  readonly alarmRelay?: string;
}

export interface StatelessStackProps extends StackProps {
  /** Validated deployment configuration (from `loadConfig`). */
  readonly config: DeploymentConfig;
  /** The data resources this stack's code reads and writes. */
  readonly stateful: StatefulStack;
  /**
   * Deployment-wide settings of the retraining workflow that go into the model catalog (endpoint
   * polling interval, scoring instance type, model package groups).
   * @default - CATALOG_DEFAULTS of contracts/catalog.ts, no model packages
   */
  readonly catalogOptions?: CatalogOptions;
  /**
   * Handler entry files.
   * @default - the handlers under lambdas/handlers/
   */
  readonly entries?: HandlerEntries;
}

/**
 * Code and wiring, safe to replace on every deploy: the ingest Lambda on the stream, the scheduled
 * evaluator, the retraining workflow, alarms and the dashboard.
 */
export class StatelessStack extends Stack {
  public readonly ingest: PredictionIngest;
  public readonly trigger: TriggerSchedule;
  public readonly workflow: RetrainingWorkflow;
  /** Republishes alarm state changes with severity attributes; its watchdogs notify the topic directly. */
  public readonly alarmRelay: AlarmRelay;
  public readonly alerts: Alerts;
  public readonly dashboard: RetrainDashboard;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const catalog = buildModelCatalog(config, props.catalogOptions);
    const logRetention = config.retention.logDays as RetentionDays;

    this.ingest = new PredictionIngest(this, "Ingest", {
      stream: stateful.stream,
      table: stateful.table,
      failureQueue: stateful.ingestFailureQueue,
      catalog,
      quarantineRetentionDays: config.retention.quarantineDays,
      settings: config.ingest,
      logRetention,
      ...(props.entries?.ingest ? { entry: props.entries.ingest } : {}),
    });

    this.workflow = new RetrainingWorkflow(this, "Workflow", {
      table: stateful.table,
      topic: stateful.topic,
      archiveBucket: stateful.archiveBucket,
      retrainingBucket: stateful.retrainingBucket,
      catalog,
      logRetention,
    });
    const approvalTimeouts = new Set(
      config.models.filter((m) => m.approval.required !== "never").map((m) => m.approval.timeoutHours),
    );
    if (approvalTimeouts.size > 1)
      Annotations.of(this.workflow).addWarningV2(
        "retrain-triggers:approval-timeout",
        `models configure different approval timeouts (${[...approvalTimeouts].join(", ")} h); the state machine waits ${Math.max(...approvalTimeouts)} h for all of them`,
      );

    for (const model of config.models) {
      const effective = effectiveStrategy(model.deployment);
      if (effective !== model.deployment.strategy)
        Annotations.of(this.workflow).addWarningV2(
          "retrain-triggers:traffic-shifting-fallback",
          `models[${config.models.indexOf(model)}] (${model.id}): deployment.strategy "${model.deployment.strategy}" needs deployment.instanceCount >= ${SAGEMAKER_LIMITS.minInstancesForStepwiseShifting} (a step must be at most 50 % of the fleet); with ${model.deployment.instanceCount} instance the endpoint update shifts all traffic at once, still blue/green with the rollback alarms and a ${model.deployment.bakeTimeMinutes}-minute baking period. Set instanceCount >= ${SAGEMAKER_LIMITS.minInstancesForStepwiseShifting} for ${model.deployment.strategy} shifting, or strategy "all-at-once" to silence this.`,
        );
    }

    this.trigger = new TriggerSchedule(this, "Trigger", {
      table: stateful.table,
      topic: stateful.topic,
      stateMachine: this.workflow.stateMachine,
      deadLetterQueue: stateful.evaluatorDeadLetterQueue,
      catalog,
      settings: config.schedule,
      logRetention,
      ...(props.entries?.evaluator ? { entry: props.entries.evaluator } : {}),
    });

    this.alarmRelay = new AlarmRelay(this, "AlarmRelay", {
      topic: stateful.topic,
      deadLetterQueue: stateful.alarmRelayDeadLetterQueue,
      deploymentName: config.name,
      logRetention,
      ...(props.entries?.alarmRelay ? { entry: props.entries.alarmRelay } : {}),
    });

    const modelIds = config.models.map((m) => m.id);
    this.alerts = new Alerts(this, "Alarms", {
      action: this.alarmRelay.action,
      ingestFunction: this.ingest.function,
      functions: {
        Ingest: this.ingest.function,
        Evaluator: this.trigger.function,
        WorkflowTasks: this.workflow.taskFunction,
      },
      deadLetterQueues: {
        IngestFailures: stateful.ingestFailureQueue,
        EvaluatorDeadLetters: stateful.evaluatorDeadLetterQueue,
        AlertDeadLetters: stateful.alertDeadLetterQueue,
      },
      stateMachine: this.workflow.stateMachine,
      modelIds,
      thresholds: config.alerts,
    });

    this.dashboard = new RetrainDashboard(this, "Dashboard", {
      dashboardName: config.name,
      modelIds,
      ingestFunction: this.ingest.function,
      evaluatorFunction: this.trigger.function,
      stateMachine: this.workflow.stateMachine,
    });
  }
}
