/**
 * The resources the workflow's states act on, as the state builders see them: ARNs only, so the same
 * builders serve the construct (CloudFormation tokens) and local mode and tests (fake ARNs). The model
 * catalog decides the scope: SageMaker resources a run creates are named `<modelId>-<time>`, so grants
 * cover `<type>/<modelId>-*` of the configured models and their endpoints, nothing else.
 */
import type { RuntimeModel } from "../../../contracts/model";

/** SageMaker resources a run creates, each named after its model (`<modelId>-...`). */
export type RunResourceType = "training-job" | "transform-job" | "model" | "endpoint-config";

/** Builds an ARN in the workflow's partition, region and account (`Stack.formatArn` in the construct). */
export type ArnFormatter = (service: string, resourceType: string, resourceName: string) => string;

/** ARNs of the resources the states reference, besides the SageMaker ones derived from the models. */
export interface WorkflowResourceArns {
  /** The task Lambda the task-Lambda states invoke. */
  readonly taskFunctionArn: string;
  /** The role SageMaker assumes for training and hosting, passed by the states that create jobs and models. */
  readonly executionRoleArn: string;
  /** The alert topic the notification and approval states publish to. */
  readonly topicArn: string;
  /**
   * Customer-managed KMS key of the topic: publishing to an encrypted topic needs it as well.
   * @default - the topic is not encrypted with a customer-managed key
   */
  readonly topicKeyArn?: string;
  /** The models' rollback alarms: an endpoint update with auto-rollback checks them against the caller. */
  readonly rollbackAlarmArns: readonly string[];
}

/** Everything the state builders need to declare their grants. */
export interface WorkflowResources extends WorkflowResourceArns {
  /** ARNs of one type of run resource under every model's name prefix: `<type>/<modelId>-*`. */
  readonly runResources: (type: RunResourceType) => string[];
  /** ARNs of the models' endpoints. */
  readonly endpointArns: readonly string[];
  /** ARN of an EventBridge rule, e.g. the managed rule a `.sync` integration watches its jobs with. */
  readonly eventsRuleArn: (ruleName: string) => string;
}

/**
 * The workflow's resources for `models`. SageMaker names are matched lower-cased (SageMaker ARNs are
 * lower case whatever the case of the name), as the task Lambda's grants do.
 */
export function workflowResources(
  models: readonly Pick<RuntimeModel, "id" | "retraining">[],
  formatArn: ArnFormatter,
  arns: WorkflowResourceArns,
): WorkflowResources {
  const ids = models.map((model) => model.id.toLowerCase());
  return {
    ...arns,
    runResources: (type) => ids.map((id) => formatArn("sagemaker", type, `${id}-*`)),
    endpointArns: models.map((model) =>
      formatArn("sagemaker", "endpoint", model.retraining.deployment.endpointName.toLowerCase()),
    ),
    eventsRuleArn: (ruleName) => formatArn("events", "rule", ruleName),
  };
}
