/**
 * Data-quality verdicts. A breach here means the pipeline or an upstream system is broken, not that
 * the world changed: the decision alerts and (with the data-quality gate) refuses to retrain, because
 * a model trained on broken data learns the breakage.
 */
import * as ss from "simple-statistics";
import type { DataQualitySignalConfig } from "../../../../contracts/policy";
import { HOUR_MS } from "../../../../contracts/time";
import { rateIncreaseNoiseFloor } from "../../stats/noise";
import type { FeatureSummary } from "../../stats/profile";
import { missingRate } from "../../stats/profile";
import { RECENT_VOLUME_HOURS } from "../decision";
import type { HistoryEntry } from "../stability";
import { compare, fmt, skipped, type Verdict } from "../verdict";
import type { MergedWindow } from "../window";
import type { Signal } from "./signal";

export interface MissingRateInput {
  readonly feature: string;
  readonly baselineRate: number;
  /** Values (missing + present) the baseline rate rests on. */
  readonly baselineTotal?: number;
  readonly currentRate: number;
  /** Events in the judged sub-window (missing + present). */
  readonly currentTotal: number;
  /** The sub-window judged, for the message. */
  readonly window?: { readonly from: number; readonly to: number };
  /** Significance of the noise floor (already corrected for the number of checks). */
  readonly alpha?: number;
}

const hourText = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");

/**
 * Per-feature missing-rate increase versus the baseline, breaching only above both the threshold and
 * the sampling noise of a rate increase at these sizes.
 */
export function missingRateVerdict(config: DataQualitySignalConfig, input: MissingRateInput): Verdict {
  const signal = `missingRate:${input.feature}`;
  if (!config.enabled) return skipped(signal, "disabled");
  if (input.currentTotal < config.minEvents)
    return skipped(signal, `${input.currentTotal} events < minimum ${config.minEvents}`);
  const increase = input.currentRate - input.baselineRate;
  const floor =
    input.alpha === undefined
      ? 0
      : rateIncreaseNoiseFloor(
          input.baselineRate,
          input.baselineTotal ?? input.currentTotal,
          input.currentTotal,
          input.alpha,
        );
  const v = compare({
    signal,
    value: increase,
    threshold: Math.max(config.maxMissingRateIncrease, floor),
    direction: "above",
    neutral: 0,
    label: `${input.feature} missing-rate increase`,
    evidence: {
      baselineRate: input.baselineRate,
      currentRate: input.currentRate,
      n: input.currentTotal,
      threshold: config.maxMissingRateIncrease,
      noiseFloor: floor,
      ...(input.window
        ? { from: new Date(input.window.from).toISOString(), to: new Date(input.window.to).toISOString() }
        : {}),
    },
  });
  const when = input.window ? ` in ${hourText(input.window.from)} .. ${hourText(input.window.to)}` : "";
  const sizes = `n=${input.baselineTotal ?? input.currentTotal}/${input.currentTotal}`;
  const noise =
    input.alpha === undefined
      ? ""
      : floor > config.maxMissingRateIncrease
        ? `; judged against sampling noise: at ${sizes} chance alone raises the rate by up to ${fmt(floor)}, above the threshold ${fmt(config.maxMissingRateIncrease)}`
        : `; sampling noise at ${sizes} reaches ${fmt(floor)}`;
  return {
    ...v,
    message: `${v.message} (missing ${fmt(input.currentRate * 100)} % of ${input.currentTotal}${when} vs baseline ${fmt(input.baselineRate * 100)} %${noise})`,
  };
}

/** Share of received records that were quarantined (invalid payloads, unknown models, bad values). */
export function quarantineRateVerdict(
  config: DataQualitySignalConfig,
  received: number,
  quarantined: Readonly<Record<string, number>>,
  window?: { readonly from: number; readonly to: number },
): Verdict {
  if (!config.enabled) return skipped("quarantineRate", "disabled");
  const bad = Object.values(quarantined).reduce((a, b) => a + b, 0);
  const total = Math.max(received, bad);
  if (total < config.minEvents)
    return skipped("quarantineRate", `${total} records < minimum ${config.minEvents}`);
  const verdict = compare({
    signal: "quarantineRate",
    value: bad / total,
    threshold: config.maxQuarantineRate,
    direction: "above",
    neutral: 0,
    label: "quarantine rate",
    evidence: { received, quarantined: { ...quarantined } },
  });
  return window === undefined
    ? verdict
    : {
        ...verdict,
        message: `${verdict.message} (${bad} of ${total} in ${hourText(window.from)} .. ${hourText(window.to)})`,
      };
}

/**
 * Event-volume collapse: events per hour in the window versus a reference rate, breaching below
 * `minVolumeRatio`. The reference is the median rate of the evaluations of the last 7 days once they span
 * a day (so a lasting change of traffic alerts until it is half of that week, about 3.5 days, and then
 * becomes the new normal), else the baseline's rate.
 */
export function volumeVerdict(
  config: DataQualitySignalConfig,
  currentPerHour: number,
  baselinePerHour: number | undefined,
  recentMedianPerHour: number | undefined,
  thresholdOverride?: number,
): Verdict {
  if (!config.enabled) return skipped("volume", "disabled", {}, "below");
  const usable = (r: number | undefined): r is number => r !== undefined && Number.isFinite(r) && r > 0;
  const reference = usable(recentMedianPerHour)
    ? recentMedianPerHour
    : usable(baselinePerHour)
      ? baselinePerHour
      : undefined;
  if (reference === undefined) return skipped("volume", "no reference rate", {}, "below");
  // A quiet model is not a broken one: only judge when the reference itself is meaningful.
  if (reference * 24 < config.minEvents)
    return skipped("volume", `reference volume below ${config.minEvents} events/day`, {}, "below");
  const ratio = currentPerHour / reference;
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
      reference: reference === recentMedianPerHour ? "median of the last 7 days" : "baseline",
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

/** The check that stands out most above its own threshold (a breach if any sub-window breached). */
function worst(verdicts: readonly Verdict[]): Verdict | undefined {
  const margin = (v: Verdict) =>
    v.skipped !== undefined || v.value === null || v.threshold === null
      ? Number.NEGATIVE_INFINITY
      : v.value - v.threshold;
  let best: Verdict | undefined;
  for (const v of verdicts) if (best === undefined || margin(v) > margin(best)) best = v;
  return best;
}

/** Hours the data-quality gate has been breached without interruption before `now` (0 if it was not). */
function sustainedHours(history: readonly HistoryEntry[], now: number): number {
  const previous = history.filter((h) => h.evaluatedAt < now).sort((a, b) => b.evaluatedAt - a.evaluatedAt);
  let since: number | undefined;
  for (const entry of previous) {
    if ((entry.values.dataQualityGating ?? 0) > 0) since = entry.evaluatedAt;
    else break;
  }
  return since === undefined ? 0 : (now - since) / HOUR_MS;
}

/**
 * `dataQuality`: broken data, judged on every sub-window of `windowHours` since the previous evaluation
 * (so an outage between two evaluations is seen, whatever the schedule; widened at low volume until it
 * holds `minEvents` predictions): the missing rate of every
 * feature the model uses (importance > 0) and the quarantine rate, each above its threshold and its
 * sampling noise; plus the event volume over the evaluation window. Missing values and quarantined
 * records block retraining (the data-quality gate); a volume collapse only alerts. A breach that has
 * lasted `maxGateHours` stops blocking and escalates: the baseline may be outdated.
 */
export const dataQualitySignal: Signal = {
  name: "dataQuality",
  deterministic: false,
  measure(context) {
    const config = context.policy.signals.dataQuality;
    const { baseline, now, history } = context.inputs;
    const previous = Math.max(
      now - context.policy.windowHours * HOUR_MS,
      ...history.filter((h) => h.evaluatedAt < now).map((h) => h.evaluatedAt),
    );
    const stepMs = config.windowHours * HOUR_MS;
    // At low volume a sub-window widens, step by step, until it holds `minEvents` predictions (at most back
    // to the start of the evaluation window), so a quiet model is judged on fewer, larger windows instead
    // of never: at 160 predictions a day, 1-hour windows of ~7 events would all be skipped.
    const floor = now - context.policy.windowHours * HOUR_MS;
    const windows: MergedWindow[] = [];
    for (let end = now; end > previous; ) {
      // Widened on bucket counts, merged once (merging at every step was quadratic at very low volume).
      let start = Math.max(previous, end - stepMs);
      while (context.rangeCount(start, end) < config.minEvents && start > floor)
        start = Math.max(floor, start - stepMs);
      windows.push(context.rangeWindow(start, end));
      end = start;
    }
    const used = context.inputs.features.filter((f) => (context.importance[f.name] ?? 1) > 0);
    const checks = Math.max(1, windows.length * (used.length + 1));
    const alpha = config.alpha / checks;
    const missingChecks: Verdict[] = [];
    if (baseline !== undefined) {
      for (const feature of used) {
        const reference: FeatureSummary | undefined = baseline.profile.features[feature.name];
        if (reference === undefined) continue;
        const perWindow = windows.flatMap((window) => {
          const current: FeatureSummary | undefined = window.profile.features[feature.name];
          if (current === undefined) return [];
          return [
            missingRateVerdict(config, {
              feature: feature.name,
              baselineRate: missingRate(reference),
              baselineTotal: reference.count + reference.missing,
              currentRate: missingRate(current),
              currentTotal: current.count + current.missing,
              window: { from: window.from, to: window.to },
              alpha,
            }),
          ];
        });
        const chosen = worst(perWindow);
        if (chosen !== undefined) missingChecks.push(chosen);
      }
    }
    const quarantine =
      worst(
        windows.map((w) =>
          quarantineRateVerdict(config, w.received, w.quarantined, { from: w.from, to: w.to }),
        ),
      ) ?? quarantineRateVerdict(config, 0, {});
    const eventsPerHour = context.window.profile.count / context.policy.windowHours;
    const baselinePerHour =
      baseline?.hours !== undefined && baseline.hours > 0
        ? baseline.profile.count / baseline.hours
        : undefined;
    const recent = history.filter(
      (h) =>
        h.evaluatedAt < now &&
        h.evaluatedAt >= now - RECENT_VOLUME_HOURS * HOUR_MS &&
        typeof h.values.eventsPerHour === "number" &&
        Number.isFinite(h.values.eventsPerHour),
    );
    // The recent median is a reference only once the history spans a day (a full daily cycle).
    const spansADay = recent.some((h) => h.evaluatedAt <= now - 24 * HOUR_MS);
    const volume = volumeVerdict(
      config,
      eventsPerHour,
      baselinePerHour,
      spansADay ? median(recent.map((h) => h.values.eventsPerHour as number)) : undefined,
      context.adaptiveThreshold("volume", config.minVolumeRatio, "below"),
    );
    const gating = [...missingChecks, quarantine].filter((v) => v.breached);
    const sustained = gating.length > 0 ? sustainedHours(history, now) : 0;
    const escalated = sustained >= config.maxGateHours;
    let verdict = config.enabled
      ? dataQualityVerdict([...missingChecks, quarantine, volume])
      : { ...dataQualityVerdict([]), skipped: "disabled", message: "dataQuality: not evaluated (disabled)" };
    if (escalated)
      verdict = {
        ...verdict,
        message: `${verdict.message}; breached for ${fmt(sustained)} h (at least ${fmt(config.maxGateHours)} h): the data may have changed for good and the baseline be outdated, or the pipeline needs fixing. No longer blocking retraining. Once the new data is right, re-baseline: npm run cli -- rebaseline --config <configuration> --model ${context.inputs.modelId} --table <StateTableName>`,
        evidence: { ...verdict.evidence, sustainedHours: sustained, escalated: true },
      };
    return {
      verdict,
      details: [...missingChecks, quarantine, volume],
      values: { volume: volume.value, eventsPerHour, dataQualityGating: config.enabled ? gating.length : 0 },
      metrics: { eventsPerHour },
      blocksRetraining: config.enabled && gating.length > 0 && !escalated,
    };
  },
};
