/**
 * Stability controls: what keeps a trigger from firing on noise (persistence, adaptive limits) or in
 * a loop (cooldown, budget). Each check is a pure function of the policy, the decision history and
 * the clock, returning a suppression when it blocks a retrain.
 */

import * as ss from "simple-statistics";
import type { AdaptiveThresholdConfig, StabilityConfig } from "../../../contracts/policy";
import { HOUR_MS } from "../../../contracts/time";
import type { Direction } from "./verdict";
import { fmt } from "./verdict";

export type SuppressionReason =
  | "persistence"
  | "cooldown"
  | "budget"
  | "dataQualityGate"
  | "runActive"
  | "trainingData"
  | "noBaseline";

export interface Suppression {
  readonly reason: SuppressionReason;
  readonly message: string;
}

/** What a previous evaluation left for stability checks (a slice of its decision record). */
export interface HistoryEntry {
  readonly evaluatedAt: number;
  readonly ruleSatisfied: boolean;
  readonly action: "none" | "alert" | "retrain";
  /** Scalar value of each signal, by signal name (null when skipped). */
  readonly values: Readonly<Record<string, number | null>>;
  /** The rule held but the data-quality gate suppressed the retrain (does not count for persistence). */
  readonly gated?: boolean;
  /** Signals that breached (left out of adaptive reference periods). */
  readonly breached?: readonly string[];
}

/**
 * Persistence: the rule held in at least m of the last n evaluations, this one included. `history`
 * may be in any order; entries at or after `now` are ignored (a retry of the same window must not
 * count itself twice).
 */
export function persistenceCheck(
  config: StabilityConfig["persistence"],
  satisfiedNow: boolean,
  history: readonly HistoryEntry[],
  now: number,
): { passed: boolean; count: number; suppression?: Suppression } {
  const previous = history
    .filter((h) => h.evaluatedAt < now)
    .sort((a, b) => b.evaluatedAt - a.evaluatedAt)
    .slice(0, config.n - 1);
  // An evaluation whose rule held on data the gate judged broken is no evidence for a retrain.
  const count = (satisfiedNow ? 1 : 0) + previous.filter((h) => h.ruleSatisfied && !h.gated).length;
  const passed = satisfiedNow && count >= config.m;
  if (passed || !satisfiedNow) return { passed, count };
  return {
    passed,
    count,
    suppression: {
      reason: "persistence",
      message: `rule held in ${count} of the last ${Math.min(config.n, previous.length + 1)} evaluations; ${config.m} of ${config.n} required`,
    },
  };
}

/** Cooldown after the last retrain start or deploy. */
export function cooldownCheck(
  cooldownHours: number,
  lastRetrainAt: number | undefined,
  lastDeployAt: number | undefined,
  now: number,
): Suppression | undefined {
  const last = Math.max(lastRetrainAt ?? Number.NEGATIVE_INFINITY, lastDeployAt ?? Number.NEGATIVE_INFINITY);
  if (!Number.isFinite(last)) return undefined;
  const until = last + cooldownHours * HOUR_MS;
  if (now >= until) return undefined;
  const what = last === lastDeployAt ? "deploy" : "retrain";
  return {
    reason: "cooldown",
    message: `in cooldown after the last ${what} at ${new Date(last).toISOString()} until ${new Date(until).toISOString()}`,
  };
}

/** Retrain budget: at most maxRetrains started within any trailing periodDays. */
export function budgetCheck(
  budget: StabilityConfig["budget"],
  retrainStarts: readonly number[],
  now: number,
): Suppression | undefined {
  const from = now - budget.periodDays * 24 * HOUR_MS;
  const used = retrainStarts.filter((t) => t > from && t <= now).length;
  if (used < budget.maxRetrains) return undefined;
  return {
    reason: "budget",
    message: `retrain budget exhausted: ${used} of ${budget.maxRetrains} retrains in the last ${fmt(budget.periodDays)} days`,
  };
}

/** Hour of the week (0..167, Monday 00:00 UTC = 0) for seasonal control limits. */
export function hourOfWeek(ms: number): number {
  const d = new Date(ms);
  return ((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours();
}

export interface AdaptiveLimit {
  readonly threshold: number;
  readonly mean: number;
  readonly sd: number;
  readonly n: number;
  readonly seasonal: boolean;
  /** Start of the reference period the limit comes from (the last deployment). */
  readonly referenceFrom: number;
}

/**
 * Control limit from the signal's own values in a reference period: mean + kσ (breach above) or
 * mean − kσ (breach below) over the evaluations in [referenceFrom, referenceFrom + referenceHours),
 * leaving out those where the signal breached, optionally only at the same hour of the week.
 *
 * The period starts at the last deployment, so the limit is fixed until the next one: a slow decline
 * cannot walk it down, and history from before a deployment (another model) never counts. Undefined
 * (the static threshold applies) before the period is over, without a reference start, or with fewer
 * than minHistory values. With neverTighterThanStatic the limit is never more sensitive than the
 * static threshold.
 */
export function adaptiveLimit(
  config: AdaptiveThresholdConfig,
  signal: string,
  history: readonly HistoryEntry[],
  now: number,
  staticThreshold: number,
  direction: Direction,
  referenceFrom: number | undefined,
): AdaptiveLimit | undefined {
  if (!config.enabled || !(config.signals as readonly string[]).includes(signal)) return undefined;
  if (referenceFrom === undefined) return undefined;
  const to = referenceFrom + config.referenceHours * HOUR_MS;
  if (now < to) return undefined;
  const how = hourOfWeek(now);
  const values: number[] = [];
  for (const h of history) {
    if (h.evaluatedAt < referenceFrom || h.evaluatedAt >= to) continue;
    if (config.seasonal && hourOfWeek(h.evaluatedAt) !== how) continue;
    if (h.breached?.includes(signal)) continue;
    const v = h.values[signal];
    if (v !== null && v !== undefined && Number.isFinite(v)) values.push(v);
  }
  if (values.length < config.minHistory) return undefined;
  const mean = ss.mean(values);
  const sd = values.length >= 2 ? ss.sampleStandardDeviation(values) : 0;
  let threshold = direction === "above" ? mean + config.k * sd : mean - config.k * sd;
  if (config.neverTighterThanStatic)
    threshold =
      direction === "above" ? Math.max(threshold, staticThreshold) : Math.min(threshold, staticThreshold);
  return { threshold, mean, sd, n: values.length, seasonal: config.seasonal, referenceFrom };
}
