/**
 * One schedule slot: every model of the catalog is evaluated at the slot's time (the scheduled time
 * truncated to the minute, so a retried or late invocation evaluates the window it was meant for). One
 * model's failure is reported in its outcome and does not stop the others.
 */

import { MINUTE_MS } from "../../../contracts/time";
import { SILENT_LOG } from "../../ports/telemetry";
import { mapLimit } from "../map-limit";
import { evaluateModel } from "./evaluate-model";
import type { EvaluationReport, EvaluatorDeps } from "./evaluator";

export interface EvaluateEvent {
  /** Scheduled time (ISO-8601); the evaluation time is this, truncated to the minute. */
  readonly time?: string;
}

/** Evaluation time of an event: the scheduled time truncated to the minute, else the clock. */
export function evaluationTime(event: EvaluateEvent | undefined, clock: () => number): number {
  const parsed = event?.time ? Date.parse(event.time) : Number.NaN;
  const time = Number.isFinite(parsed) ? parsed : clock();
  return Math.floor(time / MINUTE_MS) * MINUTE_MS;
}

export async function evaluateSlot(deps: EvaluatorDeps, event?: EvaluateEvent): Promise<EvaluationReport> {
  const log = deps.log ?? SILENT_LOG;
  const now = evaluationTime(event, deps.clock ?? Date.now);
  const outcomes = await mapLimit(deps.models, deps.concurrency ?? 8, async (model) => {
    try {
      return await evaluateModel(deps, model, now);
    } catch (error) {
      log.error("model evaluation failed", { modelId: model.id, error: error as Error });
      return {
        modelId: model.id,
        action: "none" as const,
        severity: "info" as const,
        reused: false,
        notified: false,
        headline: "evaluation failed",
        error: (error as Error).message,
      };
    }
  });
  const report = { evaluatedAt: new Date(now).toISOString(), models: outcomes };
  log.info("evaluation finished", {
    evaluatedAt: report.evaluatedAt,
    models: outcomes.length,
    retrains: outcomes.filter((m) => m.action === "retrain").length,
    failed: outcomes.filter((m) => m.error !== undefined).length,
  });
  return report;
}
