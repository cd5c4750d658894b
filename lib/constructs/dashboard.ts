import { type CfnResource, Duration } from "aws-cdk-lib";
import { Dashboard, GraphWidget, type IWidget, Metric, TextWidget } from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAMES, UNKNOWN_MODEL_ID } from "../../contracts/telemetry";
import { ignoreCfnLint } from "./cfn-lint";

export interface RetrainDashboardProps {
  /** CloudWatch dashboard name. */
  readonly dashboardName: string;
  /** One row of widgets per model. */
  readonly modelIds: readonly string[];
  readonly ingestFunction: IFunction;
  readonly evaluatorFunction: IFunction;
  readonly stateMachine: IStateMachine;
  /**
   * Period of every graph.
   * @default Duration.hours(1) (the default evaluation cadence)
   */
  readonly period?: Duration;
}

/**
 * One CloudWatch dashboard for the whole system: an operations row (ingest lag, Lambda errors,
 * workflow runs) and, per model, drift score, realized and estimated performance, decisions, ingest
 * volume and quarantined records. Charts the Powertools metrics of the Lambdas (namespace
 * `RetrainTriggers`, dimensions `service` + `modelId`, names in `METRIC_NAMES`).
 */
export class RetrainDashboard extends Construct {
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: RetrainDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.hours(1);
    const custom = (
      service: string,
      metricName: string,
      modelId: string,
      statistic: string,
      label?: string,
    ) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service, modelId },
        statistic,
        period,
        label: label ?? metricName,
      });
    const ingest = (name: string, modelId: string) => custom(SERVICE_NAMES.ingest, name, modelId, "Sum");
    const evaluator = (name: string, modelId: string, statistic = "Sum") =>
      custom(SERVICE_NAMES.evaluator, name, modelId, statistic);

    this.dashboard = new Dashboard(this, "Dashboard", { dashboardName: props.dashboardName });
    // The app's tags reach the dashboard (Tags.of(app)); cfn-lint 1.51's resource spec predates `Tags` on
    // AWS::CloudWatch::Dashboard, which CloudFormation accepts
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html):
    // E3002 is a stale spec.
    ignoreCfnLint(
      this.dashboard.node.defaultChild as CfnResource,
      "cfn-lint's resource spec is older than the service: AWS::CloudWatch::Dashboard accepts Tags",
      "E3002",
    );
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          "# Retraining triggers\nIngest lag, errors and retraining runs; then one row per model: drift, performance, decisions, volume, quarantine.",
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Ingest lag (IteratorAge, ms)",
        left: [
          props.ingestFunction.metric("IteratorAge", { statistic: "Maximum", period: Duration.minutes(5) }),
        ],
        width: 6,
      }),
      new GraphWidget({
        title: "Lambda errors",
        left: [
          props.ingestFunction.metricErrors({ period: Duration.minutes(5), label: "ingest" }),
          props.evaluatorFunction.metricErrors({ period: Duration.minutes(5), label: "evaluator" }),
        ],
        width: 6,
      }),
      new GraphWidget({
        title: "Retraining runs",
        left: [
          props.stateMachine.metricStarted({ period, label: "started" }),
          props.stateMachine.metricSucceeded({ period, label: "succeeded" }),
          props.stateMachine.metricFailed({ period, label: "failed" }),
        ],
        width: 6,
      }),
      new GraphWidget({
        title: "Quarantined without a model id",
        left: [ingest(METRIC_NAMES.recordsQuarantined, UNKNOWN_MODEL_ID)],
        width: 6,
      }),
    );
    for (const modelId of props.modelIds) {
      const row: IWidget[] = [
        new GraphWidget({
          title: `${modelId}: drift score`,
          left: [evaluator(METRIC_NAMES.driftScore, modelId, "Maximum")],
          width: 5,
        }),
        new GraphWidget({
          title: `${modelId}: performance`,
          left: [
            evaluator(METRIC_NAMES.performance, modelId, "Average"),
            evaluator(METRIC_NAMES.estimatedPerformance, modelId, "Average"),
          ],
          width: 5,
        }),
        new GraphWidget({
          title: `${modelId}: decisions`,
          left: [
            evaluator(METRIC_NAMES.evaluations, modelId),
            evaluator(METRIC_NAMES.retrainDecisions, modelId),
            evaluator(METRIC_NAMES.retrainsSuppressed, modelId),
            evaluator(METRIC_NAMES.dataQualityBreaches, modelId),
          ],
          width: 5,
        }),
        new GraphWidget({
          title: `${modelId}: ingest volume`,
          left: [
            ingest(METRIC_NAMES.recordsReceived, modelId),
            ingest(METRIC_NAMES.predictionsIngested, modelId),
            ingest(METRIC_NAMES.labelsIngested, modelId),
          ],
          width: 5,
        }),
        new GraphWidget({
          title: `${modelId}: quarantined`,
          left: [ingest(METRIC_NAMES.recordsQuarantined, modelId)],
          width: 4,
        }),
      ];
      this.dashboard.addWidgets(...row);
    }
  }
}
