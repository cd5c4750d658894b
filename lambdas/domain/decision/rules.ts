/**
 * Evaluation of a rule tree over signal verdicts. The result explains itself: which leaves held, and
 * for weighted scores each signal's contribution, so a decision record shows why the rule fired.
 */
import type { Rule, SignalName } from "../../../contracts/policy";
import { fmt, type Verdict } from "./verdict";

export interface Contribution {
  readonly signal: SignalName;
  readonly weight: number;
  readonly strength: number;
  readonly contribution: number;
}

export interface RuleResult {
  readonly satisfied: boolean;
  /** Human-readable trace, e.g. `any(performance=false, estimatedPerformance=true)`. */
  readonly explanation: string;
  /** Contributions of every weighted-score node in the tree. */
  readonly contributions: readonly Contribution[];
  /** Score of the (first) weighted-score node, if any. */
  readonly score?: number;
}

/** Evaluates `rule`; a signal without a verdict (or skipped) is not breached. */
export function evaluateRule(rule: Rule, signals: ReadonlyMap<string, Verdict>): RuleResult {
  const contributions: Contribution[] = [];
  let firstScore: number | undefined;
  const walk = (r: Rule): { ok: boolean; text: string } => {
    if (typeof r === "string") {
      const ok = signals.get(r)?.breached ?? false;
      return { ok, text: `${r}=${ok}` };
    }
    if ("all" in r) {
      const parts = r.all.map(walk);
      return { ok: parts.every((p) => p.ok), text: `all(${parts.map((p) => p.text).join(", ")})` };
    }
    if ("any" in r) {
      const parts = r.any.map(walk);
      return { ok: parts.some((p) => p.ok), text: `any(${parts.map((p) => p.text).join(", ")})` };
    }
    let score = 0;
    const terms: string[] = [];
    for (const [name, weight] of Object.entries(r.score.weights)) {
      if (weight === undefined) continue;
      const strength = signals.get(name)?.strength ?? 0;
      const contribution = weight * strength;
      score += contribution;
      contributions.push({ signal: name as SignalName, weight, strength, contribution });
      terms.push(`${name} ${fmt(weight)}x${fmt(strength)}`);
    }
    firstScore ??= score;
    const ok = score >= r.score.threshold;
    return {
      ok,
      text: `score(${terms.join(" + ")} = ${fmt(score)} ${ok ? ">=" : "<"} ${fmt(r.score.threshold)})`,
    };
  };
  const { ok, text } = walk(rule);
  return firstScore === undefined
    ? { satisfied: ok, explanation: text, contributions }
    : { satisfied: ok, explanation: text, contributions, score: firstScore };
}
