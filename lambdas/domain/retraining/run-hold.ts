import type { RuntimeModel } from "../../../contracts/model";

/**
 * How long a run may hold the lease: training, scoring, approval and the deployment budget, plus an hour
 * of margin. Past this, the evaluator may assume the run died and start another.
 */
export function runHoldMs(model: Pick<RuntimeModel, "retraining">): number {
  const plan = model.retraining;
  const seconds =
    plan.training.maxRuntimeSeconds +
    2 * 3600 +
    (plan.approval.required === "never" ? 0 : plan.approval.timeoutHours * 3600) +
    plan.deployment.pollSeconds * plan.deployment.maxPolls +
    3600;
  return seconds * 1000;
}
