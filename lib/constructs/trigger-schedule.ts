import { Duration, Stack, TimeZone } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
  TimeWindow,
} from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { MODEL_CATALOG_FILE, type ModelCatalog } from "../../contracts/catalog";
import { DEFAULTS } from "../../contracts/config";
import { SERVICE_NAMES } from "../../contracts/telemetry";
import { acknowledge } from "./nag";
import { NodeFunction } from "./node-function";

/** Lambda's asynchronous retries of a failed evaluation (the Lambda maximum, 2). */
export const EVALUATOR_ASYNC_RETRIES = 2;

/** When and how the evaluator runs (the `schedule` config section). */
export interface TriggerScheduleSettings {
  /** EventBridge Scheduler expression. @default "rate(1 hour)" */
  readonly expression?: string;
  /** IANA time zone of cron expressions. @default "UTC" */
  readonly timezone?: string;
  /** Flexible time window in minutes (0 = off). @default 0 */
  readonly flexibleWindowMinutes?: number;
  /** Scheduler retries of a failed invocation. @default 2 */
  readonly retryAttempts?: number;
  /**
   * Lambda's retries of a failed evaluation (asynchronous invocation), 0-2, before the event goes to the
   * dead-letter queue.
   * @default 2
   */
  readonly asyncRetryAttempts?: number;
  /** Age after which the scheduler gives up on an invocation. @default 60 */
  readonly maxEventAgeMinutes?: number;
  /** @default 1024 */
  readonly memoryMb?: number;
  /** @default 300 */
  readonly timeoutSeconds?: number;
}

export interface TriggerScheduleProps {
  readonly table: ITable;
  readonly topic: ITopic;
  /** The retraining workflow the evaluator starts (one active run per model). */
  readonly stateMachine: IStateMachine;
  /** Receives invocations the scheduler could not deliver and evaluations that failed after Lambda's retries. */
  readonly deadLetterQueue: IQueue;
  /** The model catalog (contracts/catalog.ts), bundled with the function as `model-catalog.json`. */
  readonly catalog: ModelCatalog;
  /**
   * Entry file of the evaluator handler.
   * @default "lambdas/handlers/evaluate.ts"
   */
  readonly entry?: string;
  /**
   * @default - the `DEFAULTS.schedule` values of contracts/config.ts
   */
  readonly settings?: TriggerScheduleSettings;
  /**
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The evaluator Lambda on an EventBridge Scheduler schedule. The scheduler passes the scheduled time
 * (`{"time": "<ISO>"}`) so a retried or late invocation evaluates the window it was meant for; failed
 * deliveries are retried a bounded number of times and then land on the dead-letter queue.
 */
export class TriggerSchedule extends Construct {
  public readonly function: NodejsFunction;
  public readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: TriggerScheduleProps) {
    super(scope, id);
    const s = { asyncRetryAttempts: EVALUATOR_ASYNC_RETRIES, ...DEFAULTS.schedule, ...props.settings };
    const fn = new NodeFunction(this, "Evaluator", {
      entry: props.entry ?? "lambdas/handlers/evaluate.ts",
      serviceName: SERVICE_NAMES.evaluator,
      description: "Evaluates every model's trigger policy and starts the retraining workflow when it fires",
      memorySize: s.memoryMb,
      timeout: Duration.seconds(s.timeoutSeconds),
      logRetention: props.logRetention,
      deadLetterQueue: props.deadLetterQueue,
      // EventBridge Scheduler invokes the function asynchronously
      // (https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html): its retry policy
      // covers only a failed Invoke call, and a failing evaluation is retried by Lambda's async retries
      // alone. Slots are idempotent (each model's decision is recorded once per slot), so a retry
      // re-evaluates only the models that failed; after the retries the event goes to the DLQ.
      retryAttempts: s.asyncRetryAttempts,
      bundledFiles: { [MODEL_CATALOG_FILE]: JSON.stringify(props.catalog) },
      environment: {
        TABLE_NAME: props.table.tableName,
        TOPIC_ARN: props.topic.topicArn,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
      },
    });
    this.function = fn.function;
    props.table.grantReadWriteData(this.function);
    props.topic.grantPublish(this.function);
    props.stateMachine.grantStartExecution(this.function);
    acknowledge(
      fn.role,
      "Generated by table.grantReadWriteData / topic.grantPublish for the customer-managed KMS keys: kms:GenerateDataKey*/ReEncrypt* are scoped to those key ARNs.",
      "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
      "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
    );
    acknowledge(
      this.function,
      "Asynchronous failures (after the scheduler's own bounded retries) go to the dead-letter queue configured on the function (DeadLetterConfig), the same queue as the schedule's DLQ.",
      "Serverless-LambdaAsyncFailureDestination",
    );

    const schedulerRole = new Role(this, "SchedulerRole", {
      assumedBy: new ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
      }),
      description: "EventBridge Scheduler: invoke the evaluator, send undeliverable events to its DLQ",
    });
    this.schedule = new Schedule(this, "Schedule", {
      description: "Runs the retraining trigger evaluation",
      schedule: ScheduleExpression.expression(s.expression, TimeZone.of(s.timezone)),
      timeWindow:
        s.flexibleWindowMinutes > 0
          ? TimeWindow.flexible(Duration.minutes(s.flexibleWindowMinutes))
          : TimeWindow.off(),
      target: new LambdaInvoke(this.function, {
        role: schedulerRole,
        input: ScheduleTargetInput.fromObject({ time: ContextAttribute.scheduledTime }),
        retryAttempts: s.retryAttempts,
        maxEventAge: Duration.minutes(s.maxEventAgeMinutes),
        deadLetterQueue: props.deadLetterQueue,
      }),
    });
    acknowledge(
      schedulerRole,
      "Scheduler target role (CDK LambdaInvoke): lambda:InvokeFunction on the evaluator function and its versions (<arn>:*), no other function.",
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnFunction)}.Arn>:*]`,
    );
  }
}
