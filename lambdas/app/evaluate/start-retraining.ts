/**
 * Starts (or confirms) the retraining run of a retrain decision under the model's single-flight lease.
 * The execution name is deterministic, so a retried slot learns that its run exists
 * (`alreadyStarted`) instead of starting a second one; a failed start releases the lease and fails.
 */
import type { RetrainingRequest } from "../../../contracts/workflow";
import type { Decision } from "../../domain/decision/decision";
import { DEFAULT_LEASE_TTL_MS, type EvaluatorDeps } from "./evaluator";

/** The execution input of a decision's run (contracts/workflow.ts RetrainingRequest). */
export function retrainingRequest(decision: Decision, name: string): RetrainingRequest {
  return {
    modelId: decision.modelId,
    window: {
      from: new Date(decision.window.from).toISOString(),
      to: new Date(decision.window.to).toISOString(),
    },
    decisionTime: new Date(decision.evaluatedAt).toISOString(),
    severity: decision.severity,
    reason: decision.summary,
    leaseOwner: name,
  };
}

export async function startRetraining(
  deps: Pick<EvaluatorDeps, "state" | "workflow" | "leaseTtlMs">,
  decision: Decision,
  name: string,
): Promise<{ started: boolean; alreadyStarted: boolean }> {
  const ttl = deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const lease = await deps.state.acquireLease(decision.modelId, name, decision.evaluatedAt, ttl);
  if (!lease.acquired) return { started: false, alreadyStarted: false };
  try {
    const out = await deps.workflow.start({
      name,
      input: retrainingRequest(decision, name) as unknown as Record<string, unknown>,
    });
    return { started: true, alreadyStarted: out.alreadyStarted };
  } catch (error) {
    await deps.state.releaseLease(decision.modelId, name);
    throw error;
  }
}
