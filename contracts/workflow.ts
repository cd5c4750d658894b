/**
 * The retraining workflow's contract, shared by the CDK app (which builds the state machine), the
 * evaluator (which starts executions), the task Lambda (which implements the task states) and local
 * mode (which overrides states by name): state names, the execution input, the task actions, error
 * names, execution naming and the S3 layout of a run.
 */

/** Names of the states. */
export const STATE = {
  confirmLease: "ConfirmLease",
  prepareDataset: "PrepareDataset",
  trainChallenger: "TrainChallenger",
  createChallengerModel: "CreateChallengerModel",
  scoreHoldout: "ScoreHoldout",
  scoreChallenger: "ScoreChallenger",
  hasChampion: "HasChampion",
  scoreChampion: "ScoreChampion",
  noChampion: "NoChampionToScore",
  evaluateChallenger: "EvaluateChallenger",
  validationPassed: "ValidationPassed",
  approvalRequired: "ApprovalRequired",
  requestApproval: "RequestApproval",
  createEndpointConfig: "CreateEndpointConfig",
  endpointExists: "EndpointExists",
  createEndpoint: "CreateEndpoint",
  updateEndpoint: "UpdateEndpoint",
  startPolling: "StartPolling",
  waitForEndpoint: "WaitForEndpoint",
  describeEndpoint: "DescribeEndpoint",
  countPoll: "CountPoll",
  endpointStatus: "EndpointStatus",
  promote: "Promote",
  releaseLease: "ReleaseLease",
  notifySuccess: "NotifySuccess",
  succeeded: "Succeeded",
  // failure path
  leaseFailed: "LeaseNotConfirmed",
  datasetFailed: "DatasetFailed",
  trainingFailed: "TrainingFailed",
  scoringFailed: "ScoringFailed",
  evaluationFailed: "EvaluationFailed",
  validationRejected: "ValidationRejected",
  approvalRejected: "ApprovalRejected",
  approvalTimedOut: "ApprovalTimedOut",
  deploymentFailed: "DeploymentFailed",
  endpointRolledBack: "EndpointRolledBack",
  endpointUpdateFailed: "EndpointUpdateFailed",
  endpointPollTimedOut: "EndpointPollTimedOut",
  promotionFailed: "PromotionFailed",
  recordFailure: "RecordFailure",
  notifyFailure: "NotifyFailure",
  notifyFailureFallback: "NotifyFailureFallback",
  failed: "Failed",
} as const;

/** Actions of the task Lambda: the `action` field of its event, one per task-Lambda state. */
export const TASK_ACTIONS = {
  confirmLease: "confirmLease",
  prepareDataset: "prepareDataset",
  evaluateChallenger: "evaluateChallenger",
  promote: "promote",
  releaseLease: "releaseLease",
  fail: "fail",
} as const;
export type TaskAction = (typeof TASK_ACTIONS)[keyof typeof TASK_ACTIONS];

/** Task states backed by the task Lambda (input: the state's Parameters, `{action, ...}`). */
export const TASK_LAMBDA_STATES = [
  STATE.confirmLease,
  STATE.prepareDataset,
  STATE.evaluateChallenger,
  STATE.promote,
  STATE.releaseLease,
  STATE.recordFailure,
] as const;

/** Task states calling SageMaker (optimized or aws-sdk integrations); local mode overrides them all. */
export const SAGEMAKER_STATES = [
  STATE.trainChallenger,
  STATE.createChallengerModel,
  STATE.scoreChallenger,
  STATE.scoreChampion,
  STATE.createEndpointConfig,
  STATE.createEndpoint,
  STATE.updateEndpoint,
  STATE.describeEndpoint,
] as const;

/** Task states publishing to SNS; RequestApproval waits for a task token. */
export const SNS_STATES = [
  STATE.requestApproval,
  STATE.notifySuccess,
  STATE.notifyFailure,
  STATE.notifyFailureFallback,
] as const;

/** Wait states (override their duration locally, e.g. `waitTimeOverrides: { WaitForEndpoint: 0 }`). */
export const WAIT_STATES = [STATE.waitForEndpoint] as const;

/** Error name the `approve --reject` command sends with SendTaskFailure. */
export const APPROVAL_REJECTED_ERROR = "ApprovalRejected";

/** Error name task Lambdas use for failures worth retrying (throttling, timeouts of dependencies). */
export const TRANSIENT_ERROR = "TransientError";

/** Error name of a malformed execution input or an unknown model: not retried, fails the run. */
export const WORKFLOW_INPUT_ERROR = "WorkflowInputError";

/** Error name of an endpoint that is mid-update by someone else: deploying now would race it. */
export const ENDPOINT_BUSY_ERROR = "EndpointBusyError";

/**
 * Error name of an endpoint in a state it does not leave by itself (`Failed`, `UpdateRollbackFailed`,
 * `OutOfService`): an operator must repair or delete it before any run can deploy.
 */
export const ENDPOINT_UNUSABLE_ERROR = "EndpointUnusableError";

/** Execution input, as the evaluator sends it. */
export interface RetrainingRequest {
  readonly modelId: string;
  /** Decision window (ISO-8601); its end anchors the training window. */
  readonly window?: { readonly from?: string; readonly to?: string };
  readonly decisionTime?: string;
  readonly severity?: string;
  readonly reason?: string;
  /** Owner recorded with the lease; default: the execution name. */
  readonly leaseOwner?: string;
}

/**
 * Execution name for a model's retrain decided at `evaluatedAt`: `<modelId>-retrain-<yyyymmddThhmmssZ>`.
 * Deterministic, so a retried evaluation finds its execution (ExecutionAlreadyExists) instead of
 * starting a second one. Step Functions names allow 80 characters of [A-Za-z0-9-_]; model ids are at
 * most 32 such characters.
 */
export function executionName(modelId: string, evaluatedAt: number): string {
  const stamp = new Date(evaluatedAt)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  return `${modelId.replace(/[^A-Za-z0-9_-]/g, "_")}-retrain-${stamp}`.slice(0, 80);
}

/** Default prefix of prepared datasets in the archive bucket (the SageMaker execution role reads it). */
export const DEFAULT_DATASETS_PREFIX = "retraining/datasets/";

/** Default prefix of model artifacts and scores (the only prefix SageMaker may write). */
export const DEFAULT_ARTIFACTS_PREFIX = "retraining/artifacts/";
