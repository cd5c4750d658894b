/**
 * States backed by the task Lambda (lambdas/handlers/workflow-tasks.ts): lease, dataset, challenger
 * evaluation, promotion, lease release and the failure record. Each invokes the function by its ARN, so
 * the Lambda's event is exactly the state's `Parameters` (`{ action, ... }`, contracts/workflow.ts), and
 * needs `lambda:InvokeFunction` on it.
 */
import { STATE, TASK_ACTIONS, TRANSIENT_ERROR } from "../../../contracts/workflow";
import type { IamGrant } from "./grants";
import type { WorkflowResources } from "./resources";
import { type BuiltStates, catchTo, type Json, placeholder, retry, SUBSTITUTIONS } from "./state-builder";

const LAMBDA_TRANSIENT = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  TRANSIENT_ERROR,
];

const lambdaRetry = [retry(LAMBDA_TRANSIENT, 2, 5, 60)];

/**
 * Invoking the task function, its versions and aliases included (`<arn>:*`), as CDK's `grantInvoke`
 * grants it: a later switch to an alias or version ARN needs no new grant.
 */
export const invokeTaskFunction = (resources: WorkflowResources): IamGrant => ({
  actions: ["lambda:InvokeFunction"],
  resources: [resources.taskFunctionArn, `${resources.taskFunctionArn}:*`],
});

/** A task-Lambda state: direct function ARN as Resource, so its input is exactly `Parameters`. */
function taskState(
  action: string,
  parameters: Json,
  resultPath: string | null,
  next: Json,
  catchNext?: string,
): Json {
  return {
    Type: "Task",
    Resource: placeholder(SUBSTITUTIONS.taskFunctionArn),
    Parameters: { action, ...parameters },
    ResultPath: resultPath,
    TimeoutSeconds: 900,
    Retry: lambdaRetry,
    ...(catchNext ? { Catch: catchTo(catchNext) } : {}),
    ...next,
  };
}

const taskLambda = (resources: WorkflowResources, name: string, state: Json): BuiltStates => ({
  states: { [name]: state },
  grants: [invokeTaskFunction(resources)],
});

/** ConfirmLease: the run holds the model's lease and plans its names, window and settings (`$.run`). */
export const confirmLease = (resources: WorkflowResources): BuiltStates =>
  taskLambda(
    resources,
    STATE.confirmLease,
    taskState(
      TASK_ACTIONS.confirmLease,
      {
        "request.$": "$",
        execution: {
          "id.$": "$$.Execution.Id",
          "name.$": "$$.Execution.Name",
          "startTime.$": "$$.Execution.StartTime",
        },
      },
      "$.run",
      { Next: STATE.prepareDataset },
      STATE.leaseFailed,
    ),
  );

/** PrepareDataset: train, validation and holdout splits written to S3 (`$.dataset`). */
export const prepareDataset = (resources: WorkflowResources): BuiltStates =>
  taskLambda(
    resources,
    STATE.prepareDataset,
    taskState(
      TASK_ACTIONS.prepareDataset,
      { "run.$": "$.run" },
      "$.dataset",
      { Next: STATE.trainChallenger },
      STATE.datasetFailed,
    ),
  );

/** EvaluateChallenger (challenger vs champion on the same holdout) and the Choice on its verdict. */
export const evaluateChallenger = (resources: WorkflowResources): BuiltStates => ({
  states: {
    [STATE.evaluateChallenger]: taskState(
      TASK_ACTIONS.evaluateChallenger,
      { "run.$": "$.run", "dataset.$": "$.dataset", "scores.$": "$.scores" },
      "$.evaluation",
      { Next: STATE.validationPassed },
      STATE.evaluationFailed,
    ),
    [STATE.validationPassed]: {
      Type: "Choice",
      Choices: [{ Variable: "$.evaluation.passed", BooleanEquals: true, Next: STATE.approvalRequired }],
      Default: STATE.validationRejected,
    },
  },
  grants: [invokeTaskFunction(resources)],
});

/** Promote: registry, new baseline and trigger reset once the endpoint serves the challenger. */
export const promote = (resources: WorkflowResources): BuiltStates =>
  taskLambda(
    resources,
    STATE.promote,
    taskState(
      TASK_ACTIONS.promote,
      {
        "run.$": "$.run",
        "training.$": "$.training",
        "evaluation.$": "$.evaluation",
        "dataset.$": "$.dataset",
      },
      "$.promotion",
      { Next: STATE.releaseLease },
      STATE.promotionFailed,
    ),
  );

/** ReleaseLease after a successful run. */
export const releaseLease = (resources: WorkflowResources): BuiltStates =>
  taskLambda(resources, STATE.releaseLease, {
    ...taskState(TASK_ACTIONS.releaseLease, { "run.$": "$.run", outcome: "succeeded" }, null, {
      Next: STATE.notifySuccess,
    }),
    // The run succeeded; an unreleased lease only delays the next run until it expires.
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.releaseError", Next: STATE.notifySuccess }],
  });

/**
 * RecordFailure: the common failure handler (records the failure, releases the lease, cleans up the
 * challenger, writes the alert). If it fails too, the fallback notification still goes out.
 */
export const recordFailure = (resources: WorkflowResources): BuiltStates =>
  taskLambda(resources, STATE.recordFailure, {
    ...taskState(TASK_ACTIONS.fail, { "state.$": "$", "executionName.$": "$$.Execution.Name" }, "$.alert", {
      Next: STATE.notifyFailure,
    }),
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.recordError", Next: STATE.notifyFailureFallback }],
  });
