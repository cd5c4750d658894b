import { Annotations, Stack, type StackProps } from "aws-cdk-lib";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { buildModelCatalog, type CatalogOptions } from "../../contracts/catalog";
import type { DeploymentConfig } from "../../contracts/config";
import { Alerts } from "../constructs/alerts";
import { RetrainDashboard } from "../constructs/dashboard";
import { acknowledge, acknowledgeWildcards } from "../constructs/nag";
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

    this.acknowledgeWorkflowFindings(config);

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

    const modelIds = config.models.map((m) => m.id);
    this.alerts = new Alerts(this, "Alarms", {
      topic: stateful.topic,
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

  /**
   * cdk-nag acknowledgments of the retraining workflow's IAM, one pattern per kind of finding, each
   * with its reason. cdk-nag 3 matches acknowledgment ids exactly (a bare `AwsSolutions-IAM5` covers
   * nothing), and several findings name cross-stack export tokens known only after synthesis, hence
   * patterns applied by WildcardAcknowledgmentPlugin. A finding matching none of them fails synth.
   */
  private acknowledgeWorkflowFindings(config: DeploymentConfig): void {
    const wf = this.workflow;
    // Model ids are letters, digits and hyphens (validated by the config schema): regex-safe.
    const ids = config.models.map((m) => m.id.toLowerCase()).join("|");
    const rawIds = config.models.map((m) => m.id).join("|");
    acknowledgeWildcards(
      wf,
      /^Resource::.*\/retraining\/(datasets|artifacts)\/\*$/,
      "The workflow reads and writes objects only under its own dataset and artifact prefixes of the archive bucket; object keys are generated per run.",
    );
    acknowledgeWildcards(
      wf,
      new RegExp(`^Resource::.*/(${rawIds})/\\*$`),
      "The task Lambda reads the archived events of the configured models only (<modelId>/yyyy/MM/dd/ prefixes written by Firehose).",
    );
    acknowledgeWildcards(
      wf,
      /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
      "Generated by the KMS grant helpers for the archive's customer-managed key: scoped to that one key ARN.",
    );
    acknowledgeWildcards(
      wf,
      new RegExp(
        `^Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:(training-job|transform-job|model|endpoint-config)/(${ids})-\\*$`,
      ),
      "SageMaker jobs, models and endpoint configs are created per run with generated names under the configured model's prefix (<modelId>-*); the state machine may touch no others.",
    );
    acknowledgeWildcards(
      wf,
      /^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:\/aws\/sagemaker\/\*$/,
      "SageMaker training and transform jobs write to their own /aws/sagemaker/* log groups, whose names SageMaker generates per job.",
    );
    acknowledgeWildcards(
      wf,
      /^Resource::<WorkflowTasksFunction[0-9A-F]{8}\.Arn>:\*$/,
      "The state machine invokes the task Lambda, including its versions/aliases (<function-arn>:*); no other function.",
    );
    acknowledgeWildcards(
      wf,
      /^Resource::\*$/,
      "Actions without resource-level permissions only: X-Ray segments and CloudWatch Logs delivery of the state machine, ecr:GetAuthorizationToken and namespace-conditioned cloudwatch:PutMetricData of the SageMaker role.",
    );
    acknowledge(
      wf.taskFunction,
      "Invoked synchronously by Step Functions, which handles errors with Retry/Catch and the failure path; an async DLQ would never receive anything.",
      "Serverless-LambdaDLQ",
      "Serverless-LambdaAsyncFailureDestination",
    );
  }
}
