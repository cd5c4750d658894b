/**
 * The baseline of an evaluation: the stored one (from training), or, when none was stored, the first
 * `referenceWindowHours` of traffic after the deploy, bootstrapped once as `ref-<iso>`.
 */

import { HOUR_MS } from "../../../contracts/time";
import type { BaselineInput } from "../../domain/decision/decision";
import { mergePerformanceList } from "../../domain/stats/profile-merge";
import type { ModelState } from "../../ports/model-state-repository";
import { SILENT_LOG } from "../../ports/telemetry";
import type { EvaluatedModel, EvaluatorDeps } from "./evaluator";

export async function loadBaseline(
  deps: Pick<EvaluatorDeps, "state" | "stats" | "log">,
  model: EvaluatedModel,
  state: ModelState,
  now: number,
): Promise<BaselineInput | undefined> {
  const log = deps.log ?? SILENT_LOG;
  const policy = model.policy;
  if (state.baselineVersion !== undefined) {
    const stored = await deps.state.getBaseline(model.id, state.baselineVersion);
    if (stored) {
      const from = stored.from ?? referenceStartOf(stored.version);
      return {
        version: stored.version,
        profile: stored.profile,
        ...(stored.hours ? { hours: stored.hours } : {}),
        ...(stored.source === "reference-window" && stored.hours && from !== undefined
          ? { window: { from, to: from + stored.hours * HOUR_MS } }
          : {}),
      };
    }
    log.warn("baseline pointer without baseline item", { modelId: model.id, version: state.baselineVersion });
  }
  // No baseline from training: the first referenceWindowHours of traffic after the deploy become it.
  const hours = policy.referenceWindowHours;
  const from = state.lastDeployAt ?? now - hours * HOUR_MS;
  const to = from + hours * HOUR_MS;
  if (to > now) return undefined;
  // Only a reference that covers (nearly) the whole window: a baseline of the first hours after an
  // install would make the daily cycle look like drift, and its event rate would be wrong. Checked before
  // the window is read: until then, every evaluation would read and merge the partial window.
  const first = await deps.stats.firstBucketStart(model.id, from, to);
  if (first === undefined || first > from + 0.1 * hours * HOUR_MS) return undefined;
  const reference = await deps.stats.readWindow(model.id, from, to);
  if (reference.profile === undefined || reference.profile.count < policy.signals.drift.minSamples)
    return undefined;
  const version = `ref-${new Date(from).toISOString()}`;
  await deps.state.putBaseline(model.id, {
    version,
    profile: reference.profile,
    createdAt: now,
    source: "reference-window",
    hours,
    from,
  });
  await deps.state.setBaselineVersion(model.id, version);
  log.info("baseline bootstrapped from a reference window", { modelId: model.id, version });
  return { version, profile: reference.profile, hours, window: { from, to } };
}

/** Start of a reference window from its version name (`ref-<iso>`), for baselines stored without it. */
function referenceStartOf(version: string): number | undefined {
  const time = version.startsWith("ref-") ? Date.parse(version.slice(4)) : Number.NaN;
  return Number.isFinite(time) ? time : undefined;
}

/**
 * A reference-window baseline with its labelled outcomes as they stand now: labels for its traffic keep
 * arriving for a label horizon after it was stored.
 */
export async function withCurrentOutcomes(
  deps: Pick<EvaluatorDeps, "stats">,
  modelId: string,
  baseline: BaselineInput | undefined,
): Promise<BaselineInput | undefined> {
  if (baseline?.window === undefined) return baseline;
  const outcomes = await deps.stats.readOutcomes(modelId, baseline.window.from, baseline.window.to);
  if (outcomes.length === 0) return baseline;
  const performance = mergePerformanceList(outcomes.map((o) => o.performance));
  return { ...baseline, profile: { ...baseline.profile, performance, labelled: performance.n } };
}
