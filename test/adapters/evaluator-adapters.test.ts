import {
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { executionName } from "../../contracts/workflow";
import { SfnWorkflowStarter } from "../../lambdas/adapters/sfn-workflow-starter";
import { SnsNotifier, sanitizeSubject } from "../../lambdas/adapters/sns-notifier";

const sns = mockClient(SNSClient);
const sfn = mockClient(SFNClient);
const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:retrain";

beforeEach(() => {
  sns.reset();
  sfn.reset();
});

describe("SnsNotifier", () => {
  it("publishes severity and modelId as message attributes for subscription filtering", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const notifier = new SnsNotifier({
      client: new SNSClient({}),
      topicArn: "arn:aws:sns:eu-west-1:1:alerts",
    });
    const out = await notifier.publish({
      subject: "[retrain] churn: accuracy dropped",
      message: "accuracy 0.71 < 0.85",
      severity: "retrain",
      modelId: "churn",
      attributes: { action: "retrain", empty: "" },
    });
    expect(out).toEqual({ messageId: "m-1" });
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TopicArn: "arn:aws:sns:eu-west-1:1:alerts",
      Subject: "[retrain] churn: accuracy dropped",
      Message: "accuracy 0.71 < 0.85",
      MessageAttributes: {
        severity: { DataType: "String", StringValue: "retrain" },
        modelId: { DataType: "String", StringValue: "churn" },
        action: { DataType: "String", StringValue: "retrain" },
      },
    });
    expect(input.MessageAttributes?.empty).toBeUndefined();
  });

  it.each([
    ["plain", "plain"],
    ["line\nbreak and ünïcode", "line break and  n code"],
    ["x".repeat(150), `${"x".repeat(97)}...`],
  ])("sanitizes subject %j", (subject, expected) => {
    expect(sanitizeSubject(subject)).toBe(expected);
  });

  it("truncates oversized messages instead of failing", async () => {
    sns.on(PublishCommand).resolves({});
    const notifier = new SnsNotifier({ client: new SNSClient({}), topicArn: "t" });
    await notifier.publish({ subject: "s", message: "y".repeat(400_000), severity: "warn", modelId: "m" });
    const message = sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
    expect(Buffer.byteLength(message)).toBeLessThan(256 * 1024);
    expect(message.endsWith("[truncated]")).toBe(true);
  });

  it("propagates SNS failures", async () => {
    sns.on(PublishCommand).rejects(new Error("throttled"));
    const notifier = new SnsNotifier({ client: new SNSClient({}), topicArn: "t" });
    await expect(
      notifier.publish({ subject: "s", message: "m", severity: "warn", modelId: "m" }),
    ).rejects.toThrow("throttled");
  });
});

describe("SfnWorkflowStarter", () => {
  it("derives a deterministic, valid execution name from model and window", () => {
    const name = executionName("churn", Date.parse("2026-11-27T05:00:00.000Z"));
    expect(name).toBe("churn-retrain-20261127T050000Z");
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(executionName("churn", Date.parse("2026-11-27T05:00:00.000Z"))).toBe(name);
  });

  it("starts an execution with the decision as input", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:x`, startDate: new Date() });
    const starter = new SfnWorkflowStarter({ client: new SFNClient({}), stateMachineArn: ARN });
    const out = await starter.start({ name: "churn-retrain-x", input: { modelId: "churn" } });
    expect(out).toEqual({ executionArn: `${ARN}:x`, alreadyStarted: false });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: ARN,
      name: "churn-retrain-x",
      input: '{"modelId":"churn"}',
    });
  });

  it("reports ExecutionAlreadyExists as alreadyStarted", async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "exists", $metadata: {} }));
    const starter = new SfnWorkflowStarter({ client: new SFNClient({}), stateMachineArn: ARN });
    expect(await starter.start({ name: "churn-retrain-x", input: {} })).toEqual({
      executionArn: "arn:aws:states:eu-west-1:123456789012:execution:retrain:churn-retrain-x",
      alreadyStarted: true,
    });
  });

  it("propagates other errors", async () => {
    sfn.on(StartExecutionCommand).rejects(new StateMachineDoesNotExist({ message: "gone", $metadata: {} }));
    const starter = new SfnWorkflowStarter({ client: new SFNClient({}), stateMachineArn: ARN });
    await expect(starter.start({ name: "n", input: {} })).rejects.toThrow("gone");
  });
});
