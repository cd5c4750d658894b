/** `schedule`: a cron occurrence passed since the champion was trained or the last retrain started. */
import { Cron } from "croner";
import type { ModelAgeSignalConfig } from "../../../../contracts/policy";
import { HOUR_MS } from "../../../../contracts/time";
import { fmt, skipped, type Verdict } from "../verdict";
import type { Signal } from "./signal";

/**
 * The cron schedule has an occurrence after `since` (the later of the champion's training and the
 * last retrain start) and not after `now`: a scheduled retrain is due. Value = hours overdue.
 */
export function scheduleVerdict(
  config: ModelAgeSignalConfig,
  since: number | undefined,
  now: number,
): Verdict {
  if (!config.enabled || config.schedule === undefined) return skipped("schedule", "no schedule configured");
  if (since === undefined) return skipped("schedule", "no training or retrain time to count from");
  const cron = new Cron(config.schedule, { timezone: config.timezone, paused: true });
  const next = cron.nextRun(new Date(since));
  const evidence = {
    schedule: config.schedule,
    timezone: config.timezone,
    since: new Date(since).toISOString(),
  };
  if (next === null) return skipped("schedule", "schedule has no future occurrence", evidence);
  const dueAt = next.getTime();
  const breached = dueAt <= now;
  const overdueHours = (now - dueAt) / HOUR_MS;
  return {
    signal: "schedule",
    value: overdueHours,
    threshold: 0,
    direction: "above",
    breached,
    strength: breached ? 1 : 0,
    message: breached
      ? `scheduled retrain due since ${next.toISOString()} (${fmt(overdueHours)} h) (breached)`
      : `next scheduled retrain ${next.toISOString()}`,
    evidence: { ...evidence, dueAt: next.toISOString() },
  };
}

export const scheduleSignal: Signal = {
  name: "schedule",
  deterministic: true,
  measure(context) {
    const state = context.inputs.state;
    const since =
      state.championTrainedAt === undefined && state.lastRetrainAt === undefined
        ? undefined
        : Math.max(state.championTrainedAt ?? 0, state.lastRetrainAt ?? 0);
    return { verdict: scheduleVerdict(context.policy.signals.modelAge, since, context.inputs.now) };
  },
};
