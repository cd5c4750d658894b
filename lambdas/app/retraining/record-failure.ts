/**
 * RecordFailure (the `fail` action): a failed run releases its lease, deletes its challenger when nothing
 * can be using it, and composes the failure alert. The champion and the endpoint are unchanged.
 */
import { ENDPOINT_UNUSABLE_ERROR } from "../../../contracts/workflow";
import type { EndpointInfo, ModelHosting } from "../../ports/model-hosting";
import { type AlertResult, type RetrainingDeps, type RunPlan, subject } from "./run-plan";

/** Turns a Step Functions error cause into one readable line (SageMaker causes are JSON). */
function readableCause(cause: unknown): string {
  if (typeof cause !== "string") return JSON.stringify(cause ?? "unknown");
  try {
    const parsed = JSON.parse(cause) as Record<string, unknown>;
    const reason = parsed.FailureReason ?? parsed.errorMessage ?? parsed.message ?? parsed.Cause;
    if (typeof reason === "string") return reason;
  } catch {
    // Not JSON: the cause is already text.
  }
  return cause;
}

export async function recordFailure(
  deps: RetrainingDeps,
  input: {
    state: {
      modelId?: string;
      leaseOwner?: string;
      run?: RunPlan;
      failure?: { Error?: string; Cause?: unknown; stage?: string };
    };
    executionName: string;
  },
): Promise<AlertResult> {
  const { state, hosting } = deps;
  const s = input.state;
  const modelId = s.run?.modelId ?? s.modelId ?? "unknown";
  const owner = s.run?.leaseOwner ?? s.leaseOwner ?? input.executionName;
  const stage = s.failure?.stage ?? "unknown";
  const error = s.failure?.Error ?? "Unknown";
  let cause = readableCause(s.failure?.Cause).slice(0, 2000);
  // Released at every stage, the lease stage included (ConfirmLease may refuse the run after the evaluator
  // took the lease for it): the release is conditional on the owner, so a lease that another run holds
  // (or took over after ours expired) is never freed by this run.
  const leaseReleased = await state.releaseLease(modelId, owner);
  // The failure reason and the challenger cleanup both read the run's endpoint: one DescribeEndpoint at most.
  const run = s.run;
  let described: Promise<EndpointInfo> | undefined;
  const endpointState = () => {
    described ??= hosting.describeEndpoint(run!.endpoint.name);
    return described;
  };
  if (stage === "deployment" && run) {
    const ep = await endpointState().catch(() => undefined);
    if (ep?.failureReason) cause = `${cause} (endpoint: ${ep.failureReason})`;
  }
  const endpointNote =
    stage === "promotion"
      ? "The endpoint was updated but the promotion was not recorded: check the endpoint and the registry."
      : "The champion and the endpoint are unchanged.";
  const cleanupNote = run ? await cleanUpChallenger(hosting, run, stage, endpointState) : undefined;
  // An endpoint that will not recover by itself blocks every later run: say so in the subject.
  const operatorNeeded = error === ENDPOINT_UNUSABLE_ERROR;
  return {
    subject: subject(
      `[retrain-triggers] retraining of ${modelId} failed at ${stage}${operatorNeeded ? ": endpoint needs an operator" : ""}`,
    ),
    message: [
      `Retraining of model ${modelId}${s.run ? ` (run ${s.run.runId})` : ""} failed at stage "${stage}".`,
      `Error: ${error}`,
      `Cause: ${cause}`,
      ...(operatorNeeded
        ? [
            "ACTION NEEDED: the endpoint is in a state it does not leave by itself (see the cause); retraining runs of this model fail until an operator repairs or deletes it.",
          ]
        : []),
      endpointNote,
      ...(cleanupNote ? [cleanupNote] : []),
      leaseReleased
        ? "The lease is released: the evaluator may trigger again."
        : "The lease was not released by this run.",
    ].join("\n"),
    leaseReleased,
  };
}

/**
 * Deletes the failed run's challenger model and endpoint config, unless the endpoint may be using them:
 * after a promotion failure it serves them; during a deployment failure only when the endpoint is back
 * InService on another configuration (rolled back). A cleanup error never hides the run's failure: it is
 * reported in the message.
 */
async function cleanUpChallenger(
  hosting: ModelHosting,
  run: RunPlan,
  stage: string,
  endpointState: () => Promise<EndpointInfo>,
): Promise<string | undefined> {
  if (!hosting.deleteChallenger || stage === "lease" || stage === "dataset") return undefined;
  const resources = { model: run.names.model, endpointConfig: run.names.endpointConfig };
  const kept = `Challenger model ${resources.model} and endpoint config ${resources.endpointConfig} are kept`;
  if (stage === "promotion") return `${kept}: the endpoint serves them.`;
  try {
    if (stage === "deployment" || stage === "unknown") {
      const ep = await endpointState();
      if (!(ep.exists && ep.status === "InService" && ep.configName !== resources.endpointConfig))
        return `${kept}: endpoint ${run.endpoint.name} is ${ep.exists ? `${ep.status} on ${ep.configName}` : "absent"}, it may use them.`;
    }
    const deleted = await hosting.deleteChallenger(resources);
    return deleted.length > 0 ? `Challenger cleaned up: deleted ${deleted.join(" and ")}.` : undefined;
  } catch (error) {
    const e = error as Error;
    return `${kept}: cleanup failed (${e.name}: ${e.message}).`;
  }
}
