/**
 * ConfirmLease: the run confirms the lease the evaluator took for it (extending it to the run's hold
 * time) and fixes the run plan: names, S3 locations, the window, the champion the endpoint serves now.
 * It refuses to deploy onto an endpoint that is not InService or whose model it cannot tell.
 *
 * A refused run does not extend the lease (it only checks that it holds it, so that a lease held by
 * another run is reported as such), and RecordFailure releases it: the next evaluation may start a run.
 */

import { DAY_MS } from "../../../contracts/time";
import type { RetrainingRequest } from "../../../contracts/workflow";
import { runHoldMs } from "../../domain/retraining/run-hold";
import type { EndpointInfo } from "../../ports/model-hosting";
import {
  compactTime,
  EndpointBusyError,
  EndpointUnusableError,
  parseIso,
  type RetrainingDeps,
  type RunPlan,
  WorkflowInputError,
} from "./run-plan";

/**
 * Endpoint states that do not end by themselves, with what an operator must do. From the EndpointStatus
 * documentation of DescribeEndpoint
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html): "DeleteEndpoint is
 * the only operation that can be performed on a failed endpoint"; `UpdateRollbackFailed` serves a mix of
 * the old and new configurations until repaired; `OutOfService` takes no requests and is no transition.
 * Every other status but InService (Creating, Updating, SystemUpdating, RollingBack, Deleting) is a
 * transition that ends on its own: the run is refused as busy, and a later evaluation tries again.
 */
const UNUSABLE_STATUSES: ReadonlyMap<string, string> = new Map([
  [
    "Failed",
    "SageMaker allows only DeleteEndpoint on a failed endpoint: find the cause (FailureReason), delete the endpoint, and the next run creates it anew",
  ],
  [
    "UpdateRollbackFailed",
    "the endpoint serves a mix of its old and new configurations: finish or roll back the update by hand (see SageMaker's rolling deployment guide) until it is InService",
  ],
  [
    "OutOfService",
    "the endpoint takes no requests and will not return to service by itself: repair or delete it",
  ],
]);

/**
 * Why a run must not deploy onto `endpoint`, if it must not: an error naming the state and, for states
 * that do not end by themselves, what an operator must do; or, for an InService endpoint, production
 * variants the run's one-variant endpoint config cannot keep. `field` is the configuration path of the
 * model's variant name, for the message.
 */
function endpointProblem(
  name: string,
  endpoint: EndpointInfo,
  variantName: string,
  field: string,
): Error | undefined {
  if (!endpoint.exists) return undefined;
  if (endpoint.status === "InService") return variantProblem(name, endpoint, variantName, field);
  const status = endpoint.status ?? "in an unknown state";
  const reason = endpoint.failureReason ? ` (FailureReason: ${endpoint.failureReason})` : "";
  const action = endpoint.status !== undefined ? UNUSABLE_STATUSES.get(endpoint.status) : undefined;
  if (action)
    return new EndpointUnusableError(
      `endpoint ${name} is ${status}${reason} and will not recover by itself: ${action}. Until then every retraining run of this model stops here.`,
    );
  return new EndpointBusyError(
    `endpoint ${name} is ${status}${reason}; a retraining run deploys only onto an InService endpoint (a later evaluation tries again)`,
  );
}

/**
 * A blue/green update must keep the live endpoint config's variant name
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html), and the rollback
 * alarms (created at synth time) watch the configured variant: a live endpoint with another variant, or
 * with several (the run's config has one and would drop the others), fails here, before any training is
 * paid for, with the configuration field to change.
 */
function variantProblem(
  name: string,
  endpoint: EndpointInfo,
  variantName: string,
  field: string,
): Error | undefined {
  const live = endpoint.variantNames;
  if (live === undefined || (live.length === 1 && live[0] === variantName)) return undefined;
  if (live.length === 1)
    return new WorkflowInputError(
      `endpoint ${name} serves production variant "${live[0]}" but ${field} is "${variantName}": set ${field} to "${live[0]}" (a blue/green update keeps the variant name, and the rollback alarms watch that variant)`,
    );
  return new WorkflowInputError(
    `endpoint ${name} has ${live.length} production variants (${live.map((v) => `"${v}"`).join(", ")}); a retraining run deploys one variant named by ${field} ("${variantName}") and would drop the others: reduce the endpoint to that one variant, or retrain it outside this workflow`,
  );
}

export async function confirmLease(
  deps: RetrainingDeps,
  input: {
    request: RetrainingRequest;
    execution: { id?: string; name: string; startTime?: string };
  },
): Promise<RunPlan> {
  const { state, hosting, layout } = deps;
  const request = input.request;
  if (typeof request?.modelId !== "string") throw new WorkflowInputError("execution input has no modelId");
  const model = deps.models.find((m) => m.id === request.modelId);
  if (!model) throw new WorkflowInputError(`model ${request.modelId} is not configured for retraining`);
  const plan = model.retraining;
  const now = deps.now();
  const owner = request.leaseOwner ?? input.execution.name;
  const [champion, endpoint] = await Promise.all([
    state.getChampion(model.id),
    hosting.describeEndpoint(plan.deployment.endpointName),
  ]);
  const problem = endpointProblem(
    plan.deployment.endpointName,
    endpoint,
    plan.deployment.variantName,
    `models[${deps.models.indexOf(model)}].deployment.variantName`,
  );
  // The lease is checked first (a lease held by another run is the real cause), but only extended to the
  // run's hold time when the run can go ahead.
  await state.confirmLease(model.id, owner, now, problem ? 0 : runHoldMs(model));
  if (problem) throw problem;

  const startMs = parseIso(input.execution.startTime, "execution start time") ?? now;
  const toMs =
    parseIso(request.window?.to, "window.to") ?? parseIso(request.decisionTime, "decisionTime") ?? startMs;
  const fromMs = toMs - plan.trainingWindowDays * DAY_MS;
  const runId = `${model.id}-${compactTime(startMs)}`;
  // A challenger is only ever compared with what actually serves: never deploy without that comparison.
  const championModel = endpoint.modelName ?? champion?.version;
  if (endpoint.exists && !championModel) {
    throw new WorkflowInputError(
      `cannot tell which model endpoint ${plan.deployment.endpointName} serves (no readable endpoint config, no registered champion)`,
    );
  }
  const retrainingBucket = layout.retrainingBucket ?? layout.bucket;
  const datasetUri = `s3://${retrainingBucket}/${layout.datasetsPrefix}${model.id}/${runId}/`;
  const artifactsUri = `s3://${retrainingBucket}/${layout.artifactsPrefix}${model.id}/${runId}/`;
  const approvalRequired =
    plan.approval.required === "always" ||
    (plan.approval.required === "bySeverity" &&
      plan.approval.severities.includes(request.severity ?? "retrain"));
  return {
    runId,
    modelId: model.id,
    leaseOwner: owner,
    task: model.task,
    ...(model.classes ? { classes: model.classes } : {}),
    features: model.features.map((f) => ({ name: f.name, kind: f.kind })),
    window: { fromMs, toMs, labelsUntilMs: Math.max(toMs, now) },
    ...(plan.inputDataUri ? { inputDataUri: plan.inputDataUri } : {}),
    ...(plan.modelPackageGroup ? { modelPackageGroup: plan.modelPackageGroup } : {}),
    // The champion is the model the endpoint serves now (scored on the same holdout as the challenger).
    champion: endpoint.exists
      ? { exists: true, modelName: championModel, ...(champion ? { version: champion.version } : {}) }
      : { exists: false },
    endpoint: {
      name: plan.deployment.endpointName,
      exists: endpoint.exists,
      ...(endpoint.configName ? { configName: endpoint.configName } : {}),
    },
    names: {
      trainingJob: runId,
      model: runId,
      endpointConfig: runId,
      challengerTransform: `${runId}-c`,
      championTransform: `${runId}-h`,
    },
    s3: {
      datasetUri,
      artifactsUri,
      challengerScoresUri: `${artifactsUri}scores/challenger/`,
      championScoresUri: `${artifactsUri}scores/champion/`,
    },
    training: plan.training,
    scoring: plan.scoring,
    deployment: plan.deployment,
    gate: plan.gate,
    approval: { required: approvalRequired, timeoutHours: plan.approval.timeoutHours },
  };
}
