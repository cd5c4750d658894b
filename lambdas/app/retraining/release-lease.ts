/**
 * ReleaseLease: a successful run gives the model's lease back, so the evaluator may trigger again.
 */
import type { RetrainingDeps, RunPlan } from "./run-plan";

export async function releaseLease(
  deps: RetrainingDeps,
  input: { run: RunPlan },
): Promise<{ released: boolean }> {
  const { state } = deps;
  return { released: await state.releaseLease(input.run.modelId, input.run.leaseOwner) };
}
