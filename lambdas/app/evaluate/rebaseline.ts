/**
 * Re-baselining: make recent live traffic the baseline the evaluator compares with. This is what an
 * operator does after the data-quality gate escalated (a breach that lasted `maxGateHours`: a feature
 * that stays null, a new missing rate, a changed upstream) once they have checked that the new data
 * is right. The evaluator then judges drift and data quality against the new normal, and the realized
 * performance against the labels of that traffic as they mature.
 *
 * The new baseline is a reference-window baseline (`rebase-<iso start>`), stored and pointed to exactly
 * as the evaluator's own bootstrap after a deploy does, so its labels keep being refreshed until they
 * are mature and the adaptive limits take their reference period from its end.
 */
import { HOUR_MS } from "../../../contracts/time";
import type { Profile } from "../../domain/stats/profile";
import type { ModelStateRepository } from "../../ports/model-state-repository";
import type { StatsRepository } from "../../ports/stats-repository";
import { SILENT_LOG } from "../../ports/telemetry";
import type { EvaluatedModel, EvaluatorDeps } from "./evaluator";

/** The request cannot be met (too little traffic in the window, a window in the future): exit code 2. */
export class RebaselineError extends Error {
  override readonly name = "RebaselineError";
}

export interface RebaselineRequest {
  /** End of the traffic that becomes the baseline (epoch ms, exclusive). */
  readonly to: number;
  /** Hours of traffic before `to`. @default the policy's referenceWindowHours */
  readonly hours?: number;
  /** Only report what would be stored. */
  readonly dryRun?: boolean;
}

export interface RebaselineResult {
  readonly modelId: string;
  readonly version: string;
  readonly previousVersion: string | null;
  readonly from: number;
  readonly to: number;
  readonly predictions: number;
  readonly labelled: number;
  readonly stored: boolean;
}

/** The profile's numbers an operator checks before trusting it. */
function countsOf(profile: Profile): { predictions: number; labelled: number } {
  return { predictions: profile.count, labelled: profile.labelled };
}

export async function rebaseline(
  deps: { readonly stats: StatsRepository; readonly state: ModelStateRepository } & Pick<
    EvaluatorDeps,
    "log"
  >,
  model: EvaluatedModel,
  request: RebaselineRequest,
  now: number,
): Promise<RebaselineResult> {
  const log = deps.log ?? SILENT_LOG;
  const hours = request.hours ?? model.policy.referenceWindowHours;
  if (!(hours > 0)) throw new RebaselineError(`--hours must be a positive number (got ${hours})`);
  if (request.to > now)
    throw new RebaselineError(
      `the window must have ended: --end ${new Date(request.to).toISOString()} is after now (${new Date(now).toISOString()})`,
    );
  const from = request.to - hours * HOUR_MS;
  const window = await deps.stats.readWindow(model.id, from, request.to);
  const minimum = model.policy.signals.drift.minSamples;
  const count = window.profile?.count ?? 0;
  if (window.profile === undefined || count < minimum)
    throw new RebaselineError(
      `model ${model.id}: ${count} predictions in ${new Date(from).toISOString()} .. ${new Date(request.to).toISOString()}, fewer than policy.signals.drift.minSamples (${minimum}); choose a longer --hours`,
    );
  const state = await deps.state.getState(model.id);
  const version = `rebase-${new Date(from).toISOString()}`;
  const result: RebaselineResult = {
    modelId: model.id,
    version,
    previousVersion: state.baselineVersion ?? null,
    from,
    to: request.to,
    ...countsOf(window.profile),
    stored: !request.dryRun,
  };
  if (request.dryRun) return result;
  await deps.state.putBaseline(model.id, {
    version,
    profile: window.profile,
    createdAt: now,
    source: "reference-window",
    hours,
    from,
  });
  await deps.state.setBaselineVersion(model.id, version);
  log.info("re-baselined from live traffic", {
    modelId: model.id,
    version,
    previousVersion: result.previousVersion,
  });
  return result;
}
