/** `modelAge`: the champion is older than the configured age (a calendar fact). */
import type { ModelAgeSignalConfig } from "../../../../contracts/policy";
import { DAY_MS } from "../../../../contracts/time";
import { compare, skipped, type Verdict } from "../verdict";
import type { Signal } from "./signal";

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

export const modelAgeSignal: Signal = {
  name: "modelAge",
  deterministic: true,
  measure: (context) => ({
    verdict: modelAgeVerdict(
      context.policy.signals.modelAge,
      context.inputs.state.championTrainedAt,
      context.inputs.now,
    ),
  }),
};
