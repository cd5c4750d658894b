/**
 * The rollback alarms watch the endpoint's configured production variant (`deployment.variantName`),
 * the variant the workflow's new endpoint config keeps: alarms on another variant would never see the
 * blue/green update's errors, and SageMaker would never roll it back.
 */
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { STATE } from "../../contracts/workflow";
import { aslFromTemplate } from "../../local/asl";
import { synthWorkflow } from "../support/workflow-stack";

const { template } = synthWorkflow({ bundle: false, churnVariantName: "Blue" });

const dimensions = (endpoint: string, variant: string) => [
  { Name: "EndpointName", Value: endpoint },
  { Name: "VariantName", Value: variant },
];

describe("rollback alarms", () => {
  it.each([
    ["churn-prod", "Blue"], // configured
    ["eta", "AllTraffic"], // the default
  ])("the latency alarm of %s watches variant %s", (endpoint, variant) => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: `${endpoint}-rollback-model-latency`,
      MetricName: "ModelLatency",
      Dimensions: Match.arrayEquals(dimensions(endpoint, variant)),
    });
  });

  it.each([
    ["churn-prod", "Blue"],
    ["eta", "AllTraffic"],
  ])("both metrics of the 5xx-rate alarm of %s are variant %s's", (endpoint, variant) => {
    const alarms = template.findResources("AWS::CloudWatch::Alarm", {
      Properties: { AlarmName: `${endpoint}-rollback-5xx-rate` },
    });
    const metrics = Object.values(alarms)[0]!.Properties.Metrics as {
      MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } };
    }[];
    const stats = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(stats.map((m) => m.MetricName).sort()).toEqual(["Invocation5XXErrors", "Invocations"]);
    for (const m of stats) expect(m.Dimensions).toEqual(dimensions(endpoint, variant));
  });

  it("the new endpoint config takes its variant name from the run plan, not a literal", () => {
    const states = aslFromTemplate(template.toJSON()).States as Record<string, { Parameters: unknown }>;
    const params = states[STATE.createEndpointConfig]!.Parameters as {
      ProductionVariants: Record<string, unknown>[];
    };
    expect(params.ProductionVariants).toHaveLength(1);
    expect(params.ProductionVariants[0]).toMatchObject({ "VariantName.$": "$.run.deployment.variantName" });
    expect(params.ProductionVariants[0]).not.toHaveProperty("VariantName");
  });
});
