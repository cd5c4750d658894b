/**
 * The role SageMaker assumes for the workflow's training jobs, transform jobs and endpoints. It reads
 * prepared datasets and artifacts, writes only artifacts, pulls the models' images, writes its own
 * logs and metrics, and reads the rollback alarms during blue/green deployments.
 */
import { ArnFormat, Stack } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import type { RuntimeModel } from "../../../contracts/model";

/** `123.dkr.ecr.eu-west-1.amazonaws.com/repo/name:tag` -> the repository ARN, when it is an ECR URI. */
export function ecrRepositoryArn(imageUri: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(imageUri);
  if (!match) return undefined;
  return `arn:aws:ecr:${match[2]}:${match[1]}:repository/${match[3]}`;
}

/** Properties of {@link SageMakerExecutionRole}. */
export interface SageMakerExecutionRoleProps {
  /** Bucket holding the prepared datasets and the model artifacts (the retraining bucket). */
  readonly bucket: IBucket;
  /** Prefix of prepared datasets (read only). */
  readonly datasetsPrefix: string;
  /** Prefix of model artifacts and batch-transform scores (the only prefix SageMaker may write). */
  readonly artifactsPrefix: string;
  /** The models whose training and serving images the role may pull. */
  readonly models: readonly Pick<RuntimeModel, "retraining">[];
}

/**
 * SageMaker execution role with least privilege: datasets and artifacts only, the models' ECR
 * repositories, `/aws/sagemaker/*` logs and metrics. A Role itself (not a wrapper construct), so its
 * logical id stays that of the role.
 */
export class SageMakerExecutionRole extends Role {
  constructor(scope: Construct, id: string, props: SageMakerExecutionRoleProps) {
    super(scope, id, {
      assumedBy: new ServicePrincipal("sagemaker.amazonaws.com"),
      description: "Retraining jobs and endpoints: reads prepared datasets, writes model artifacts",
    });
    const stack = Stack.of(this);
    const { bucket, datasetsPrefix, artifactsPrefix } = props;
    this.addToPolicy(
      new PolicyStatement({
        actions: ["s3:GetObject"],
        resources: [bucket.arnForObjects(`${datasetsPrefix}*`), bucket.arnForObjects(`${artifactsPrefix}*`)],
      }),
    );
    this.addToPolicy(
      new PolicyStatement({
        actions: ["s3:PutObject"],
        resources: [bucket.arnForObjects(`${artifactsPrefix}*`)],
      }),
    );
    this.addToPolicy(
      new PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": [`${datasetsPrefix}*`, `${artifactsPrefix}*`] } },
      }),
    );
    bucket.encryptionKey?.grantEncryptDecrypt(this);
    const repositories = [
      ...new Set(
        props.models
          .flatMap((model) => [model.retraining.training.image, model.retraining.deployment.image])
          .map(ecrRepositoryArn)
          .filter((arn): arn is string => arn !== undefined),
      ),
    ];
    if (repositories.length > 0) {
      this.addToPolicy(
        new PolicyStatement({
          actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
          resources: repositories,
        }),
      );
    }
    this.addToPolicy(new PolicyStatement({ actions: ["ecr:GetAuthorizationToken"], resources: ["*"] }));
    this.addToPolicy(
      new PolicyStatement({
        actions: [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:DescribeLogStreams",
        ],
        resources: [
          stack.formatArn({
            service: "logs",
            resource: "log-group",
            resourceName: "/aws/sagemaker/*",
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.addToPolicy(
      new PolicyStatement({
        actions: ["cloudwatch:PutMetricData"],
        resources: ["*"],
        conditions: { StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } },
      }),
    );
  }

  /**
   * Lets SageMaker read the rollback alarms it watches during blue/green deployments (deployment
   * guardrails check them against this role). No statement when there are no alarms.
   */
  public grantDescribeAlarms(alarmArns: readonly string[]): void {
    if (alarmArns.length === 0) return;
    this.addToPolicy(
      new PolicyStatement({ actions: ["cloudwatch:DescribeAlarms"], resources: [...alarmArns] }),
    );
  }
}
