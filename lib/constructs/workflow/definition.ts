/**
 * The retraining state machine assembled from its state builders, with the union of the grants they
 * declare. Execution input: `{ modelId, window?: {from, to}, severity?, reason?, decisionTime?,
 * leaseOwner? }` (contracts/workflow.ts, docs/workflow.md); everything else is planned by ConfirmLease.
 *
 * Data flow: every state writes a small result under its own key (`$.run`, `$.dataset`, ...); bulk data
 * (datasets, scores, profiles) lives in S3 and DynamoDB and travels by reference, so the state payload
 * stays a few KB, far from the 256 KB limit. Plain ASL without CDK imports: the construct deploys this
 * definition with `DefinitionSubstitutions`, and local mode and tests render it with fake ARNs.
 */
import type { RuntimeModel } from "../../../contracts/model";
import { STATE } from "../../../contracts/workflow";
import { failureStages } from "./failure-states";
import { type IamGrant, mergeGrants } from "./grants";
import { notifyFailure, notifySuccess, requestApproval } from "./notify-states";
import type { WorkflowResources } from "./resources";
import {
  createChallengerModel,
  createEndpointConfig,
  deployEndpoint,
  pollEndpoint,
  scoreHoldout,
  trainChallenger,
} from "./sagemaker-states";
import { combineStates, type Json, SUBSTITUTIONS } from "./state-builder";
import {
  confirmLease,
  evaluateChallenger,
  prepareDataset,
  promote,
  recordFailure,
  releaseLease,
} from "./task-lambda-states";

/**
 * Task timeouts, static in the definition. Step Functions resolves `TimeoutSecondsPath` against the raw
 * state input while aws-local-stepfunctions resolves it against the task's Parameters, so a dynamic
 * timeout would behave differently locally; {@link workflowTimeouts} computes these from the models (the
 * longest of all). SageMaker's own StoppingCondition still enforces each model's max runtime.
 */
export interface WorkflowTimeouts {
  readonly trainingSeconds: number;
  readonly scoringSeconds: number;
  readonly approvalSeconds: number;
}

/** Timeouts without a configuration; the scoring budget and the approval fallback of {@link workflowTimeouts}. */
export const DEFAULT_TIMEOUTS: WorkflowTimeouts = {
  trainingSeconds: 3 * 3600,
  scoringSeconds: 2 * 3600,
  approvalSeconds: 24 * 3600,
};

/**
 * Static task timeouts for `models`: training = longest max runtime + 1 h (SageMaker stops each job at its
 * own max runtime first), scoring = the default transform budget, approval = the longest approval timeout
 * of the models (24 h when none is set, at least 1 s).
 */
export function workflowTimeouts(models: readonly Pick<RuntimeModel, "retraining">[]): WorkflowTimeouts {
  const maxRuntime = Math.max(0, ...models.map((model) => model.retraining.training.maxRuntimeSeconds));
  const approvalHours = Math.max(0, ...models.map((model) => model.retraining.approval.timeoutHours));
  return {
    trainingSeconds: maxRuntime + 3600,
    scoringSeconds: DEFAULT_TIMEOUTS.scoringSeconds,
    approvalSeconds: Math.max(
      1,
      Math.round(approvalHours > 0 ? approvalHours * 3600 : DEFAULT_TIMEOUTS.approvalSeconds),
    ),
  };
}

/** The definition and what its states need. */
export interface RetrainingWorkflowDefinition {
  /** The ASL, with `${TaskFunctionArn}`-style placeholders (see {@link definitionSubstitutions}). */
  readonly definition: Json;
  /** The union of the states' grants for the state machine role (merged, see `mergeGrants`). */
  readonly grants: readonly IamGrant[];
}

/**
 * Builds the definition from the state builders, in the order of its `States`: the happy path, then the
 * failure path (stage markers, record, notify, fail). A new state is added here and declares its own
 * grants in its builder.
 */
export function buildRetrainingWorkflow(
  resources: WorkflowResources,
  timeouts: WorkflowTimeouts = DEFAULT_TIMEOUTS,
): RetrainingWorkflowDefinition {
  const { states, grants } = combineStates(
    confirmLease(resources),
    prepareDataset(resources),
    trainChallenger(resources, timeouts.trainingSeconds),
    createChallengerModel(resources),
    scoreHoldout(resources, timeouts.scoringSeconds),
    evaluateChallenger(resources),
    requestApproval(resources, timeouts.approvalSeconds),
    createEndpointConfig(resources),
    deployEndpoint(resources),
    pollEndpoint(resources),
    promote(resources),
    releaseLease(resources),
    notifySuccess(resources),
    failureStages(),
    recordFailure(resources),
    notifyFailure(resources),
  );
  return {
    definition: {
      Comment:
        "Retraining workflow: prepare dataset, SageMaker training, challenger vs champion on the same holdout, optional approval, blue/green endpoint update, promote. Any failure: alert, release lease, champion unchanged.",
      StartAt: STATE.confirmLease,
      States: states,
    },
    grants: mergeGrants(grants),
  };
}

/** Values of the definition's placeholders: the same ARNs the grants are scoped to. */
export function definitionSubstitutions(resources: WorkflowResources): Record<string, string> {
  return {
    [SUBSTITUTIONS.taskFunctionArn]: resources.taskFunctionArn,
    [SUBSTITUTIONS.sageMakerRoleArn]: resources.executionRoleArn,
    [SUBSTITUTIONS.topicArn]: resources.topicArn,
  };
}
