import type { App, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModelCatalog, MODEL_CATALOG_FILE, parseModelCatalog } from "../../contracts/catalog";
import { loadConfig } from "../../contracts/config";
import { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAMES, UNKNOWN_MODEL_ID } from "../../contracts/telemetry";
import { DAY_MS } from "../../contracts/time";
import { limitsFromEnv } from "../../lambdas/handlers/ingest";
import { ALARM_RELAY_RETRIES, watchdogAlarmNames } from "../../lib/constructs/alarm-relay";
import { applyWildcardAcknowledgments } from "../../lib/constructs/nag";
import { NodeFunction } from "../../lib/constructs/node-function";
import { createRetrainApp } from "../../lib/stacks/retrain-app";
import { iamActions, resourceByPrefix } from "./template-helpers";

const config = loadConfig("config/example.config.json");

let app: App;
let stateless: Template;
let stateful: Template;

beforeAll(() => {
  // The real handler entries; bundling is skipped (asset contents are not asserted here: see
  // node-function.test.ts) and the built-in CloudFormation schema check is left to `npm run synth`.
  const built = createRetrainApp(config, {
    nag: false,
    appProps: { builtinCloudFormationValidation: false, context: { "aws:cdk:bundling-stacks": [] } },
  });
  app = built.app;
  stateless = Template.fromStack(built.stateless);
  stateful = Template.fromStack(built.stateful);
});

const functionProps = (prefix: string) =>
  resourceByPrefix(stateless, "AWS::Lambda::Function", prefix).Properties;

describe("stateless stack: Lambda functions", () => {
  it.each([
    ["IngestHandler", config.ingest.memoryMb, config.ingest.timeoutSeconds, "ingest"],
    ["TriggerEvaluator", config.schedule.memoryMb, config.schedule.timeoutSeconds, "evaluator"],
  ])(
    "%s: nodejs24.x, ARM64, explicit memory/timeout, tracing, Powertools",
    (prefix, memory, timeout, service) => {
      expect(functionProps(prefix)).toMatchObject({
        Runtime: "nodejs24.x",
        Architectures: ["arm64"],
        MemorySize: memory,
        Timeout: timeout,
        TracingConfig: { Mode: "Active" },
        LoggingConfig: { LogFormat: "JSON" },
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_SERVICE_NAME: service,
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          }),
        },
      });
    },
  );

  it("bundles the same model catalog with all three model Lambdas, and none gets it through the environment", () => {
    const all = app.node
      .findAll()
      .filter((c): c is NodeFunction => c instanceof NodeFunction)
      .map((f) => [f.node.path, f.bundledFiles[MODEL_CATALOG_FILE]] as const);
    // The alarm relay knows no models.
    expect(all.filter(([path]) => path.includes("/AlarmRelay/")).map(([, json]) => json)).toEqual([
      undefined,
    ]);
    const functions = all.filter(([path]) => !path.includes("/AlarmRelay/"));
    expect(functions.map(([path]) => path.split("/")[1])).toEqual(
      expect.arrayContaining(["Ingest", "Trigger", "Workflow"]),
    );
    expect(functions).toHaveLength(3);
    for (const [, json] of functions) {
      expect(json).toBeDefined();
      const catalog = parseModelCatalog(json!);
      expect(catalog).toEqual(buildModelCatalog(config));
      expect(catalog.models.map((m) => m.policy)).toEqual(config.models.map((m) => m.policy));
    }
    const variables = stateless.findResources("AWS::Lambda::Function");
    for (const fn of Object.values(variables))
      expect(Object.keys(fn.Properties?.Environment?.Variables ?? {})).not.toContain("MODEL_CATALOG");
  });

  it("gives the ingest Lambda its table, limits and quarantine retention", () => {
    expect(
      (functionProps("IngestHandler").Environment as { Variables: Record<string, unknown> }).Variables,
    ).toMatchObject({
      TABLE_NAME: expect.anything(),
      MAX_RECORD_BYTES: String(config.ingest.maxRecordBytes),
      MAX_FUTURE_SKEW_SECONDS: String(config.ingest.maxFutureSkewSeconds),
      STATS_RETENTION_DAYS: String(config.ingest.maxEventAgeDays),
      QUARANTINE_RETENTION_DAYS: String(config.retention.quarantineDays),
    });
  });

  it("passes the configured event-time limits to the ingest Lambda, which reads them back", () => {
    const custom = loadConfig({
      ...JSON.parse(JSON.stringify(config)),
      ingest: { ...config.ingest, maxFutureSkewSeconds: 42, maxEventAgeDays: 400 },
    });
    const t = Template.fromStack(
      createRetrainApp(custom, {
        nag: false,
        appProps: { builtinCloudFormationValidation: false, context: { "aws:cdk:bundling-stacks": [] } },
      }).stateless,
    );
    const env = (
      resourceByPrefix(t, "AWS::Lambda::Function", "IngestHandler").Properties.Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;
    expect(env).toMatchObject({ MAX_FUTURE_SKEW_SECONDS: "42", STATS_RETENTION_DAYS: "400" });
    expect(limitsFromEnv(env)).toEqual({
      maxRecordBytes: custom.ingest.maxRecordBytes,
      maxFutureSkewMs: 42_000,
      retentionMs: 400 * DAY_MS,
    });
  });

  it("gives the evaluator its table, topic, state machine, an async DLQ and Lambda's async retries", () => {
    const props = functionProps("TriggerEvaluator");
    expect((props.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      TABLE_NAME: expect.anything(),
      TOPIC_ARN: expect.anything(),
      STATE_MACHINE_ARN: { Ref: expect.stringMatching(/^WorkflowStateMachine/) },
    });
    expect(props.DeadLetterConfig).toEqual({ TargetArn: expect.anything() });
    // EventBridge Scheduler invokes asynchronously: its own retries never see a failing evaluation, so
    // Lambda's async retries are what retries a slot (idempotent: decisions are recorded once per slot).
    const invokeConfigs = Object.values(stateless.findResources("AWS::Lambda::EventInvokeConfig")).filter(
      (c) => JSON.stringify(c.Properties.FunctionName).includes("TriggerEvaluator"),
    );
    expect(invokeConfigs).toHaveLength(1);
    const retries = invokeConfigs[0]!.Properties.MaximumRetryAttempts as number;
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(retries).toBeLessThanOrEqual(2);
  });

  it("keeps every function's logs for the configured retention", () => {
    const groups = Object.values(stateless.findResources("AWS::Logs::LogGroup")) as {
      Properties: { RetentionInDays?: number };
    }[];
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(config.retention.logDays);
  });

  it("applies a non-default log retention to every log group, the workflow task Lambda's included", () => {
    expect(config.retention.logDays).not.toBe(90);
    const custom = loadConfig({
      ...JSON.parse(JSON.stringify(config)),
      retention: { ...config.retention, logDays: 90 },
    });
    const t = Template.fromStack(
      createRetrainApp(custom, {
        nag: false,
        appProps: { builtinCloudFormationValidation: false, context: { "aws:cdk:bundling-stacks": [] } },
      }).stateless,
    );
    const groups = Object.entries(t.findResources("AWS::Logs::LogGroup")) as [
      string,
      { Properties: { RetentionInDays?: number } },
    ][];
    expect(groups.map(([id]) => id).some((id) => id.startsWith("WorkflowTasksLogGroup"))).toBe(true);
    for (const [id, g] of groups) expect([id, g.Properties.RetentionInDays]).toEqual([id, 90]);
  });

  it("names the workflow task Lambda's Powertools service SERVICE_NAMES.workflow", () => {
    expect(functionProps("WorkflowTasks")).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({
          POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.workflow,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        }),
      },
    });
  });
});

describe("stateless stack: Kinesis event source mapping", () => {
  it("has the configured batching, bounded retries, bisect, partial failures, on-failure queue, in-order shards", () => {
    stateless.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
    stateless.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: Match.stringLikeRegexp("^IngestHandler") },
      EventSourceArn: Match.anyValue(),
      StartingPosition: "TRIM_HORIZON",
      BatchSize: config.ingest.batchSize,
      MaximumBatchingWindowInSeconds: config.ingest.maxBatchingWindowSeconds,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: config.ingest.retryAttempts,
      MaximumRecordAgeInSeconds: config.ingest.maxRecordAgeSeconds,
      ParallelizationFactor: 1,
      DestinationConfig: {
        OnFailure: { Destination: { "Fn::ImportValue": Match.stringLikeRegexp("IngestFailures") } },
      },
    });
  });
});

describe("stateless stack: evaluator schedule", () => {
  it("runs on the configured expression with the scheduled time as input, bounded retries and a DLQ", () => {
    stateless.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: config.schedule.expression,
      ScheduleExpressionTimezone: config.schedule.timezone,
      FlexibleTimeWindow: { Mode: "OFF" },
      State: "ENABLED",
      Target: {
        Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("^TriggerEvaluator"), "Arn"] },
        RoleArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^TriggerSchedulerRole"), "Arn"] },
        Input: JSON.stringify({ time: "<aws.scheduler.scheduled-time>" }),
        RetryPolicy: {
          MaximumRetryAttempts: config.schedule.retryAttempts,
          MaximumEventAgeInSeconds: config.schedule.maxEventAgeMinutes * 60,
        },
        DeadLetterConfig: { Arn: { "Fn::ImportValue": Match.stringLikeRegexp("EvaluatorDeadLetters") } },
      },
    });
  });

  it("uses a cron expression and flexible window when configured", () => {
    const cron = loadConfig({
      ...JSON.parse(JSON.stringify(config)),
      schedule: {
        expression: "cron(15 6 ? * MON-FRI *)",
        timezone: "Europe/Paris",
        flexibleWindowMinutes: 10,
      },
    });
    const t = Template.fromStack(
      createRetrainApp(cron, {
        nag: false,
        appProps: { builtinCloudFormationValidation: false, context: { "aws:cdk:bundling-stacks": [] } },
      }).stateless,
    );
    t.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "cron(15 6 ? * MON-FRI *)",
      ScheduleExpressionTimezone: "Europe/Paris",
      FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 10 },
    });
  });
});

describe("stateless stack: traffic shifting fallback", () => {
  it("warns at synth when canary or linear shifting falls back to all-at-once on one instance", () => {
    const input = JSON.parse(JSON.stringify(config));
    input.models[0].deployment = { ...input.models[0].deployment, strategy: "canary", instanceCount: 1 };
    input.models[1].deployment = { ...input.models[1].deployment, strategy: "all-at-once", instanceCount: 1 };
    const built = createRetrainApp(loadConfig(input), {
      nag: false,
      appProps: { builtinCloudFormationValidation: false, context: { "aws:cdk:bundling-stacks": [] } },
    });
    const warnings = Annotations.fromStack(built.stateless).findWarning("*", Match.anyValue());
    const texts = warnings.map((w) => String(w.entry.data));
    expect(texts.filter((t) => t.includes("needs deployment.instanceCount >= 2"))).toEqual([
      expect.stringMatching(
        /^models\[0\] \(churn\): deployment.strategy "canary" needs deployment.instanceCount >= 2/,
      ),
    ]);
  });

  it("does not warn for the example configuration (two instances for canary and linear)", () => {
    const texts = Annotations.fromStack(app.node.findChild(`${config.name}-Stateless`) as Stack)
      .findWarning("*", Match.anyValue())
      .map((w) => String(w.entry.data));
    expect(texts.filter((t) => t.includes("needs deployment.instanceCount"))).toEqual([]);
  });
});

describe("stateless stack: where the workflow reads and writes", () => {
  /** Allow statements of the IAM policies attached to roles whose logical id starts with `rolePrefix`. */
  const statementsOf = (rolePrefix: string) =>
    Object.values(stateless.findResources("AWS::IAM::Policy"))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(rolePrefix))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
  const s3Resources = (rolePrefix: string, action: string) =>
    JSON.stringify(
      statementsOf(rolePrefix)
        .filter((s) => ([] as unknown[]).concat(s.Action).includes(action))
        .map((s) => s.Resource),
    );

  it("SageMaker reads datasets and artifacts and writes artifacts in the retraining bucket only", () => {
    const reads = s3Resources("WorkflowSageMakerExecutionRole", "s3:GetObject");
    const writes = s3Resources("WorkflowSageMakerExecutionRole", "s3:PutObject");
    expect(reads).toMatch(/Retraining.*\/retraining\/datasets\/\*/);
    expect(writes).toMatch(/Retraining.*\/retraining\/artifacts\/\*/);
    for (const resources of [reads, writes]) expect(resources).not.toMatch(/Archive/);
  });

  it("the task Lambda reads events from the archive and writes datasets to the retraining bucket", () => {
    const reads = s3Resources("WorkflowTasksRole", "s3:GetObject");
    for (const model of config.models) expect(reads).toMatch(new RegExp(`Archive[^\\]]*/${model.id}/\\*`));
    const writes = s3Resources("WorkflowTasksRole", "s3:PutObject");
    expect(writes).toMatch(/Retraining.*\/retraining\/datasets\/\*/);
    expect(writes).not.toMatch(/Archive/);
    expect(
      (functionProps("WorkflowTasks").Environment as { Variables: Record<string, unknown> }).Variables,
    ).toMatchObject({
      ARCHIVE_BUCKET: { "Fn::ImportValue": expect.stringMatching(/Archive/) },
      RETRAINING_BUCKET: { "Fn::ImportValue": expect.stringMatching(/Retraining/) },
    });
  });
});

describe("stateless stack: retraining workflow", () => {
  it("logs ALL events and traces with X-Ray", () => {
    stateless.hasResourceProperties("AWS::StepFunctions::StateMachine", {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: "ALL" }),
    });
  });

  it("lets the evaluator start executions of exactly this state machine", () => {
    stateless.hasResourceProperties("AWS::IAM::Policy", {
      Roles: [{ Ref: Match.stringLikeRegexp("^TriggerEvaluatorRole") }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: "states:StartExecution",
            Resource: { Ref: Match.stringLikeRegexp("^WorkflowStateMachine") },
          }),
        ]),
      },
    });
  });
});

describe("stateless stack: alarms to the alert topic", () => {
  const alarms = (): (Record<string, unknown> & { id: string })[] =>
    Object.entries(stateless.findResources("AWS::CloudWatch::Alarm"))
      .filter(([id]) => id.startsWith("Alarms"))
      .map(([id, r]) => ({ ...(r as { Properties: Record<string, unknown> }).Properties, id }));

  it("alarm on ingest iterator age above the configured minutes", () => {
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "IteratorAge",
      Namespace: "AWS/Lambda",
      Statistic: "Maximum",
      Threshold: config.alerts.iteratorAgeMinutes * 60_000,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
  });

  it("alarm on the depth of each dead-letter queue", () => {
    const depth = alarms().filter((a) => a.MetricName === "ApproximateNumberOfMessagesVisible");
    expect(depth).toHaveLength(3);
    for (const a of depth) expect(a.Threshold).toBe(config.alerts.dlqDepth);
  });

  it("alarm on errors of the ingest, evaluator and workflow task Lambdas", () => {
    const errors = alarms().filter((a) => a.MetricName === "Errors");
    expect(errors.map((a) => a.id.replace(/[0-9A-F]{8}$/, "")).sort()).toEqual([
      "AlarmsEvaluatorErrors",
      "AlarmsIngestErrors",
      "AlarmsWorkflowTasksErrors",
    ]);
  });

  it("alarm per model on the quarantine rate from the ingest metrics", () => {
    for (const model of config.models) {
      stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Threshold: config.alerts.quarantineRatePercent,
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: "IF(received > 0, 100 * quarantined / received, 0)" }),
          Match.objectLike({
            Id: "quarantined",
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: METRICS_NAMESPACE,
                MetricName: METRIC_NAMES.recordsQuarantined,
                Dimensions: Match.arrayWith([
                  { Name: "modelId", Value: model.id },
                  { Name: "service", Value: "ingest" },
                ]),
              },
            }),
          }),
        ]),
      });
    }
  });

  it("alarm on quarantined records that name no readable or no configured model", () => {
    // Exactly the dimension set the ingest handler emits for them (test/adapters/ingest-handler-metrics.test.ts):
    // CloudWatch matches an alarm's metric on the whole set.
    const unattributed = alarms().filter(
      (a) =>
        a.MetricName === METRIC_NAMES.recordsQuarantined &&
        JSON.stringify(a.Dimensions).includes(`"${UNKNOWN_MODEL_ID}"`),
    );
    expect(unattributed).toHaveLength(1);
    expect(unattributed[0]).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Statistic: "Sum",
      Period: 300,
      Threshold: config.alerts.unattributedQuarantined,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    expect(
      (unattributed[0]!.Dimensions as { Name: string; Value: string }[]).sort((a, b) =>
        a.Name.localeCompare(b.Name),
      ),
    ).toEqual([
      { Name: "modelId", Value: UNKNOWN_MODEL_ID },
      { Name: "service", Value: SERVICE_NAMES.ingest },
    ]);
    expect(unattributed[0]!.AlarmDescription).toMatch(/not in the configuration/);
  });

  it("alarm on failed, timed-out or aborted workflow runs", () => {
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Threshold: config.alerts.workflowFailures,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: "FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)" }),
        Match.objectLike({
          Id: "failed",
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: "ExecutionsFailed" }) }),
        }),
      ]),
    });
  });

  // Issue 15 item 8: CloudWatch's SNS action publishes without message attributes, so subscribers that
  // filter on severity never saw an operational alarm. Every alarm now notifies through the relay.
  const relayArn = { "Fn::GetAtt": [expect.stringMatching(/^AlarmRelayFunction[0-9A-F]{8}$/), "Arn"] };

  it("notify through the alarm relay on ALARM and OK, for every operational alarm, never the topic directly", () => {
    const ops = alarms();
    expect(ops.length).toBe(1 + 3 + 3 + config.models.length + 1 + 1);
    for (const a of ops) {
      expect(a.AlarmActions).toEqual([relayArn]);
      expect(a.OKActions).toEqual(a.AlarmActions);
    }
  });

  it("let CloudWatch invoke the relay for exactly these alarms, of this account", () => {
    const permissions = Object.values(stateless.findResources("AWS::Lambda::Permission"))
      .map((p) => p.Properties as Record<string, unknown>)
      .filter((p) => p.Principal === "lambda.alarms.cloudwatch.amazonaws.com");
    const alarmIds = Object.keys(stateless.findResources("AWS::CloudWatch::Alarm")).filter(
      (id) => id.startsWith("Alarms") || id.startsWith("AlarmRelay"),
    );
    expect(
      permissions.map((p) => (p.SourceArn as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]).sort(),
    ).toEqual(alarmIds.sort());
    for (const p of permissions) {
      expect(p).toMatchObject({
        Action: "lambda:InvokeFunction",
        FunctionName: relayArn,
        SourceAccount: { Ref: "AWS::AccountId" },
      });
    }
  });

  it("relay to the alert topic with a dead-letter queue and Lambda's retries", () => {
    const relay = functionProps("AlarmRelayFunction");
    expect((relay.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      TOPIC_ARN: { "Fn::ImportValue": expect.stringMatching(/Alerts/) },
      POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.alarmRelay,
    });
    expect(relay.DeadLetterConfig).toEqual({
      TargetArn: { "Fn::ImportValue": expect.stringMatching(/AlarmRelayDeadLetters/) },
    });
    stateless.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: Match.stringLikeRegexp("^AlarmRelayFunction") },
      MaximumRetryAttempts: ALARM_RELAY_RETRIES,
    });
    stateless.hasResourceProperties("AWS::IAM::Policy", {
      Roles: [{ Ref: Match.stringLikeRegexp("^AlarmRelayRole") }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: "sns:Publish",
            Resource: { "Fn::ImportValue": Match.stringLikeRegexp("Alerts") },
          }),
        ]),
      },
    });
  });

  it("watch the relay itself with two alarms that also publish straight to the topic, by the names the topic policy allows", () => {
    const names = watchdogAlarmNames(config.name);
    const watchdogs = Object.entries(stateless.findResources("AWS::CloudWatch::Alarm"))
      .filter(([id]) => id.startsWith("AlarmRelay"))
      .map(([, r]) => r.Properties as Record<string, unknown>);
    expect(watchdogs.map((w) => w.AlarmName).sort()).toEqual([names.deadLetters, names.errors].sort());
    const topic = { "Fn::ImportValue": expect.stringMatching(/Alerts/) };
    for (const w of watchdogs) {
      expect(w.AlarmActions).toEqual([topic, relayArn]);
      expect(w.OKActions).toEqual(w.AlarmActions);
    }
    const byName = new Map(watchdogs.map((w) => [w.AlarmName, w]));
    expect(byName.get(names.errors)).toMatchObject({
      MetricName: "Errors",
      Namespace: "AWS/Lambda",
      Threshold: 1,
    });
    expect(byName.get(names.deadLetters)).toMatchObject({
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [
        { Name: "QueueName", Value: { "Fn::ImportValue": expect.stringMatching(/AlarmRelayDeadLetters/) } },
      ],
    });
    // No other alarm of either stack publishes to the topic directly.
    const direct = Object.values(stateless.findResources("AWS::CloudWatch::Alarm"))
      .map((r) => r.Properties as Record<string, unknown>)
      .filter((a) => JSON.stringify(a.AlarmActions ?? []).includes("Alerts"));
    expect(direct.map((a) => a.AlarmName).sort()).toEqual([names.deadLetters, names.errors].sort());
  });
});

describe("stateless stack: dashboard", () => {
  it("charts drift, performance, decisions, volume and quarantine for every model", () => {
    const dashboard = resourceByPrefix(stateless, "AWS::CloudWatch::Dashboard", "Dashboard");
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const model of config.models) {
      for (const title of ["drift score", "performance", "decisions", "ingest volume", "quarantined"])
        expect(body).toContain(`${model.id}: ${title}`);
    }
    for (const name of Object.values(METRIC_NAMES)) expect(body).toContain(`\\"${name}\\"`);
    expect(body).toContain("Quarantined without a model id");
    expect(body).toContain(`\\"${METRICS_NAMESPACE}\\"`);
  });
});

describe("cfn-lint suppressions (scripts/cfn-lint.sh)", () => {
  it("ignore E3601 and E3002 only on the resource each concerns, and no rule for a whole template", () => {
    const suppressed = Object.entries({ ...stateless.toJSON().Resources, ...stateful.toJSON().Resources })
      .map(
        ([id, r]) =>
          [
            id,
            (r as { Type: string }).Type,
            (r as { Metadata?: Record<string, unknown> }).Metadata?.["cfn-lint"],
          ] as const,
      )
      .filter(([, , lint]) => lint !== undefined)
      .map(([id, type, lint]): [string, string, string[]] => [
        id.replace(/[0-9A-F]{8}$/, ""),
        type,
        (lint as { config: { ignore_checks: string[] } }).config.ignore_checks,
      ]);
    expect(suppressed.filter(([, , rules]) => rules.some((r) => r.startsWith("E")))).toEqual([
      ["WorkflowStateMachine", "AWS::StepFunctions::StateMachine", ["E3601", "W3005"]],
      ["Dashboard", "AWS::CloudWatch::Dashboard", ["E3002"]],
    ]);
    // W3005 (CDK's DependsOn on a role next to a GetAtt of it) only where CDK adds it.
    for (const [, type] of suppressed.filter(([, , r]) => r.includes("W3005")))
      expect(["AWS::Lambda::Function", "AWS::StepFunctions::StateMachine"]).toContain(type);
    // The Firehose delivery depends on its role's policy, not on the role it already references.
    const delivery = resourceByPrefix(
      stateful,
      "AWS::KinesisFirehose::DeliveryStream",
      "ArchiveDelivery",
    ) as {
      DependsOn?: string[];
    };
    expect(delivery.DependsOn).toEqual([expect.stringMatching(/^ArchiveDeliveryRoleDefaultPolicy/)]);
  });
});

describe("least privilege and cdk-nag", () => {
  it("grants no wildcard actions in either stack", () => {
    const actions = [...iamActions(stateless), ...iamActions(stateful)];
    expect(actions.length).toBeGreaterThan(10);
    expect(actions.filter((a) => a === "*" || a.endsWith(":*"))).toEqual([]);
  });

  it("has zero unacknowledged AwsSolutions and Serverless findings in the whole app", () => {
    applyWildcardAcknowledgments(app);
    const findings = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.map(
          (v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(", ")}`,
        ),
    );
    expect(findings).toEqual([]);
  });
});
