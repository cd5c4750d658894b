/**
 * The judgement core: given a model's trigger policy, the merged profile of the evaluation window,
 * its baseline, the recent decisions and the model's trigger state, decide whether to do nothing,
 * alert, or retrain, and say why. Pure: the clock, the data and the policy are arguments, so the same
 * window always gives the same decision (which is what makes the evaluator idempotent under retries)
 * and every scenario can be replayed on a simulated clock.
 *
 * A short pipeline over the signal pack (./signals/index.ts):
 * 1. every signal measures its verdict on one shared context (value, threshold, breached, evidence);
 * 2. the rule tree decides whether the signals call for a retrain;
 * 3. stability controls may suppress that retrain (data-quality gate, an active run, cooldown, budget,
 *    persistence), each suppression recorded with its reason;
 * 4. action: retrain if the rule held and nothing suppressed it; alert if any signal breached or a
 *    retrain was suppressed; none otherwise.
 */
import type { Severity, TriggerPolicy } from "../../../contracts/policy";
import type { Action, Decision, DecisionInputs, DecisionMetrics } from "./decision";
import { evaluateRule, type RuleResult } from "./rules";
import { SignalContext } from "./signals/context";
import { SIGNAL_PACK } from "./signals/index";
import type { Measurement } from "./signals/signal";
import { budgetCheck, cooldownCheck, persistenceCheck, type Suppression } from "./stability";
import { summarize } from "./summary";
import type { Verdict } from "./verdict";

/** Stability controls that may hold back a retrain the rule calls for, each with its reason. */
function stabilitySuppressions(
  policy: TriggerPolicy,
  inputs: DecisionInputs,
  dataQuality: Verdict,
  dataBroken: boolean,
  dueByCalendar: boolean,
): Suppression[] {
  const { state, now } = inputs;
  const suppressions: Suppression[] = [];
  if (policy.stability.dataQualityGate && dataBroken)
    suppressions.push({
      reason: "dataQualityGate",
      message: `data quality breached, not retraining on broken data: ${dataQuality.message}`,
    });
  if (state.runActive)
    suppressions.push({ reason: "runActive", message: "a retraining run is already active for this model" });
  const cooldown = cooldownCheck(
    policy.stability.cooldownHours,
    state.lastRetrainAt,
    state.lastDeployAt,
    now,
  );
  if (cooldown) suppressions.push(cooldown);
  const budget = budgetCheck(policy.stability.budget, state.retrainStarts, now);
  if (budget) suppressions.push(budget);
  if (!dueByCalendar) {
    const persistence = persistenceCheck(policy.stability.persistence, true, inputs.history, now);
    if (persistence.suppression) suppressions.push(persistence.suppression);
  }
  return suppressions;
}

/** Decides for one model and evaluation time. Pure. */
export function decide(policy: TriggerPolicy, inputs: DecisionInputs): Decision {
  const context = new SignalContext(policy, inputs);
  const measured = SIGNAL_PACK.map((signal) => ({ signal, measurement: signal.measure(context) }));
  const bySignal = new Map<string, Verdict>(measured.map((m) => [m.signal.name, m.measurement.verdict]));

  const rule: RuleResult = evaluateRule(policy.rule, bySignal);
  // A rule that holds on calendar and counter facts alone needs no persistence.
  const factsOnly = new Map<string, Verdict>(
    measured.map(({ signal, measurement }) => [
      signal.name,
      signal.deterministic ? measurement.verdict : { ...measurement.verdict, breached: false, strength: 0 },
    ]),
  );
  const dueByCalendar = evaluateRule(policy.rule, factsOnly).satisfied;
  const dataQuality = bySignal.get("dataQuality")!;
  const dataBroken = measured.some((m) => m.measurement.blocksRetraining === true);
  const suppressions = rule.satisfied
    ? stabilitySuppressions(policy, inputs, dataQuality, dataBroken, dueByCalendar)
    : [];

  const topLevel = measured.map((m) => m.measurement.verdict);
  const allVerdicts = [...topLevel, ...measured.flatMap((m) => m.measurement.details ?? [])];
  const anyBreach = allVerdicts.some((v) => v.breached);
  const action: Action =
    rule.satisfied && suppressions.length === 0 ? "retrain" : anyBreach || rule.satisfied ? "alert" : "none";
  const severity: Severity = action === "retrain" ? "retrain" : action === "alert" ? "warn" : "info";

  const values: Record<string, number | null> = {};
  for (const m of measured) values[m.signal.name] = m.measurement.verdict.value;
  for (const m of measured) Object.assign(values, m.measurement.values);
  const reported: Partial<DecisionMetrics> = Object.assign(
    {},
    ...measured.map((m: { measurement: Measurement }) => m.measurement.metrics ?? {}),
  );
  const metrics: DecisionMetrics = {
    driftedShare: reported.driftedShare ?? null,
    driftScore: reported.driftScore ?? null,
    realizedMetric: reported.realizedMetric ?? null,
    estimatedMetric: reported.estimatedMetric ?? null,
    eventsPerHour: context.window.profile.count / policy.windowHours,
    labelled: reported.labelled ?? 0,
  };
  const partial = {
    modelId: inputs.modelId,
    evaluatedAt: inputs.now,
    window: { from: context.window.from, to: context.window.to },
    baselineVersion: inputs.baseline?.version ?? null,
    action,
    severity,
    ruleSatisfied: rule.satisfied,
    rule,
    signals: allVerdicts,
    suppressions,
    metrics,
    values,
  };
  return { ...partial, summary: summarize(partial, policy) };
}

/**
 * The same decision with a retrain turned into an alert because of `suppression` (e.g. the lease
 * was taken by a concurrent run between reading the state and starting the workflow).
 */
export function suppressRetrain(d: Decision, suppression: Suppression, policy: TriggerPolicy): Decision {
  const partial = {
    ...d,
    action: "alert" as const,
    severity: "warn" as const,
    suppressions: [...d.suppressions, suppression],
  };
  return { ...partial, summary: summarize(partial, policy) };
}
