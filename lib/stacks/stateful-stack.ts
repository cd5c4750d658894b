import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Stream, StreamEncryption, StreamMode } from "aws-cdk-lib/aws-kinesis";
import { CfnDeliveryStream } from "aws-cdk-lib/aws-kinesisfirehose";
import { Key } from "aws-cdk-lib/aws-kms";
import { LogGroup, LogStream, type RetentionDays } from "aws-cdk-lib/aws-logs";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type LifecycleRule,
  ObjectOwnership,
  StorageClass,
} from "aws-cdk-lib/aws-s3";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription, SqsSubscription, UrlSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { type IQueue, Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import type { DeploymentConfig } from "../../contracts/config";
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from "../../contracts/storage";
import { AlarmRelay } from "../constructs/alarm-relay";
import { acknowledge } from "../constructs/nag";

/**
 * S3 key layout of archived events, as Firehose writes it: `<modelId>/yyyy/MM/dd/` by arrival time
 * (UTC). The dataset preparation of the retraining workflow lists these prefixes.
 */
export const ARCHIVE_PREFIX = "!{partitionKeyFromQuery:modelId}/!{timestamp:yyyy/MM/dd}/";
/** Records Firehose could not partition (e.g. not JSON, no modelId) land here, never silently dropped. */
export const ARCHIVE_ERROR_PREFIX = "_errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/";

export interface StatefulStackProps extends StackProps {
  /** Validated deployment configuration (from `loadConfig`). */
  readonly config: DeploymentConfig;
}

/**
 * Everything that holds data and must survive a redeploy of the code: the event stream, the state
 * table, the raw-event archive (future training data), the alert topic and the dead-letter queues.
 * Kept apart from the stateless stack so code changes never replace a data resource, and data
 * resources are retained on stack deletion.
 */
export class StatefulStack extends Stack {
  /** Customer-managed key for stream, table and archive (rotation on). */
  public readonly dataKey: Key;
  /** Key of the alert topic; its policy lets the watchdog alarms (CloudWatch) publish. */
  public readonly topicKey: Key;
  public readonly stream: Stream;
  public readonly table: Table;
  /** Raw events written by Firehose (`<modelId>/yyyy/MM/dd/`), tiered and expired by the retention settings. */
  public readonly archiveBucket: Bucket;
  /**
   * Prepared datasets and model artifacts of the retraining workflow (`retraining/datasets/`,
   * `retraining/artifacts/`): no transition, no expiry. A served model's artifacts must stay readable for
   * as long as an endpoint may scale out on it or a later retrain scores it as the champion.
   */
  public readonly retrainingBucket: Bucket;
  public readonly accessLogsBucket: Bucket;
  public readonly topic: Topic;
  public readonly deliveryStream: CfnDeliveryStream;
  /** On-failure destination of the ingest event source mapping (batches that exhausted retries). */
  public readonly ingestFailureQueue: Queue;
  /** Dead-letter queue of the evaluator schedule and of the evaluator's asynchronous invocations. */
  public readonly evaluatorDeadLetterQueue: Queue;
  /** Dead-letter queue of alert deliveries to subscribers (SNS redrive policy). */
  public readonly alertDeadLetterQueue: Queue;
  /** Dead-letter queue of the alarm relay (alarm notifications it could not publish after retries). */
  public readonly alarmRelayDeadLetterQueue: Queue;
  /** All dead-letter queues, for depth alarms. */
  public readonly deadLetterQueues: readonly Queue[];

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    // Server access logs are delivered via a bucket policy, not the legacy LogDeliveryWrite ACL, so
    // the log bucket can enforce bucket-owner object ownership (ACLs disabled).
    this.node.setContext("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", true);
    // A subscribed queue's key lets SNS use it for this topic only (aws:SourceArn), not for any topic.
    this.node.setContext("@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption", true);
    const { config } = props;
    const logRetention = config.retention.logDays as RetentionDays;

    this.dataKey = new Key(this, "DataKey", {
      description: `${config.name}: events stream, state table and event archive`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.topicKey = new Key(this, "TopicKey", {
      description: `${config.name}: alert topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The alarms that publish to the topic themselves (CloudWatch's SNS action: the relay's watchdogs,
    // lib/constructs/alarm-relay.ts; every other alarm goes through the relay). CloudWatch publishes
    // with its own service identity, so the topic policy must allow it, and the topic's key must let it
    // encrypt (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services),
    // both only for these alarms of this account (confused-deputy protection).
    const alarmPublishers = {
      StringEquals: { "aws:SourceAccount": this.account },
      ArnLike: { "aws:SourceArn": AlarmRelay.watchdogAlarmArns(this, config.name) },
    };
    this.topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowCloudWatchAlarmsToUseTheKey",
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: alarmPublishers,
      }),
    );

    this.stream = new Stream(this, "Events", {
      streamMode: config.ingest.streamMode === "provisioned" ? StreamMode.PROVISIONED : StreamMode.ON_DEMAND,
      shardCount: config.ingest.streamMode === "provisioned" ? config.ingest.shardCount : undefined,
      retentionPeriod: Duration.hours(config.retention.streamHours),
      // The AWS-managed aws/kinesis key: KMS encryption at rest without per-consumer key grants or the
      // per-request cost of a customer key on the hottest path (cdk-nag AwsSolutions-KDS3).
      encryption: StreamEncryption.MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.table = new Table(this, "State", {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.dataKey,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.accessLogsBucket = new Bucket(this, "AccessLogs", {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: "expire-access-logs", expiration: Duration.days(config.retention.archiveDays || 365) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.archiveBucket = new Bucket(this, "Archive", {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: "archive/",
      lifecycleRules: archiveLifecycle(config),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Datasets and artifacts live apart from the raw archive: the archive's lifecycle moves objects to
    // Glacier (unreadable by SageMaker and by the dataset preparation without a restore) and deletes them,
    // and it covers every prefix Firehose writes (any modelId a producer sends, `_errors/`), so it stays
    // unfiltered. See docs/deploy.md ("Storage of training data and models").
    this.retrainingBucket = new Bucket(this, "Retraining", {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: "retraining/",
      lifecycleRules: [
        {
          id: "abort-incomplete-uploads",
          enabled: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.deliveryStream = this.archiveDelivery(config, logRetention);

    const dlq = (name: string, purpose: string): Queue => {
      const queue = new Queue(this, name, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const reason = `${purpose}: this queue is itself the dead-letter queue; a second-level DLQ would never be read.`;
      acknowledge(queue, reason, "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy");
      return queue;
    };
    this.ingestFailureQueue = dlq(
      "IngestFailures",
      "On-failure destination of the ingest event source mapping",
    );
    this.evaluatorDeadLetterQueue = dlq(
      "EvaluatorDeadLetters",
      "Dead-letter queue of the evaluator schedule",
    );
    this.alertDeadLetterQueue = dlq("AlertDeadLetters", "Dead-letter queue of alert subscriptions");
    this.alarmRelayDeadLetterQueue = dlq("AlarmRelayDeadLetters", "Dead-letter queue of the alarm relay");
    this.deadLetterQueues = [
      this.ingestFailureQueue,
      this.evaluatorDeadLetterQueue,
      this.alertDeadLetterQueue,
      this.alarmRelayDeadLetterQueue,
    ];

    this.topic = new Topic(this, "Alerts", {
      displayName: `${config.name} alerts`,
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowCloudWatchAlarmsToPublish",
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: alarmPublishers,
      }),
    );
    const deadLetterQueue = this.alertDeadLetterQueue;
    for (const address of config.alerts.email)
      this.topic.addSubscription(new EmailSubscription(address, { deadLetterQueue }));
    for (const url of config.alerts.https)
      this.topic.addSubscription(new UrlSubscription(url, { deadLetterQueue }));
    // Queues named by ARN in the configuration belong to someone else as far as this app can tell: see
    // subscribeAlertQueue.
    config.alerts.sqs.forEach((arn, i) => {
      this.subscribeAlertQueue(Queue.fromQueueArn(this, `AlertQueue${i}`, arn), `AlertQueue${i}`);
    });

    // What producers and operators need after a deploy (`aws cloudformation describe-stacks`).
    new CfnOutput(this, "EventsStreamName", {
      value: this.stream.streamName,
      description: "Kinesis stream inference services PutRecords to",
    });
    new CfnOutput(this, "EventsStreamArn", {
      value: this.stream.streamArn,
      description: "For producer IAM policies",
    });
    new CfnOutput(this, "AlertTopicArn", {
      value: this.topic.topicArn,
      description: "SNS topic to subscribe to",
    });
    new CfnOutput(this, "ArchiveBucketName", {
      value: this.archiveBucket.bucketName,
      description: "Raw event archive (<modelId>/yyyy/MM/dd/)",
    });
    new CfnOutput(this, "RetrainingBucketName", {
      value: this.retrainingBucket.bucketName,
      description: "Prepared datasets and model artifacts (retraining/datasets/, retraining/artifacts/)",
    });
    new CfnOutput(this, "StateTableName", { value: this.table.tableName, description: "State table" });
  }

  /**
   * Subscribes an SQS queue to the alert topic. SNS can deliver only if the queue's policy allows
   * `sns.amazonaws.com` to `sqs:SendMessage` for this topic and, for a queue encrypted with a
   * customer-managed key, the key's policy lets SNS use it
   * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html); otherwise every delivery fails
   * silently, from the topic's side.
   *
   * In reach means created in this CDK app (a `Queue` construct; its key a `Key` construct): then the
   * subscription adds both statements, scoped to the topic with `aws:SourceArn`. Anything else (a queue
   * named by ARN, e.g. `alerts.sqs`, in this account or another) keeps its owner's policies: an
   * `AWS::SQS::QueuePolicy` would replace the queue's whole policy, and the key's policy cannot be
   * edited from here. For those, synth warns with what the owner must add, and the stack outputs
   * `<id>Policy` and `<id>KeyPolicy` give the exact statements (with this topic's ARN) after deploying.
   * A queue of another account must also confirm the subscription
   * (https://docs.aws.amazon.com/sns/latest/dg/sns-send-message-to-sqs-cross-account.html).
   */
  public subscribeAlertQueue(queue: IQueue, id: string): void {
    this.topic.addSubscription(
      new SqsSubscription(queue, { deadLetterQueue: this.alertDeadLetterQueue, rawMessageDelivery: false }),
    );
    const owned = queue instanceof Queue;
    const keyOwned = queue.encryptionMasterKey === undefined || queue.encryptionMasterKey instanceof Key;
    if (owned && keyOwned) return;
    const statements = alertQueueStatements(queue.queueArn, this.topic.topicArn);
    const outputs: string[] = [];
    if (!owned) {
      new CfnOutput(this, `${id}Policy`, {
        value: Stack.of(this).toJsonString(statements.queuePolicy),
        description: `Statement the owner of ${queue.queueArn} must add to the queue's access policy`,
      });
      outputs.push(`${id}Policy`);
    }
    new CfnOutput(this, `${id}KeyPolicy`, {
      value: Stack.of(this).toJsonString(statements.keyPolicy),
      description: `Statement the owner of ${queue.queueArn}'s customer-managed KMS key must add to its key policy (none for SSE-SQS)`,
    });
    outputs.push(`${id}KeyPolicy`);
    const placeholders = alertQueueStatements(queue.queueArn, "<AlertTopicArn>");
    Annotations.of(queue).addWarningV2(
      "retrain-triggers:external-alert-queue",
      [
        `Alert queue ${queue.queueArn} is not created by this app, so its policies are left to its owner (a queue policy from here would replace theirs). Until they add these, SNS cannot deliver alerts to it:`,
        ...(owned ? [] : [`  queue policy statement: ${JSON.stringify(placeholders.queuePolicy)}`]),
        `  if the queue is encrypted with a customer-managed KMS key, key policy statement: ${JSON.stringify(placeholders.keyPolicy)} (SSE-SQS needs nothing; the AWS-managed aws/sqs key cannot be used with SNS)`,
        `  <AlertTopicArn> is the stack output AlertTopicArn; the stack outputs ${outputs.join(" and ")} hold the exact statements after deploying.`,
        "  A queue in another account must also confirm the subscription: read the SubscriptionConfirmation message in the queue and open its SubscribeURL (docs/deploy.md, section 4).",
      ].join("\n"),
    );
  }

  /** Firehose from the stream to the archive, partitioned by model (from the record's JSON) and day. */
  private archiveDelivery(config: DeploymentConfig, logRetention: RetentionDays): CfnDeliveryStream {
    const role = new Role(this, "ArchiveDeliveryRole", {
      assumedBy: new ServicePrincipal("firehose.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": this.account } },
      }),
      description: "Firehose: read the events stream, write the event archive",
    });
    this.stream.grantRead(role);
    role.addToPolicy(
      new PolicyStatement({
        actions: [
          "s3:AbortMultipartUpload",
          "s3:GetBucketLocation",
          "s3:GetObject",
          "s3:ListBucket",
          "s3:ListBucketMultipartUploads",
          "s3:PutObject",
        ],
        resources: [this.archiveBucket.bucketArn, this.archiveBucket.arnForObjects("*")],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: [this.dataKey.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `s3.${this.region}.amazonaws.com` } },
      }),
    );
    acknowledge(
      role,
      "Firehose writes objects under dynamic per-model/day prefixes, so object access is scoped to the archive bucket's objects (<bucket>/*), not to fixed keys.",
      `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.archiveBucket.node.defaultChild as CfnBucket)}.Arn>/*]`,
    );
    const logGroup = new LogGroup(this, "ArchiveDeliveryLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logStream = new LogStream(this, "ArchiveDeliveryLogStream", {
      logGroup,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    logGroup.grantWrite(role);

    const delivery = new CfnDeliveryStream(this, "ArchiveDelivery", {
      deliveryStreamType: "KinesisStreamAsSource",
      kinesisStreamSourceConfiguration: { kinesisStreamArn: this.stream.streamArn, roleArn: role.roleArn },
      extendedS3DestinationConfiguration: {
        bucketArn: this.archiveBucket.bucketArn,
        roleArn: role.roleArn,
        prefix: ARCHIVE_PREFIX,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        bufferingHints: {
          intervalInSeconds: config.ingest.firehoseBufferSeconds,
          sizeInMBs: config.ingest.firehoseBufferMb,
        },
        compressionFormat: "GZIP",
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: this.dataKey.keyArn } },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: "MetadataExtraction",
              parameters: [
                { parameterName: "MetadataExtractionQuery", parameterValue: "{modelId: .modelId}" },
                { parameterName: "JsonParsingEngine", parameterValue: "JQ-1.6" },
              ],
            },
            {
              type: "AppendDelimiterToRecord",
              parameters: [{ parameterName: "Delimiter", parameterValue: "\\n" }],
            },
          ],
        },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: logGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
      },
    });
    // The role's policy must exist before Firehose validates access to the stream. The role itself needs
    // no DependsOn: the GetAtt of its ARN already orders it (cfn-lint W3005).
    delivery.node.addDependency(role.node.findChild("DefaultPolicy"));
    acknowledge(
      delivery,
      "Delivery-stream SSE cannot be enabled when the source is a Kinesis stream; records are encrypted at rest in the stream (aws/kinesis) and in the archive bucket (SSE-KMS with the data key, set in the destination).",
      "AwsSolutions-KDF1",
    );
    return delivery;
  }
}

/**
 * What a queue's owner must allow for the alert topic to deliver to it: the queue policy statement and,
 * for a queue encrypted with a customer-managed key, the key policy statement; both scoped to the topic
 * (`aws:SourceArn`). The same statements CDK adds for a queue created in the app.
 */
export function alertQueueStatements(
  queueArn: string,
  topicArn: string,
): { queuePolicy: Record<string, unknown>; keyPolicy: Record<string, unknown> } {
  const condition = { ArnEquals: { "aws:SourceArn": topicArn } };
  return {
    queuePolicy: {
      Sid: "AllowRetrainTriggersAlerts",
      Effect: "Allow",
      Principal: { Service: "sns.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Condition: condition,
    },
    keyPolicy: {
      Sid: "AllowRetrainTriggersAlertsToEncrypt",
      Effect: "Allow",
      Principal: { Service: "sns.amazonaws.com" },
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: "*",
      Condition: condition,
    },
  };
}

/**
 * Lifecycle of the raw-event archive: optional Standard-IA and Glacier transitions, optional expiry, for
 * every object Firehose writes. Datasets and artifacts are in the retraining bucket, never here.
 */
function archiveLifecycle(config: DeploymentConfig): LifecycleRule[] {
  const r = config.retention;
  const transitions = [
    ...(r.archiveInfrequentAccessDays > 0
      ? [
          {
            storageClass: StorageClass.INFREQUENT_ACCESS,
            transitionAfter: Duration.days(r.archiveInfrequentAccessDays),
          },
        ]
      : []),
    ...(r.archiveGlacierDays > 0
      ? [{ storageClass: StorageClass.GLACIER, transitionAfter: Duration.days(r.archiveGlacierDays) }]
      : []),
  ];
  return [
    {
      id: "archive-tiering-and-expiry",
      enabled: true,
      transitions,
      ...(r.archiveDays > 0 ? { expiration: Duration.days(r.archiveDays) } : {}),
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    },
  ];
}
