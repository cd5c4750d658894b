import { Duration } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { DEFAULTS } from "../../contracts/config";
import { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAMES, UNKNOWN_MODEL_ID } from "../../contracts/telemetry";
import { MINUTE_MS } from "../../contracts/time";

/** Alarm thresholds (the `alerts` config section). */
export interface AlertThresholds {
  /** Ingest lag (oldest unprocessed record) that alarms, minutes. @default 5 */
  readonly iteratorAgeMinutes?: number;
  /** Quarantined / received records of a model over 5 minutes, percent. @default 5 */
  readonly quarantineRatePercent?: number;
  /** Messages waiting in a dead-letter queue. @default 1 */
  readonly dlqDepth?: number;
  /** Errors of one Lambda in 5 minutes. @default 1 */
  readonly lambdaErrors?: number;
  /** Failed, timed-out or aborted workflow executions in 5 minutes. @default 1 */
  readonly workflowFailures?: number;
  /** Quarantined records without a readable or configured model id in 5 minutes. @default 1 */
  readonly unattributedQuarantined?: number;
}

export interface AlertsProps {
  /**
   * Every alarm's action, on ALARM and on OK: the alarm relay's (AlarmRelay.action), which publishes to
   * the alert topic with the `severity` and `modelId` attributes filtered subscriptions match on.
   */
  readonly action: IAlarmAction;
  /** The ingest Lambda (its IteratorAge is the ingest lag). */
  readonly ingestFunction: IFunction;
  /** Lambdas whose errors alarm, by a short name used in alarm ids. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Dead-letter queues whose depth alarms, by a short name. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  /** The retraining workflow. */
  readonly stateMachine: IStateMachine;
  /** Model ids: one quarantine-rate alarm each. */
  readonly modelIds: readonly string[];
  /** @default - the `DEFAULTS.alerts` values of contracts/config.ts */
  readonly thresholds?: AlertThresholds;
}

/** A per-model custom metric of the ingest Lambda (dimensions `service`, `modelId`). */
export function ingestMetric(metricName: string, modelId: string, period = Duration.minutes(5)): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAMES.ingest, modelId },
    statistic: "Sum",
    period,
  });
}

/**
 * Operational alarms, all to the alert topic through the alarm relay: ingest lag, dead-letter queue depth, Lambda errors,
 * per-model quarantine rate and failed retraining runs. Missing data is "not breaching" everywhere:
 * a quiet model or an idle queue is healthy.
 */
export class Alerts extends Construct {
  public readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    const t = { ...DEFAULTS.alerts, ...props.thresholds };
    const action = props.action;
    const add = (alarmId: string, metric: IMetric, threshold: number, description: string): Alarm => {
      const alarm = new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
      return alarm;
    };

    add(
      "IngestIteratorAge",
      props.ingestFunction.metric("IteratorAge", { statistic: "Maximum", period: Duration.minutes(1) }),
      t.iteratorAgeMinutes * MINUTE_MS,
      `Ingest is more than ${t.iteratorAgeMinutes} min behind the stream: statistics and decisions are stale.`,
    );
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      add(
        `${name}Depth`,
        queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: Duration.minutes(5) }),
        t.dlqDepth,
        `Messages in the ${name} dead-letter queue: work was dropped after retries; inspect and redrive.`,
      );
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      add(
        `${name}Errors`,
        fn.metricErrors({ statistic: "Sum", period: Duration.minutes(5) }),
        t.lambdaErrors,
        `The ${name} Lambda failed ${t.lambdaErrors} or more times in 5 minutes.`,
      );
    }
    props.modelIds.forEach((modelId, i) => {
      add(
        `QuarantineRate${i}`,
        new MathExpression({
          expression: "IF(received > 0, 100 * quarantined / received, 0)",
          usingMetrics: {
            quarantined: ingestMetric(METRIC_NAMES.recordsQuarantined, modelId),
            received: ingestMetric(METRIC_NAMES.recordsReceived, modelId),
          },
          period: Duration.minutes(5),
          label: `${modelId} quarantine rate (%)`,
        }),
        t.quarantineRatePercent,
        `More than ${t.quarantineRatePercent}% of ${modelId}'s records were quarantined in 5 minutes: a producer is sending bad events.`,
      );
    });
    add(
      "UnattributedQuarantine",
      ingestMetric(METRIC_NAMES.recordsQuarantined, UNKNOWN_MODEL_ID),
      t.unattributedQuarantined,
      "Records without a usable model id were quarantined (not JSON, not schema v1, no modelId, a malformed modelId: reason invalid-model-id, or a modelId not in the configuration: reason unknown-model): a producer is misconfigured.",
    );
    add(
      "WorkflowFailures",
      new MathExpression({
        expression: "FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)",
        usingMetrics: {
          failed: props.stateMachine.metricFailed({ statistic: "Sum", period: Duration.minutes(5) }),
          timedOut: props.stateMachine.metricTimedOut({ statistic: "Sum", period: Duration.minutes(5) }),
          aborted: props.stateMachine.metricAborted({ statistic: "Sum", period: Duration.minutes(5) }),
        },
        period: Duration.minutes(5),
        label: "Retraining runs failed, timed out or aborted",
      }),
      t.workflowFailures,
      "A retraining run failed, timed out or was aborted (the champion is unchanged).",
    );
  }
}
