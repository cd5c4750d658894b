/**
 * Per-model CloudWatch alarms that roll a blue/green endpoint deployment back: 5xx error rate and model
 * latency of the endpoint's production variant (`deployment.variantName`: the variant the new endpoint
 * config keeps, so the alarms watch the fleet that serves before, during and after the update). Their names come from contracts/catalog.ts
 * (`rollbackAlarmNames`), the same names each model's `DeploymentConfig` lists for auto-rollback.
 */
import { Duration } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { Construct } from "constructs";
import { rollbackAlarmNames } from "../../../contracts/catalog";
import type { RuntimeModel } from "../../../contracts/model";

/**
 * The rollback alarms of every model, by model id, created in `scope` as `RollbackErrors-<id>` and
 * `RollbackLatency-<id>`. No wrapper construct: the alarms have fixed names, and a change of logical id
 * would make CloudFormation create the new alarm and then delete the old one, which has the same name.
 */
export function createRollbackAlarms(
  scope: Construct,
  models: readonly Pick<RuntimeModel, "id" | "retraining">[],
): Record<string, Alarm[]> {
  const alarms: Record<string, Alarm[]> = {};
  for (const model of models) {
    const endpointName = model.retraining.deployment.endpointName;
    const dimensionsMap = {
      EndpointName: endpointName,
      VariantName: model.retraining.deployment.variantName,
    };
    const names = rollbackAlarmNames(endpointName);
    const thresholds = model.retraining.deployment.rollbackAlarms;
    const metric = (metricName: string, statistic: string) =>
      new Metric({
        namespace: "AWS/SageMaker",
        metricName,
        dimensionsMap,
        statistic,
        period: Duration.minutes(1),
      });
    alarms[model.id] = [
      new Alarm(scope, `RollbackErrors-${model.id}`, {
        alarmName: names.errors,
        alarmDescription: `5xx error rate of endpoint ${endpointName} above ${thresholds.maxErrorRatePercent}%: blue/green deployments roll back`,
        metric: new MathExpression({
          expression: "100 * IF(invocations > 0, errors / invocations, 0)",
          usingMetrics: {
            errors: metric("Invocation5XXErrors", "Sum"),
            invocations: metric("Invocations", "Sum"),
          },
          period: Duration.minutes(1),
        }),
        threshold: thresholds.maxErrorRatePercent,
        evaluationPeriods: thresholds.evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(scope, `RollbackLatency-${model.id}`, {
        alarmName: names.latency,
        alarmDescription: `Model latency of endpoint ${endpointName} above ${thresholds.maxModelLatencyMs} ms: blue/green deployments roll back`,
        // ModelLatency is reported in microseconds.
        metric: metric("ModelLatency", "Average"),
        threshold: thresholds.maxModelLatencyMs * 1000,
        evaluationPeriods: thresholds.evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
  return alarms;
}
