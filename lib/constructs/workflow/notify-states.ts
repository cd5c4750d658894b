/**
 * States publishing to the alert topic: the approval request (which waits for the task token the
 * `approve` command sends back), the success notification and the failure notifications. They need
 * sns:Publish on the topic (https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html) and, when
 * the topic is encrypted with a customer-managed key, that key
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
 */
import { APPROVAL_REJECTED_ERROR, STATE } from "../../../contracts/workflow";
import type { IamGrant } from "./grants";
import type { WorkflowResources } from "./resources";
import { type BuiltStates, type Json, placeholder, retry, SUBSTITUTIONS } from "./state-builder";

const SNS_TRANSIENT = [
  "SNS.AmazonSNSException",
  "SNS.SdkClientException",
  "SNS.InternalErrorException",
  "SNS.ThrottledException",
];

const snsRetry = [retry(SNS_TRANSIENT, 2, 5, 30)];

/** Publishing to the topic, and encrypting with its key when it has one (the actions `grantPublish` grants). */
export function publishToTopic(resources: WorkflowResources): IamGrant[] {
  return [
    { actions: ["sns:Publish"], resources: [resources.topicArn] },
    ...(resources.topicKeyArn
      ? [{ actions: ["kms:Decrypt", "kms:GenerateDataKey*"], resources: [resources.topicKeyArn] }]
      : []),
  ];
}

const snsAttributes = (severity: string): Json => ({
  severity: { DataType: "String", StringValue: severity },
  modelId: { DataType: "String", "StringValue.$": "$.modelId" },
});

/**
 * Publish to the alerts topic (`subject` and `message`: the `Subject.$` / `Message.$` parameters), then go to
 * `next`. A publish that still fails after the retries is recorded in `$.notifyError`: an alert that cannot
 * be sent must not change the outcome of the run.
 */
function notifyTask(subject: string, message: string, severity: string, next: string): Json {
  return {
    Type: "Task",
    Resource: "arn:aws:states:::sns:publish",
    Parameters: {
      TopicArn: placeholder(SUBSTITUTIONS.topicArn),
      "Subject.$": subject,
      "Message.$": message,
      MessageAttributes: snsAttributes(severity),
    },
    ResultPath: null,
    Retry: snsRetry,
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.notifyError", Next: next }],
    Next: next,
  };
}

/**
 * ApprovalRequired and RequestApproval: when the run plan asks for approval, publish the evaluation with
 * the task token and wait (static timeout) for `approve`; a rejection or timeout fails the run safely.
 */
export function requestApproval(resources: WorkflowResources, timeoutSeconds: number): BuiltStates {
  return {
    states: {
      [STATE.approvalRequired]: {
        Type: "Choice",
        Choices: [{ Variable: "$.run.approval.required", BooleanEquals: true, Next: STATE.requestApproval }],
        Default: STATE.createEndpointConfig,
      },
      [STATE.requestApproval]: {
        Type: "Task",
        Resource: "arn:aws:states:::sns:publish.waitForTaskToken",
        Parameters: {
          TopicArn: placeholder(SUBSTITUTIONS.topicArn),
          "Subject.$": "States.Format('[retrain-triggers] approval needed: model {}', $.modelId)",
          "Message.$":
            "States.Format('{}\n\nApprove within {} hours:\n  npm run cli -- approve --token {}\nReject:\n  npm run cli -- approve --reject --reason <why> --token {}\nWithout an answer the run fails safe: champion and endpoint unchanged.', $.evaluation.summary, $.run.approval.timeoutHours, $$.Task.Token, $$.Task.Token)",
          MessageAttributes: snsAttributes("retrain"),
        },
        TimeoutSeconds: timeoutSeconds,
        ResultPath: "$.approval",
        Retry: [retry(SNS_TRANSIENT, 2, 3, 30)],
        Catch: [
          { ErrorEquals: ["States.Timeout"], ResultPath: "$.failure", Next: STATE.approvalTimedOut },
          { ErrorEquals: [APPROVAL_REJECTED_ERROR], ResultPath: "$.failure", Next: STATE.approvalRejected },
          { ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: STATE.approvalRejected },
        ],
        Next: STATE.createEndpointConfig,
      },
    },
    grants: publishToTopic(resources),
  };
}

/** NotifySuccess (the promotion's message) and the run's end. */
export function notifySuccess(resources: WorkflowResources): BuiltStates {
  return {
    states: {
      [STATE.notifySuccess]: notifyTask(
        "$.promotion.subject",
        "$.promotion.message",
        "info",
        STATE.succeeded,
      ),
      [STATE.succeeded]: { Type: "Succeed" },
    },
    grants: publishToTopic(resources),
  };
}

/**
 * NotifyFailure (the alert RecordFailure wrote), NotifyFailureFallback (when recording failed too: the
 * raw failure) and the failed end, with the failure's error and cause.
 */
export function notifyFailure(resources: WorkflowResources): BuiltStates {
  return {
    states: {
      [STATE.notifyFailure]: notifyTask("$.alert.subject", "$.alert.message", "warn", STATE.failed),
      [STATE.notifyFailureFallback]: notifyTask(
        "States.Format('[retrain-triggers] retraining of {} failed', $.modelId)",
        "States.Format('Retraining failed and the failure could not be recorded; the lease expires on its own. Failure: {} Recording error: {}', States.JsonToString($.failure), States.JsonToString($.recordError))",
        "warn",
        STATE.failed,
      ),
      [STATE.failed]: { Type: "Fail", ErrorPath: "$.failure.Error", CausePath: "$.failure.Cause" },
    },
    grants: publishToTopic(resources),
  };
}
