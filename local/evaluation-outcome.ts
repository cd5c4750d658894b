/**
 * The parts of the local control plane that import no Lambda handler (and so none of Powertools' tracer,
 * whose X-Ray context tracking hooks every promise): what the replay's in-memory engine shares with the
 * emulator path. local/control-plane.ts re-exports them.
 */
import type { Decision } from "../lambdas/domain/decision/decision";
import type { WorkflowStart, WorkflowStarter, WorkflowStartResult } from "../lambdas/ports/workflow-starter";

/** LOCAL STAND-IN for StartExecution: queues the run; the caller drains the queue with a runner. */
export class QueueingWorkflowStarter implements WorkflowStarter {
  readonly queue: WorkflowStart[] = [];
  private readonly names = new Set<string>();
  async start(request: WorkflowStart): Promise<WorkflowStartResult> {
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:local-retraining:${request.name}`;
    if (this.names.has(request.name)) return { executionArn, alreadyStarted: true };
    this.names.add(request.name);
    this.queue.push(request);
    return { executionArn, alreadyStarted: false };
  }
}

/** What one evaluation of one model yielded, flattened for the report, tests and replay output. */
export interface EvaluationOutcome {
  readonly modelId: string;
  readonly evaluatedAt: number;
  readonly action: "none" | "alert" | "retrain";
  /** One line of why: breached signals and suppressions. */
  readonly reason: string;
  readonly realized: number | null;
  readonly estimated: number | null;
  /** Per-feature drift value of the policy's method. */
  readonly featureDrift: Readonly<Record<string, number | null>>;
  readonly driftMetric: string;
  /** The JSON line replay writes (and local mode writes to decisions.jsonl). */
  readonly line: Readonly<Record<string, unknown>>;
}

/** Flattens a stored decision. */
export function outcomeOf(decision: Decision, driftMetric: string): EvaluationOutcome {
  const breached = decision.signals.filter((s) => s.breached && !s.signal.includes(":")).map((s) => s.signal);
  const suppressed = decision.suppressions.map((s) => s.reason);
  const reason = [
    breached.length ? `breached: ${breached.join(", ")}` : "",
    suppressed.length ? `suppressed: ${suppressed.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join("; ");
  const featureDrift: Record<string, number | null> = {};
  for (const s of decision.signals)
    if (s.signal.startsWith("featureDrift:")) featureDrift[s.signal.slice(13)] = s.value;
  return {
    modelId: decision.modelId,
    evaluatedAt: decision.evaluatedAt,
    action: decision.action,
    reason: reason || decision.summary.split("\n")[0] || "",
    realized: decision.metrics.realizedMetric,
    estimated: decision.metrics.estimatedMetric,
    featureDrift,
    driftMetric,
    line: {
      time: new Date(decision.evaluatedAt).toISOString(),
      model: decision.modelId,
      action: decision.action,
      severity: decision.severity,
      ruleSatisfied: decision.ruleSatisfied,
      window: {
        from: new Date(decision.window.from).toISOString(),
        to: new Date(decision.window.to).toISOString(),
      },
      baselineVersion: decision.baselineVersion,
      signals: decision.signals.map((s) => ({
        signal: s.signal,
        value: s.value,
        threshold: s.threshold,
        breached: s.breached,
        ...(s.skipped ? { skipped: s.skipped } : {}),
      })),
      suppressions: decision.suppressions,
      summary: decision.summary,
    },
  };
}
