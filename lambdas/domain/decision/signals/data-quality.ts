/**
 * Data-quality verdicts. A breach here means the pipeline or an upstream system is broken, not that
 * the world changed: the decision alerts and (with the data-quality gate) refuses to retrain, because
 * a model trained on broken data learns the breakage.
 */
import * as ss from "simple-statistics";
import type { DataQualitySignalConfig } from "../../../../contracts/policy";
import { HOUR_MS } from "../../../../contracts/time";
import type { FeatureSummary } from "../../stats/profile";
import { missingRate } from "../../stats/profile";
import { RECENT_VOLUME_HOURS } from "../decision";
import { compare, fmt, skipped, type Verdict } from "../verdict";
import type { Signal } from "./signal";

export interface MissingRateInput {
  readonly feature: string;
  readonly baselineRate: number;
  readonly currentRate: number;
  /** Events in the quality window (missing + present). */
  readonly currentTotal: number;
}

/** Per-feature missing-rate increase versus the baseline. */
export function missingRateVerdict(config: DataQualitySignalConfig, input: MissingRateInput): Verdict {
  const signal = `missingRate:${input.feature}`;
  if (!config.enabled) return skipped(signal, "disabled");
  if (input.currentTotal < config.minEvents)
    return skipped(signal, `${input.currentTotal} events < minimum ${config.minEvents}`);
  const increase = input.currentRate - input.baselineRate;
  const v = compare({
    signal,
    value: increase,
    threshold: config.maxMissingRateIncrease,
    direction: "above",
    neutral: 0,
    label: `${input.feature} missing-rate increase`,
    evidence: { baselineRate: input.baselineRate, currentRate: input.currentRate, n: input.currentTotal },
  });
  return {
    ...v,
    message: `${v.message} (missing ${fmt(input.currentRate * 100)} % vs baseline ${fmt(input.baselineRate * 100)} %)`,
  };
}

/** Share of received records that were quarantined (invalid payloads, unknown models, bad values). */
export function quarantineRateVerdict(
  config: DataQualitySignalConfig,
  received: number,
  quarantined: Readonly<Record<string, number>>,
): Verdict {
  if (!config.enabled) return skipped("quarantineRate", "disabled");
  const bad = Object.values(quarantined).reduce((a, b) => a + b, 0);
  const total = Math.max(received, bad);
  if (total < config.minEvents)
    return skipped("quarantineRate", `${total} records < minimum ${config.minEvents}`);
  return compare({
    signal: "quarantineRate",
    value: bad / total,
    threshold: config.maxQuarantineRate,
    direction: "above",
    neutral: 0,
    label: "quarantine rate",
    evidence: { received, quarantined: { ...quarantined } },
  });
}

/**
 * Event-volume collapse: events per hour in the window versus the baseline's rate and the median of
 * recent windows. Value = the smaller ratio; breaches below `minVolumeRatio`.
 */
export function volumeVerdict(
  config: DataQualitySignalConfig,
  currentPerHour: number,
  baselinePerHour: number | undefined,
  recentMedianPerHour: number | undefined,
  thresholdOverride?: number,
): Verdict {
  if (!config.enabled) return skipped("volume", "disabled", {}, "below");
  const refs = [baselinePerHour, recentMedianPerHour].filter(
    (r): r is number => r !== undefined && Number.isFinite(r) && r > 0,
  );
  if (refs.length === 0) return skipped("volume", "no reference rate", {}, "below");
  // A quiet model is not a broken one: only judge when the reference itself is meaningful.
  const reference = Math.max(...refs);
  if (reference * 24 < config.minEvents)
    return skipped("volume", `reference volume below ${config.minEvents} events/day`, {}, "below");
  const ratio = Math.min(...refs.map((r) => currentPerHour / r));
  return compare({
    signal: "volume",
    value: ratio,
    threshold: thresholdOverride ?? config.minVolumeRatio,
    direction: "below",
    neutral: 1,
    label: "volume ratio (events/h vs reference)",
    evidence: {
      currentPerHour,
      baselinePerHour: baselinePerHour ?? null,
      recentMedianPerHour: recentMedianPerHour ?? null,
    },
  });
}

/** Roll-up `dataQuality` signal: breached when any check breached. */
export function dataQualityVerdict(checks: readonly Verdict[]): Verdict {
  const judged = checks.filter((c) => c.skipped === undefined);
  if (judged.length === 0) return skipped("dataQuality", "no data-quality check could be judged");
  const breached = judged.filter((c) => c.breached);
  return {
    signal: "dataQuality",
    value: breached.length,
    threshold: 0,
    direction: "above",
    breached: breached.length > 0,
    strength: breached.length > 0 ? 1 : Math.max(...judged.map((c) => c.strength)),
    message:
      breached.length > 0
        ? `data quality: ${breached.map((c) => c.message).join("; ")}`
        : `data quality ok (${judged.length} checks)`,
    evidence: { breached: breached.map((c) => c.signal), judged: judged.length },
  };
}

function median(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : ss.median([...values]);
}

/**
 * `dataQuality`: missing rates per feature and the quarantine rate over the recent data-quality window,
 * and the event volume over the main window; breached when any check breaches.
 */
export const dataQualitySignal: Signal = {
  name: "dataQuality",
  deterministic: false,
  measure(context) {
    const config = context.policy.signals.dataQuality;
    const { baseline, now, history } = context.inputs;
    const quality = context.recentWindow(config.windowHours);
    const missingChecks: Verdict[] = [];
    if (baseline !== undefined) {
      for (const feature of context.inputs.features) {
        const current: FeatureSummary | undefined = quality.profile.features[feature.name];
        const reference: FeatureSummary | undefined = baseline.profile.features[feature.name];
        if (current === undefined || reference === undefined) continue;
        missingChecks.push(
          missingRateVerdict(config, {
            feature: feature.name,
            baselineRate: missingRate(reference),
            currentRate: missingRate(current),
            currentTotal: current.count + current.missing,
          }),
        );
      }
    }
    const quarantine = quarantineRateVerdict(config, quality.received, quality.quarantined);
    const eventsPerHour = context.window.profile.count / context.policy.windowHours;
    const baselinePerHour =
      baseline?.hours !== undefined && baseline.hours > 0
        ? baseline.profile.count / baseline.hours
        : undefined;
    const recentRates = history
      .filter((h) => h.evaluatedAt < now && h.evaluatedAt >= now - RECENT_VOLUME_HOURS * HOUR_MS)
      .map((h) => h.values.eventsPerHour)
      .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    const volume = volumeVerdict(
      config,
      eventsPerHour,
      baselinePerHour,
      median(recentRates),
      context.adaptiveThreshold("volume", config.minVolumeRatio, "below"),
    );
    const verdict = config.enabled
      ? dataQualityVerdict([...missingChecks, quarantine, volume])
      : { ...dataQualityVerdict([]), skipped: "disabled", message: "dataQuality: not evaluated (disabled)" };
    return {
      verdict,
      details: [...missingChecks, quarantine, volume],
      values: { volume: volume.value, eventsPerHour },
      metrics: { eventsPerHour },
    };
  },
};
