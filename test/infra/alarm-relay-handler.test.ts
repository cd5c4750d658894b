/**
 * The alarm relay's code (issue 15 item 8): a CloudWatch alarm state change, as CloudWatch sends it to a
 * Lambda alarm action, becomes an alert on the topic with the `severity` and `modelId` attributes that
 * severity-filtered subscriptions match on. The SNS client is mocked with aws-sdk-client-mock; the
 * handler runs with its Powertools middleware.
 */
import { Metrics } from "@aws-lambda-powertools/metrics";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { UNKNOWN_MODEL_ID } from "../../contracts/telemetry";
import { SnsNotifier } from "../../lambdas/adapters/sns-notifier";
import {
  type AlarmStateChange,
  alarmModelId,
  alarmNotification,
  NotAnAlarmEventError,
} from "../../lambdas/domain/alerts/alarm-notification";
import { createAlarmRelayHandler } from "../../lambdas/handlers/alarm-relay";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:alerts";

/** A Lambda alarm-action payload, shaped as in the CloudWatch documentation's example. */
function change(
  state: string,
  previous: string | undefined,
  dimensions: Record<string, string>[] = [{ FunctionName: "ingest" }],
): AlarmStateChange {
  return {
    source: "aws.cloudwatch",
    alarmArn:
      "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:RetrainTriggers-Stateless-AlarmsQuarantineRate0",
    accountId: "123456789012",
    time: "2026-11-29T10:00:00.000+0000",
    region: "eu-west-1",
    alarmData: {
      alarmName: "RetrainTriggers-Stateless-AlarmsQuarantineRate0",
      state: {
        value: state,
        reason: "Threshold Crossed: 1 datapoint [12.5] >= 5.0",
        timestamp: "2026-11-29T10:00:00.000+0000",
      },
      ...(previous ? { previousState: { value: previous, reason: "before" } } : {}),
      configuration: {
        description: "More than 5% of churn's records were quarantined in 5 minutes.",
        metrics: dimensions.map((d, i) => ({
          id: `m${i}`,
          metricStat: { metric: { namespace: "RetrainTriggers", name: "RecordsQuarantined", dimensions: d } },
        })),
      },
    },
  };
}

describe("alarmNotification (pure)", () => {
  it.each([
    ["ALARM", "OK", "warn"],
    ["ALARM", "INSUFFICIENT_DATA", "warn"],
    ["OK", "ALARM", "info"],
  ])("%s after %s is relayed with severity %s", (state, previous, severity) => {
    const notice = alarmNotification(change(state, previous))!;
    expect(notice.severity).toBe(severity);
    expect(notice.subject).toBe(
      `[retrain-triggers] ${state}: RetrainTriggers-Stateless-AlarmsQuarantineRate0`,
    );
    expect(notice.message).toContain(`is ${state} (was ${previous})`);
    expect(notice.message).toContain("More than 5% of churn's records were quarantined");
    expect(notice.message).toContain("Reason: Threshold Crossed");
    expect(notice.attributes).toEqual({
      alarmName: "RetrainTriggers-Stateless-AlarmsQuarantineRate0",
      alarmState: state,
    });
  });

  it.each([
    ["OK", "INSUFFICIENT_DATA"],
    ["OK", undefined],
    ["INSUFFICIENT_DATA", "OK"],
    ["INSUFFICIENT_DATA", "ALARM"],
  ])("%s after %s is not relayed (an alarm settling after a deploy is no news)", (state, previous) => {
    expect(alarmNotification(change(state, previous))).toBeUndefined();
  });

  it("names the model when the alarm's metrics carry exactly one modelId", () => {
    const perModel = change("ALARM", "OK", [
      { service: "ingest", modelId: "churn" },
      { service: "ingest", modelId: "churn" },
    ]);
    expect(alarmModelId(perModel)).toBe("churn");
    expect(alarmNotification(perModel)).toMatchObject({ modelId: "churn" });
    expect(alarmNotification(perModel)!.message).toContain("Model: churn");
    expect(alarmModelId(change("ALARM", "OK", [{ modelId: "a" }, { modelId: "b" }]))).toBeUndefined();
    expect(alarmModelId(change("ALARM", "OK", [{ modelId: UNKNOWN_MODEL_ID }]))).toBeUndefined();
    expect(alarmNotification(change("ALARM", "OK"))).not.toHaveProperty("modelId");
  });

  it("refuses a payload that is not an alarm state change", () => {
    expect(() => alarmNotification({} as AlarmStateChange)).toThrow(NotAnAlarmEventError);
  });
});

describe("alarm relay handler with a mocked SNS client", () => {
  const sns = mockClient(SNSClient);
  const handler = createAlarmRelayHandler({
    notifier: new SnsNotifier({ client: new SNSClient({ region: "eu-west-1" }), topicArn: TOPIC }),
    tools: { metrics: new Metrics({ namespace: "RetrainTriggersTest", serviceName: "alarm-relay" }) },
  });
  const context = {} as Context;

  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
  });

  it("publishes an ALARM of a model's alarm with severity warn and the modelId attribute", async () => {
    const out = await handler(change("ALARM", "OK", [{ service: "ingest", modelId: "churn" }]), context);
    expect(out).toEqual({ published: true, severity: "warn", messageId: "m-1" });
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.TopicArn).toBe(TOPIC);
    expect(input.Subject).toBe("[retrain-triggers] ALARM: RetrainTriggers-Stateless-AlarmsQuarantineRate0");
    expect(input.MessageAttributes).toEqual({
      severity: { DataType: "String", StringValue: "warn" },
      modelId: { DataType: "String", StringValue: "churn" },
      alarmName: { DataType: "String", StringValue: "RetrainTriggers-Stateless-AlarmsQuarantineRate0" },
      alarmState: { DataType: "String", StringValue: "ALARM" },
    });
  });

  it('matches the filter policy docs/deploy.md suggests, {"severity": ["warn", "retrain"]}', async () => {
    await handler(change("ALARM", "OK"), context);
    const attributes = sns.commandCalls(PublishCommand)[0]!.args[0].input.MessageAttributes!;
    expect(["warn", "retrain"]).toContain(attributes.severity!.StringValue);
    // A system-wide alarm names no model: no modelId attribute rather than an empty one.
    expect(attributes).not.toHaveProperty("modelId");
  });

  it("publishes the return to OK with severity info", async () => {
    await handler(change("OK", "ALARM"), context);
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.MessageAttributes!.severity).toEqual({ DataType: "String", StringValue: "info" });
  });

  it("publishes nothing for an alarm settling into OK after a deploy", async () => {
    const out = await handler(change("OK", "INSUFFICIENT_DATA"), context);
    expect(out).toEqual({ published: false });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it("fails when SNS does, so that Lambda retries and then dead-letters the change", async () => {
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error("KMS key disabled"), { name: "KMSDisabledException" }));
    await expect(handler(change("ALARM", "OK"), context)).rejects.toThrow("KMS key disabled");
  });
});
