/**
 * Publishes a decision: its headline metrics (one value per metric, dimension `modelId`) and, when its
 * severity reaches the policy's `alerting.minSeverity`, the alert on SNS (marked as sent, so a retried
 * slot does not send it twice).
 */

import { SEVERITIES, type Severity, type TriggerPolicy } from "../../../contracts/policy";
import { METRIC_NAMES } from "../../../contracts/telemetry";
import type { Decision } from "../../domain/decision/decision";
import type { Telemetry } from "../../ports/telemetry";
import type { EvaluatorDeps } from "./evaluator";

const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

/** The decision's headline metrics. */
export function emitDecisionMetrics(telemetry: Telemetry, decision: Decision): void {
  const dims = { modelId: decision.modelId };
  const value = (name: string, v: number | null) => {
    if (v !== null && Number.isFinite(v)) telemetry.value(name, v, dims);
  };
  const dataQuality = decision.signals.find((s) => s.signal === "dataQuality");
  telemetry.count(METRIC_NAMES.evaluations, 1, dims);
  value(METRIC_NAMES.driftScore, decision.metrics.driftedShare);
  value(METRIC_NAMES.performance, decision.metrics.realizedMetric);
  value(METRIC_NAMES.estimatedPerformance, decision.metrics.estimatedMetric);
  telemetry.count(METRIC_NAMES.retrainDecisions, decision.action === "retrain" ? 1 : 0, dims);
  telemetry.count(
    METRIC_NAMES.retrainsSuppressed,
    decision.ruleSatisfied && decision.action !== "retrain" ? 1 : 0,
    dims,
  );
  telemetry.count(METRIC_NAMES.dataQualityBreaches, dataQuality?.breached ? 1 : 0, dims);
}

/** Sends the alert of a decision if its severity calls for one; returns whether it was sent. */
export async function notifyDecision(
  deps: Pick<EvaluatorDeps, "notifier" | "state">,
  policy: TriggerPolicy,
  decision: Decision,
  executionName: string | undefined,
): Promise<boolean> {
  if (
    decision.action === "none" ||
    severityRank(decision.severity) < severityRank(policy.alerting.minSeverity)
  )
    return false;
  const first = decision.summary.split("\n")[0] ?? decision.action;
  await deps.notifier.publish({
    subject: first,
    message: executionName ? `${decision.summary}\nWorkflow execution: ${executionName}` : decision.summary,
    severity: decision.severity,
    modelId: decision.modelId,
    attributes: { action: decision.action },
  });
  await deps.state.markNotified(decision.modelId, decision.evaluatedAt);
  return true;
}
