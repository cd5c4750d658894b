/**
 * ConfirmLease: the run confirms the lease the evaluator took for it (extending it to the run's hold
 * time) and fixes the run plan: names, S3 locations, the window, the champion the endpoint serves now.
 * It refuses to deploy onto an endpoint that is not InService or whose model it cannot tell.
 */

import { DAY_MS } from "../../../contracts/time";
import type { RetrainingRequest } from "../../../contracts/workflow";
import { runHoldMs } from "../../domain/retraining/run-hold";
import {
  compactTime,
  EndpointBusyError,
  parseIso,
  type RetrainingDeps,
  type RunPlan,
  WorkflowInputError,
} from "./run-plan";

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
  await state.confirmLease(model.id, owner, now, runHoldMs(model));

  const startMs = parseIso(input.execution.startTime, "execution start time") ?? now;
  const toMs =
    parseIso(request.window?.to, "window.to") ?? parseIso(request.decisionTime, "decisionTime") ?? startMs;
  const fromMs = toMs - plan.trainingWindowDays * DAY_MS;
  const runId = `${model.id}-${compactTime(startMs)}`;
  const [champion, endpoint] = await Promise.all([
    state.getChampion(model.id),
    hosting.describeEndpoint(plan.deployment.endpointName),
  ]);
  if (endpoint.exists && endpoint.status !== "InService") {
    throw new EndpointBusyError(
      `endpoint ${plan.deployment.endpointName} is ${endpoint.status}; a retraining run deploys only onto an InService endpoint`,
    );
  }
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
