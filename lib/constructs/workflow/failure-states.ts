/**
 * The failure path's entry states: a Pass state per stage that marks where a caught error happened, and
 * the failures the workflow detects itself (validation rejected, endpoint rolled back, update failed,
 * poll timed out). All lead to RecordFailure (task-lambda-states.ts); they call no service, so they
 * need no grants.
 */
import { STATE } from "../../../contracts/workflow";
import type { BuiltStates, Json } from "./state-builder";

/** Marks `$.failure.stage` after a Catch, then goes to the common failure handler. */
const stageMarker = (stage: string): Json => ({
  Type: "Pass",
  Result: stage,
  ResultPath: "$.failure.stage",
  Next: STATE.recordFailure,
});

/** A failure detected by the workflow itself (no error thrown): builds `$.failure`. */
const failureOf = (stage: string, error: string, causePath: string | null, cause?: string): Json => ({
  Type: "Pass",
  Parameters: {
    stage,
    Error: error,
    ...(causePath ? { "Cause.$": causePath } : { Cause: cause ?? error }),
  },
  ResultPath: "$.failure",
  Next: STATE.recordFailure,
});

/** The stage markers of caught errors and the self-detected failures, in definition order. */
export function failureStages(): BuiltStates {
  return {
    states: {
      [STATE.leaseFailed]: stageMarker("lease"),
      [STATE.datasetFailed]: stageMarker("dataset"),
      [STATE.trainingFailed]: stageMarker("training"),
      [STATE.scoringFailed]: stageMarker("scoring"),
      [STATE.evaluationFailed]: stageMarker("evaluation"),
      [STATE.approvalRejected]: stageMarker("approval"),
      [STATE.approvalTimedOut]: stageMarker("approval"),
      [STATE.deploymentFailed]: stageMarker("deployment"),
      [STATE.promotionFailed]: stageMarker("promotion"),
      [STATE.validationRejected]: failureOf("validation", "ValidationRejected", "$.evaluation.summary"),
      [STATE.endpointRolledBack]: failureOf(
        "deployment",
        "EndpointRolledBack",
        null,
        "the endpoint is InService on its previous configuration: the update was rolled back (alarm or failed deployment)",
      ),
      [STATE.endpointUpdateFailed]: failureOf("deployment", "EndpointUpdateFailed", "$.endpoint.status"),
      [STATE.endpointPollTimedOut]: failureOf(
        "deployment",
        "EndpointPollTimedOut",
        null,
        "the endpoint did not reach InService within the polling budget",
      ),
    },
    grants: [],
  };
}
