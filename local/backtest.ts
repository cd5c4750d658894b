/**
 * What a backtest reports per compared policy: how often it alerted, retrained and suppressed a retrain,
 * and how long after each change point it first acted. Pure: evaluations and change points in, rows out.
 */
import { HOUR_MS } from "../contracts/time";

/** One evaluation of one model under one policy, as the backtest reads it. */
export interface EvaluationMark {
  readonly t: number;
  readonly modelId: string;
  readonly action: "none" | "alert" | "retrain";
  /** Why a retrain the rule asked for did not happen (cooldown, budget, persistence, ...). */
  readonly suppressions: readonly string[];
}

/** A change in a model's behaviour (given, or found from the labels' accuracy). */
export interface ChangeMark {
  readonly modelId: string;
  readonly at: number;
  readonly source: "given" | "labels";
  /** Accuracy before and after, when found from the labels. */
  readonly before?: number;
  readonly after?: number;
}

/** Reaction of one policy to one change point. */
export interface ChangeReaction {
  readonly modelId: string;
  readonly at: number;
  /** Hours from the change to the first alert or retrain at or after it (null: none before the next change). */
  readonly firstActionHours: number | null;
  readonly firstRetrainHours: number | null;
}

export interface PolicyRow {
  readonly policy: string;
  readonly evaluations: number;
  readonly alerts: number;
  readonly retrains: number;
  /** Evaluations where a retrain was suppressed, and by what. */
  readonly suppressed: number;
  readonly suppressionsByReason: Readonly<Record<string, number>>;
  readonly reactions: readonly ChangeReaction[];
}

const hours = (ms: number) => Math.round((ms / HOUR_MS) * 10) / 10;

/**
 * One row per policy. A reaction counts only before the model's next change point (a late action belongs
 * to the later change); `changes` may be in any order.
 */
export function comparePolicies(
  evaluations: ReadonlyMap<string, readonly EvaluationMark[]>,
  changes: readonly ChangeMark[],
): PolicyRow[] {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  return [...evaluations.entries()].map(([policy, marks]) => {
    const byReason: Record<string, number> = {};
    let suppressed = 0;
    for (const m of marks) {
      if (m.suppressions.length === 0) continue;
      suppressed++;
      for (const r of m.suppressions) byReason[r] = (byReason[r] ?? 0) + 1;
    }
    const reactions = sorted.map((c) => {
      const next = sorted.find((d) => d.modelId === c.modelId && d.at > c.at)?.at ?? Number.POSITIVE_INFINITY;
      const after = marks
        .filter((m) => m.modelId === c.modelId && m.t >= c.at && m.t < next)
        .sort((a, b) => a.t - b.t);
      const action = after.find((m) => m.action !== "none");
      const retrain = after.find((m) => m.action === "retrain");
      return {
        modelId: c.modelId,
        at: c.at,
        firstActionHours: action ? hours(action.t - c.at) : null,
        firstRetrainHours: retrain ? hours(retrain.t - c.at) : null,
      };
    });
    return {
      policy,
      evaluations: marks.length,
      alerts: marks.filter((m) => m.action === "alert").length,
      retrains: marks.filter((m) => m.action === "retrain").length,
      suppressed,
      suppressionsByReason: byReason,
      reactions,
    };
  });
}

/** The rows as a plain-text table (one line per policy; one delay column per change point). */
export function formatPolicyTable(rows: readonly PolicyRow[], changes: readonly ChangeMark[]): string {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const header = [
    "policy",
    "evaluations",
    "alerts",
    "retrains",
    "suppressed",
    ...sorted.map(
      (c) => `${c.modelId} ${new Date(c.at).toISOString().slice(0, 16)}Z: action / retrain after`,
    ),
  ];
  const cell = (h: number | null) => (h === null ? "-" : `${h} h`);
  const body = rows.map((r) => [
    r.policy,
    String(r.evaluations),
    String(r.alerts),
    String(r.retrains),
    String(r.suppressed),
    ...r.reactions.map((x) => `${cell(x.firstActionHours)} / ${cell(x.firstRetrainHours)}`),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const rule = `+-${widths.map((w) => "-".repeat(w)).join("-+-")}-+`;
  return [rule, line(header), rule, ...body.map(line), rule].join("\n");
}
