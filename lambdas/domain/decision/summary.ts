/**
 * The human-readable explanation of a decision: the SNS message body and the summary in the decision
 * record, generated from the verdicts so that what is said is exactly what was decided.
 */
import type { TriggerPolicy } from "../../../contracts/policy";
import type { Decision } from "./decision";
import { topDrifted } from "./signals/drift";
import { fmt } from "./verdict";

/** Builds the human-readable explanation of a decision. */
export function summarize(d: Omit<Decision, "summary">, policy: TriggerPolicy): string {
  const featureVerdicts = d.signals.filter((s) => s.signal.startsWith("featureDrift:"));
  const iso = (ms: number) => new Date(ms).toISOString();
  const get = (name: string) => d.signals.find((s) => s.signal === name);
  const lines: string[] = [];
  const headline =
    d.action === "retrain"
      ? "RETRAIN: retraining started"
      : d.action === "alert"
        ? d.ruleSatisfied
          ? "ALERT: retrain warranted but suppressed"
          : "ALERT: signals breached, no retrain warranted by the rule"
        : "OK: no action";
  lines.push(`[${d.severity}] model ${d.modelId}: ${headline}`);
  lines.push(`Window ${iso(d.window.from)} .. ${iso(d.window.to)}; baseline ${d.baselineVersion ?? "none"}.`);
  lines.push(`Rule: ${d.rule.explanation} -> ${d.ruleSatisfied ? "holds" : "does not hold"}.`);
  if (d.rule.contributions.length > 0)
    lines.push(
      `Contributions: ${d.rule.contributions.map((c) => `${c.signal} ${fmt(c.contribution)}`).join(", ")}.`,
    );
  for (const name of ["performance", "estimatedPerformance"]) {
    const v = get(name);
    if (v) lines.push(`${v.message}.`);
  }
  const drift = get("drift");
  if (drift) lines.push(`${drift.message}.`);
  const top = topDrifted(
    featureVerdicts.filter((v) => v.breached),
    policy.alerting.topFeatures,
  );
  if (top.length > 0) lines.push(`Top drifted features: ${top.join("; ")}.`);
  for (const name of ["predictionDrift", "dataQuality", "labelVolume", "modelAge", "schedule"]) {
    const v = get(name);
    if (v && (v.breached || v.skipped === undefined)) lines.push(`${v.message}.`);
  }
  if (d.suppressions.length > 0)
    lines.push(`Retrain not started: ${d.suppressions.map((s) => `${s.reason}: ${s.message}`).join("; ")}.`);
  else if (d.action === "retrain")
    lines.push("Retrain started: rule held and no stability control objected.");
  return lines.join("\n");
}
