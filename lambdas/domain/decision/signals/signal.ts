/**
 * A signal in the shape of a cdk-nag rule: a name and a pure `measure(context) -> Measurement`. The
 * decision runs every signal of the pack (./index.ts) over one shared context; adding a signal is one
 * file and one registration (plus its settings in the policy schema, contracts/policy.ts).
 */
import type { SignalName } from "../../../../contracts/policy";
import type { DecisionMetrics } from "../decision";
import type { Verdict } from "../verdict";
import type { SignalContext } from "./context";

/** What a signal reports for one evaluation. */
export interface Measurement {
  /** The signal's own verdict (what rules see). */
  readonly verdict: Verdict;
  /** Per-feature or per-check verdicts behind it, listed in the decision after the top-level verdicts. */
  readonly details?: readonly Verdict[];
  /** Extra scalar values remembered in the history for later evaluations (e.g. the event rate). */
  readonly values?: Readonly<Record<string, number | null>>;
  /** Headline numbers this signal contributes to the decision's metrics. */
  readonly metrics?: Partial<DecisionMetrics>;
  /**
   * The data this evaluation judged is broken: a retrain now would train on the breakage, so the
   * data-quality gate suppresses it (only the data-quality signal sets this).
   */
  readonly blocksRetraining?: boolean;
}

export interface Signal {
  readonly name: SignalName;
  /**
   * A calendar or counter fact (model age, schedule, label volume), not a noisy measurement: a rule
   * that holds on such signals alone needs no persistence.
   */
  readonly deterministic: boolean;
  measure(context: SignalContext): Measurement;
}
