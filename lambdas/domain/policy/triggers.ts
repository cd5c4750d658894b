/**
 * Triggers that do not look at the data distribution: enough new labels since the champion was
 * trained, the champion's age, and a calendar schedule.
 */
import { Cron } from "croner";
import type { LabelVolumeSignalConfig, ModelAgeSignalConfig } from "../../../contracts/policy";
import { compare, fmt, skipped, type Verdict } from "./verdict";

const DAY_MS = 86_400_000;

/** New labelled pairs since the champion's training reached the configured volume. */
export function labelVolumeVerdict(config: LabelVolumeSignalConfig, labelsSinceTraining: number): Verdict {
  if (!config.enabled) return skipped("labelVolume", "disabled");
  const v = compare({
    signal: "labelVolume",
    value: labelsSinceTraining,
    threshold: config.minNewLabels,
    direction: "above",
    neutral: 0,
    label: "new labels since training",
    evidence: { labelsSinceTraining },
  });
  // "reached" rather than "exceeded": a volume equal to the target is due.
  const breached = labelsSinceTraining >= config.minNewLabels;
  return breached === v.breached ? v : { ...v, breached, strength: 1, message: `${v.message} (breached)` };
}

/** The champion is older than `maxAgeDays`. */
export function modelAgeVerdict(
  config: ModelAgeSignalConfig,
  championTrainedAt: number | undefined,
  now: number,
): Verdict {
  if (!config.enabled) return skipped("modelAge", "disabled");
  if (championTrainedAt === undefined) return skipped("modelAge", "champion training time unknown");
  const ageDays = (now - championTrainedAt) / DAY_MS;
  return compare({
    signal: "modelAge",
    value: ageDays,
    threshold: config.maxAgeDays,
    direction: "above",
    neutral: 0,
    label: "model age (days)",
    evidence: { championTrainedAt: new Date(championTrainedAt).toISOString() },
  });
}

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
  const overdueHours = (now - dueAt) / 3_600_000;
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
