import { App } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { Key } from "aws-cdk-lib/aws-kms";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { type DeploymentConfig, loadConfig } from "../../contracts/config";
import { watchdogAlarmNames } from "../../lib/constructs/alarm-relay";
import {
  ARCHIVE_ERROR_PREFIX,
  ARCHIVE_PREFIX,
  alertQueueStatements,
  StatefulStack,
} from "../../lib/stacks/stateful-stack";
import { iamActions, resourceByPrefix } from "./template-helpers";

const config = loadConfig("config/example.config.json");

function synth(cfg: DeploymentConfig): { app: App; stack: StatefulStack; template: Template } {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new StatefulStack(app, "Stateful", { config: cfg });
  return { app, stack, template: Template.fromStack(stack) };
}

let app: App;
let template: Template;
beforeAll(() => {
  ({ app, template } = synth(config));
});

describe("stateful stack: Kinesis stream", () => {
  it("is on-demand, KMS-encrypted, with the configured retention", () => {
    template.resourceCountIs("AWS::Kinesis::Stream", 1);
    template.hasResourceProperties("AWS::Kinesis::Stream", {
      StreamModeDetails: { StreamMode: "ON_DEMAND" },
      StreamEncryption: { EncryptionType: "KMS", KeyId: "alias/aws/kinesis" },
      RetentionPeriodHours: config.retention.streamHours,
    });
  });

  it("is provisioned with the configured shard count when asked", () => {
    const provisioned = loadConfig({
      ...JSON.parse(JSON.stringify(config)),
      ingest: { ...config.ingest, streamMode: "provisioned", shardCount: 4 },
    });
    synth(provisioned).template.hasResourceProperties("AWS::Kinesis::Stream", {
      StreamModeDetails: { StreamMode: "PROVISIONED" },
      ShardCount: 4,
    });
  });

  it("is retained when the stack is deleted", () => {
    template.hasResource("AWS::Kinesis::Stream", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });
});

describe("stateful stack: DynamoDB table", () => {
  it("has string pk/sk, on-demand billing, PITR, TTL on `ttl` and KMS encryption", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ]),
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: Match.anyValue() },
      DeletionProtectionEnabled: true,
    });
  });

  it("is retained on delete and replace", () => {
    template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });
});

/** The single bucket whose logical id starts with `prefix`. */
const bucketOf = (t: Template, prefix: string) =>
  resourceByPrefix(t, "AWS::S3::Bucket", prefix) as {
    Properties: Record<string, unknown>;
    DeletionPolicy: string;
  };

describe("stateful stack: archive bucket", () => {
  const archive = () => bucketOf(template, "Archive");

  it("is KMS-encrypted with public access blocked and access logging", () => {
    const bucket = archive();
    expect(bucket.DeletionPolicy).toBe("Retain");
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" }, BucketKeyEnabled: true },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: "archive/" },
    });
  });

  it("has the configured lifecycle: Standard-IA, Glacier, expiry", () => {
    const rules = (archive().Properties.LifecycleConfiguration as { Rules: unknown[] }).Rules;
    expect(rules).toEqual([
      expect.objectContaining({
        Status: "Enabled",
        ExpirationInDays: config.retention.archiveDays,
        Transitions: [
          { StorageClass: "STANDARD_IA", TransitionInDays: config.retention.archiveInfrequentAccessDays },
          { StorageClass: "GLACIER", TransitionInDays: config.retention.archiveGlacierDays },
        ],
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      }),
    ]);
  });

  it("omits expiry and transitions set to 0", () => {
    const keepForever = loadConfig({
      ...JSON.parse(JSON.stringify(config)),
      retention: { archiveDays: 0, archiveInfrequentAccessDays: 0, archiveGlacierDays: 0 },
    });
    const t = synth(keepForever).template;
    const lifecycle = bucketOf(t, "Archive").Properties.LifecycleConfiguration as {
      Rules: Record<string, unknown>[];
    };
    const rule = lifecycle.Rules[0]!;
    expect(rule.ExpirationInDays).toBeUndefined();
    expect(rule.Transitions).toBeUndefined();
  });

  it("delivers access logs through a bucket policy, with ACLs disabled on both buckets", () => {
    template.allResourcesProperties("AWS::S3::Bucket", {
      AccessControl: Match.absent(),
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: "logging.s3.amazonaws.com" }, Action: "s3:PutObject" }),
        ]),
      },
    });
  });

  it("denies every non-TLS request on every bucket", () => {
    const policies = template.findResources("AWS::S3::BucketPolicy");
    expect(Object.keys(policies)).toHaveLength(3);
    for (const policy of Object.values(policies) as {
      Properties: { PolicyDocument: { Statement: unknown[] } };
    }[]) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: "Deny",
          Action: "s3:*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      );
    }
  });
});

describe("stateful stack: retraining bucket (datasets and model artifacts)", () => {
  const retraining = () => bucketOf(template, "Retraining");

  it("is a bucket of its own: KMS with the data key, public access blocked, access logs, retained", () => {
    const bucket = retraining();
    expect(bucket.DeletionPolicy).toBe("Retain");
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: expect.anything() },
            BucketKeyEnabled: true,
          },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { LogFilePrefix: "retraining/" },
    });
    expect(JSON.stringify(bucket.Properties.BucketEncryption)).toBe(
      JSON.stringify(archive().Properties.BucketEncryption),
    );
  });

  it("never transitions or expires what it holds: a champion's artifacts outlive the archive", () => {
    const rules = (retraining().Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] })
      .Rules;
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.Transitions).toBeUndefined();
      expect(rule.ExpirationInDays).toBeUndefined();
      expect(rule.ExpirationDate).toBeUndefined();
    }
  });

  it("is exported for operators", () => {
    template.hasOutput("RetrainingBucketName", { Value: { Ref: Match.stringLikeRegexp("^Retraining") } });
  });

  const archive = () => bucketOf(template, "Archive");
});

describe("stateful stack: Firehose archive delivery", () => {
  it("reads the stream and partitions by modelId (JQ) and day", () => {
    template.hasResourceProperties("AWS::KinesisFirehose::DeliveryStream", {
      DeliveryStreamType: "KinesisStreamAsSource",
      KinesisStreamSourceConfiguration: { KinesisStreamARN: Match.anyValue(), RoleARN: Match.anyValue() },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: "!{partitionKeyFromQuery:modelId}/!{timestamp:yyyy/MM/dd}/",
        ErrorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        DynamicPartitioningConfiguration: { Enabled: true, RetryOptions: { DurationInSeconds: 300 } },
        BufferingHints: {
          IntervalInSeconds: config.ingest.firehoseBufferSeconds,
          SizeInMBs: config.ingest.firehoseBufferMb,
        },
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: Match.anyValue() } },
        ProcessingConfiguration: {
          Enabled: true,
          Processors: Match.arrayWith([
            {
              Type: "MetadataExtraction",
              Parameters: [
                { ParameterName: "MetadataExtractionQuery", ParameterValue: "{modelId: .modelId}" },
                { ParameterName: "JsonParsingEngine", ParameterValue: "JQ-1.6" },
              ],
            },
          ]),
        },
        CloudWatchLoggingOptions: Match.objectLike({ Enabled: true }),
      }),
    });
    expect(ARCHIVE_PREFIX).toBe("!{partitionKeyFromQuery:modelId}/!{timestamp:yyyy/MM/dd}/");
  });

  it("gives the delivery role exact S3 actions and KMS use via S3 only", () => {
    const actions = iamActions(template);
    expect(actions).toEqual(
      expect.arrayContaining(["s3:PutObject", "s3:AbortMultipartUpload", "kinesis:GetRecords"]),
    );
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Condition: { StringEquals: { "kms:ViaService": Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe("stateful stack: alert topic and dead-letter queues", () => {
  it("encrypts the topic with its own KMS key", () => {
    template.hasResourceProperties("AWS::SNS::Topic", {
      KmsMasterKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("^TopicKey"), "Arn"] },
    });
  });

  // Issue 15 item 1: enforceSSL alone leaves a topic policy with nothing but the TLS denial, and every
  // CloudWatch SNS alarm action fails. The alarms that publish directly (the relay's watchdogs) must be
  // allowed, by name, for this account only; CloudWatch must also be able to use the topic's key.
  const watchdogArns = watchdogAlarmNames(config.name);
  const alarmArn = (name: string) => ({
    "Fn::Join": [
      "",
      [
        "arn:",
        { Ref: "AWS::Partition" },
        ":cloudwatch:",
        { Ref: "AWS::Region" },
        ":",
        { Ref: "AWS::AccountId" },
        `:alarm:${name}`,
      ],
    ],
  });
  const alarmConditions = {
    StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
    ArnLike: { "aws:SourceArn": [alarmArn(watchdogArns.errors), alarmArn(watchdogArns.deadLetters)] },
  };

  it("lets CloudWatch publish to the topic for this deployment's watchdog alarms only", () => {
    const policies = Object.values(template.findResources("AWS::SNS::TopicPolicy")) as {
      Properties: { PolicyDocument: { Statement: Record<string, unknown>[] }; Topics: unknown[] };
    }[];
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.Properties.PolicyDocument.Statement;
    const allow = statements.filter((s) => s.Effect === "Allow");
    expect(allow).toEqual([
      expect.objectContaining({
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: { Ref: expect.stringMatching(/^Alerts/) },
        Condition: alarmConditions,
      }),
    ]);
    // The TLS denial stays.
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
  });

  it("lets CloudWatch use the topic's key for the same alarms only", () => {
    const key = resourceByPrefix(template, "AWS::KMS::Key", "TopicKey").Properties as {
      EnableKeyRotation: boolean;
      KeyPolicy: { Statement: Record<string, unknown>[] };
    };
    expect(key.EnableKeyRotation).toBe(true);
    expect(
      key.KeyPolicy.Statement.filter((s) => JSON.stringify(s.Principal).includes("cloudwatch.amazonaws.com")),
    ).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: alarmConditions,
      }),
    ]);
  });

  it("subscribes the configured e-mail addresses with a redrive policy", () => {
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: config.alerts.email[0],
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
  });

  it("has four encrypted, TLS-only dead-letter queues kept 14 days", () => {
    template.resourceCountIs("AWS::SQS::Queue", 4);
    template.allResourcesProperties("AWS::SQS::Queue", {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const policies = Object.values(template.findResources("AWS::SQS::QueuePolicy")) as {
      Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } };
    }[];
    const tlsDenials = policies.filter((p) =>
      p.Properties.PolicyDocument.Statement.some(
        (s) =>
          s.Effect === "Deny" && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
      ),
    );
    expect(tlsDenials.length).toBeGreaterThanOrEqual(1);
    const coveredQueues = new Set(
      tlsDenials.flatMap((p) =>
        (p as unknown as { Properties: { Queues: unknown[] } }).Properties.Queues.map((q) =>
          JSON.stringify(q),
        ),
      ),
    );
    expect(coveredQueues.size).toBe(4);
  });
});

describe("stateful stack: SQS alert subscriptions (issue 15 item 9)", () => {
  const EXTERNAL = "arn:aws:sqs:eu-west-1:210987654321:ops-alerts";

  it("leaves a queue named by ARN to its owner and states what they must add", () => {
    const input = JSON.parse(JSON.stringify(config));
    input.alerts = { ...input.alerts, sqs: [EXTERNAL] };
    const { stack, template: t } = synth(loadConfig(input));
    t.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "sqs",
      Endpoint: EXTERNAL,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
    // Never a queue policy on someone else's queue: it would replace theirs.
    const policies = JSON.stringify(t.findResources("AWS::SQS::QueuePolicy"));
    expect(policies).not.toContain(EXTERNAL);
    // The exact statements, with this topic's ARN, as outputs.
    const topicRef = { Ref: expect.stringMatching(/^Alerts/) };
    const output = (name: string) => stack.resolve(t.findOutputs(name)[name]!.Value);
    const statement = (name: string) => {
      const joined = output(name) as { "Fn::Join": [string, unknown[]] };
      return joined["Fn::Join"][1];
    };
    const text = (name: string) =>
      statement(name)
        .filter((part) => typeof part === "string")
        .join("");
    expect(text("AlertQueue0Policy")).toContain(`"Action":"sqs:SendMessage","Resource":"${EXTERNAL}"`);
    expect(text("AlertQueue0KeyPolicy")).toContain('"Action":["kms:GenerateDataKey","kms:Decrypt"]');
    expect(statement("AlertQueue0Policy")).toContainEqual(topicRef);
    expect(statement("AlertQueue0KeyPolicy")).toContainEqual(topicRef);
    expect(alertQueueStatements(EXTERNAL, "TOPIC")).toEqual({
      queuePolicy: {
        Sid: "AllowRetrainTriggersAlerts",
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: EXTERNAL,
        Condition: { ArnEquals: { "aws:SourceArn": "TOPIC" } },
      },
      keyPolicy: {
        Sid: "AllowRetrainTriggersAlertsToEncrypt",
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: "*",
        Condition: { ArnEquals: { "aws:SourceArn": "TOPIC" } },
      },
    });
    // And a synth-time warning naming the queue, both statements and the confirmation.
    const warnings = Annotations.fromStack(stack)
      .findWarning("*", Match.stringLikeRegexp("Alert queue"))
      .map((w) => String(w.entry.data));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(EXTERNAL);
    expect(warnings[0]).toContain('"Action":"sqs:SendMessage"');
    expect(warnings[0]).toContain('"aws:SourceArn":"<AlertTopicArn>"');
    expect(warnings[0]).toContain('"Action":["kms:GenerateDataKey","kms:Decrypt"]');
    expect(warnings[0]).toMatch(/confirm the subscription/);
  });

  it("adds the queue policy and key statements for a queue and key created in the app", () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new StatefulStack(app, "Owned", { config });
    const key = new Key(stack, "SubscriberKey", { enableKeyRotation: true });
    const queue = new Queue(stack, "Subscriber", {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
    });
    stack.subscribeAlertQueue(queue, "Subscriber");
    const t = Template.fromStack(stack);
    const topicRef = { Ref: Match.stringLikeRegexp("^Alerts") };
    t.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: Match.stringLikeRegexp("^Subscriber") }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "sns.amazonaws.com" },
            Action: "sqs:SendMessage",
            Condition: { ArnEquals: { "aws:SourceArn": topicRef } },
          }),
        ]),
      },
    });
    t.hasResourceProperties("AWS::KMS::Key", {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: "sns.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Condition: { ArnEquals: { "aws:SourceArn": topicRef } },
          }),
        ]),
      },
    });
    expect(Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("Alert queue"))).toEqual([]);
    expect(Object.keys(t.findOutputs("*"))).not.toContain("SubscriberPolicy");
  });
});

describe("stateful stack: outputs", () => {
  it("exports what producers and operators need", () => {
    template.hasOutput("EventsStreamName", { Value: { Ref: Match.stringLikeRegexp("^Events") } });
    template.hasOutput("EventsStreamArn", {
      Value: { "Fn::GetAtt": [Match.stringLikeRegexp("^Events"), "Arn"] },
    });
    template.hasOutput("AlertTopicArn", { Value: { Ref: Match.stringLikeRegexp("^Alerts") } });
    template.hasOutput("ArchiveBucketName", { Value: { Ref: Match.stringLikeRegexp("^Archive") } });
    template.hasOutput("StateTableName", { Value: { Ref: Match.stringLikeRegexp("^State") } });
  });
});

describe("stateful stack: least privilege and cdk-nag", () => {
  it("grants no wildcard actions", () => {
    const actions = iamActions(template);
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => a === "*" || a.endsWith(":*"))).toEqual([]);
  });

  it("has zero unacknowledged AwsSolutions and Serverless findings", () => {
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const report = pack.validateScope(app);
      expect(
        report.violations.map(
          (v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(", ")}`,
        ),
      ).toEqual([]);
    }
  });
});
