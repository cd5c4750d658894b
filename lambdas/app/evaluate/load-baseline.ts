/**
 * The baseline of an evaluation: the stored one (from training), or, when none was stored, the first
 * `referenceWindowHours` of traffic after the deploy, bootstrapped once as `ref-<iso>`.
 */

import { HOUR_MS } from "../../../contracts/time";
import type { BaselineInput } from "../../domain/decision/decision";
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
    if (stored)
      return {
        version: stored.version,
        profile: stored.profile,
        ...(stored.hours ? { hours: stored.hours } : {}),
      };
    log.warn("baseline pointer without baseline item", { modelId: model.id, version: state.baselineVersion });
  }
  // No baseline from training: the first referenceWindowHours of traffic after the deploy become it.
  const hours = policy.referenceWindowHours;
  const from = state.lastDeployAt ?? now - hours * HOUR_MS;
  const to = from + hours * HOUR_MS;
  if (to > now) return undefined;
  const reference = await deps.stats.readWindow(model.id, from, to);
  if (reference.profile === undefined || reference.profile.count < policy.signals.drift.minSamples)
    return undefined;
  // Only a reference that covers (nearly) the whole window: a baseline of the first hours after an
  // install would make the daily cycle look like drift, and its event rate would be wrong.
  const first = reference.buckets[0]?.bucketStart;
  if (first === undefined || first > from + 0.1 * hours * HOUR_MS) return undefined;
  const version = `ref-${new Date(from).toISOString()}`;
  await deps.state.putBaseline(model.id, {
    version,
    profile: reference.profile,
    createdAt: now,
    source: "reference-window",
    hours,
  });
  await deps.state.setBaselineVersion(model.id, version);
  log.info("baseline bootstrapped from a reference window", { modelId: model.id, version });
  return { version, profile: reference.profile, hours };
}
