/**
 * The retraining workflow construct: composes the SageMaker execution role (execution-role.ts), the task
 * Lambda (task-function.ts), the per-model rollback alarms (rollback-alarms.ts) and the state machine
 * assembled from its state builders (definition.ts). The state machine role gets exactly the grants
 * the states declare, nothing written by hand here; the cdk-nag findings of all of them are
 * acknowledged in nag-acknowledgments.ts.
 */
import { type CfnResource, RemovalPolicy, Stack } from "aws-cdk-lib";
import type { Alarm } from "aws-cdk-lib/aws-cloudwatch";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { DefinitionBody, LogLevel, StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { ModelCatalog } from "../../../contracts/catalog";
import { DEFAULT_ARTIFACTS_PREFIX, DEFAULT_DATASETS_PREFIX } from "../../../contracts/workflow";
import { CDK_ROLE_DEPENDS_ON, ignoreCfnLint } from "../cfn-lint";
import { buildRetrainingWorkflow, definitionSubstitutions, workflowTimeouts } from "./definition";
import { SageMakerExecutionRole } from "./execution-role";
import type { IamGrant } from "./grants";
import { acknowledgeWorkflowFindings } from "./nag-acknowledgments";
import { workflowResources } from "./resources";
import { createRollbackAlarms } from "./rollback-alarms";
import { workflowTaskFunction } from "./task-function";

/** Properties of {@link RetrainingWorkflow}. */
export interface RetrainingWorkflowProps {
  /** The single table: model state, lease, registry (`CHAMPION#`) and baselines. */
  readonly table: ITable;
  /** Alert topic: approval requests, success and failure messages. */
  readonly topic: ITopic;
  /** Event archive written by Firehose under `<modelId>/yyyy/MM/dd/` (read by the dataset preparation). */
  readonly archiveBucket: IBucket;
  /**
   * Bucket of prepared datasets and model artifacts. Give it its own bucket without transitions or expiry:
   * the champion's artifacts must stay readable as long as it serves.
   * @default - the archive bucket (only right when its lifecycle never moves or deletes these prefixes)
   */
  readonly retrainingBucket?: IBucket;
  /** The model catalog (contracts/catalog.ts): every model in it can be retrained; bundled with the task Lambda. */
  readonly catalog: ModelCatalog;
  /**
   * Task Lambda running lambdas/handlers/workflow-tasks.ts. When given, the caller is responsible for
   * its environment; the construct still grants it what the tasks need (if it is a `Function`).
   * @default - a NodeFunction bundling lambdas/handlers/workflow-tasks.ts
   */
  readonly taskFunction?: IFunction;
  /**
   * Prefix of prepared datasets in the archive bucket (read by the SageMaker execution role).
   * @default "retraining/datasets/"
   */
  readonly datasetsPrefix?: string;
  /**
   * Prefix of model artifacts and batch-transform scores (the only prefix SageMaker may write).
   * @default "retraining/artifacts/"
   */
  readonly artifactsPrefix?: string;
  /**
   * Retention of the state machine's execution log group and of the default task Lambda's log group
   * (the deployment configuration's `retention.logDays` covers both).
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
}

/** Defaults of {@link RetrainingWorkflowProps}, in one place. */
export const RETRAINING_WORKFLOW_DEFAULTS = {
  datasetsPrefix: DEFAULT_DATASETS_PREFIX,
  artifactsPrefix: DEFAULT_ARTIFACTS_PREFIX,
  logRetention: RetentionDays.THREE_MONTHS,
} as const;

/** A state's grant as a policy statement of the state machine role. */
const toPolicyStatement = (grant: IamGrant): PolicyStatement =>
  new PolicyStatement({
    actions: [...grant.actions],
    resources: [...grant.resources],
    ...(grant.conditions ? { conditions: grant.conditions } : {}),
  });

/**
 * The retraining state machine with its task Lambda, the SageMaker execution role, and the per-model
 * rollback alarms. Least privilege throughout: SageMaker reads only the dataset and artifact prefixes
 * of the retraining bucket and writes only the artifact prefix; the state machine may do what its states declare, on SageMaker
 * resources under the configured models' name prefixes, and pass only the execution role.
 */
export class RetrainingWorkflow extends Construct {
  /** The retraining state machine; the evaluator starts one execution per retraining decision. */
  public readonly stateMachine: StateMachine;
  /** Role SageMaker assumes for training, transform jobs and hosting of the retrained models. */
  public readonly executionRole: SageMakerExecutionRole;
  /** The task Lambda the state machine invokes. */
  public readonly taskFunction: IFunction;
  /** Rollback alarms per model id (errors, latency), watched by blue/green deployments. */
  public readonly rollbackAlarms: Readonly<Record<string, readonly Alarm[]>>;
  /** What the states declared and the state machine role was granted (besides CDK's logging and tracing). */
  public readonly stateGrants: readonly IamGrant[];

  constructor(scope: Construct, id: string, props: RetrainingWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const datasetsPrefix = props.datasetsPrefix ?? RETRAINING_WORKFLOW_DEFAULTS.datasetsPrefix;
    const artifactsPrefix = props.artifactsPrefix ?? RETRAINING_WORKFLOW_DEFAULTS.artifactsPrefix;
    const logRetention = props.logRetention ?? RETRAINING_WORKFLOW_DEFAULTS.logRetention;
    const models = props.catalog.models;

    const retrainingBucket = props.retrainingBucket ?? props.archiveBucket;
    this.executionRole = new SageMakerExecutionRole(this, "SageMakerExecutionRole", {
      bucket: retrainingBucket,
      datasetsPrefix,
      artifactsPrefix,
      models,
    });
    this.taskFunction = workflowTaskFunction(this, {
      table: props.table,
      archiveBucket: props.archiveBucket,
      retrainingBucket,
      catalog: props.catalog,
      datasetsPrefix,
      artifactsPrefix,
      logRetention,
      ...(props.taskFunction ? { taskFunction: props.taskFunction } : {}),
    });
    this.rollbackAlarms = createRollbackAlarms(this, models);
    const alarmArns = Object.values(this.rollbackAlarms).flatMap((alarms) =>
      alarms.map((alarm) => alarm.alarmArn),
    );
    this.executionRole.grantDescribeAlarms(alarmArns);

    const resources = workflowResources(
      models,
      (service, resource, resourceName) => stack.formatArn({ service, resource, resourceName }),
      {
        taskFunctionArn: this.taskFunction.functionArn,
        executionRoleArn: this.executionRole.roleArn,
        topicArn: props.topic.topicArn,
        topicKeyArn: props.topic.masterKey?.keyArn,
        rollbackAlarmArns: alarmArns,
      },
    );
    // Task timeouts are static (see WorkflowTimeouts): the longest of all models.
    const { definition, grants } = buildRetrainingWorkflow(resources, workflowTimeouts(models));
    const logGroup = new LogGroup(this, "ExecutionLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, "StateMachine", {
      definitionBody: DefinitionBody.fromString(JSON.stringify(definition)),
      definitionSubstitutions: definitionSubstitutions(resources),
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    for (const grant of grants) this.stateMachine.addToRolePolicy(toPolicyStatement(grant));
    const cfnStateMachine = this.stateMachine.node.defaultChild as CfnResource;
    // cfn-lint 1.51's Step Functions schema predates `Parameters` on a Parallel state (ScoreHoldout passes
    // the branches their input with it), which Step Functions accepts for JSONPath states
    // (https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html): E3601 is a stale spec.
    ignoreCfnLint(
      cfnStateMachine,
      "cfn-lint's resource spec is older than the service: Parallel states accept Parameters (JSONPath)",
      "E3601",
    );
    ignoreCfnLint(cfnStateMachine, CDK_ROLE_DEPENDS_ON, "W3005");
    this.stateGrants = grants;

    acknowledgeWorkflowFindings({
      workflow: this,
      stateMachineRole: this.stateMachine.role,
      taskFunction: this.taskFunction,
      modelIds: models.map((model) => model.id),
      datasetsPrefix,
      artifactsPrefix,
    });
  }
}
