/**
 * How large the holdout must be for the validation gate's paired test to be worth running: large enough
 * that a challenger exactly as good as the champion passes with probability `power` (the test already
 * keeps a challenger worse by the margin below `alpha` at any size; a small holdout only makes good
 * challengers fail). Sized before any challenger exists, so it rests on a stated assumption about how
 * differently two models of the same task score the same rows. With z = z_{1-alpha} + z_{power}:
 *
 * - accuracy (paired proportions): the score test's variance at "as good" is d / n, d the discordance
 *   (share of rows on which exactly one model is right), so n >= z^2 d / margin^2. Each class must also
 *   hold at least margin x n rows: a smaller class could be misclassified entirely and the accuracy would
 *   still move by less than the margin, so the gate would be blind to it.
 * - recall, precision, F1 (the positive class's metrics): the same count, of positive rows.
 * - macro F1 over K classes: the mean of K per-class F1s, so each class needs z^2 d / (K margin^2).
 * - AUC (DeLong): Var = S (1/positives + 1/negatives), S the per-class variance of the difference of the
 *   two models' structural components, assumed to be d / 5 (seeded simulations of two noisy scorers of the
 *   same signal give 0.04 d to 0.19 d; test/domain/retraining/holdout-sizing.test.ts). At the holdout's
 *   class balance p (share of positives) that is positives >= N / (1 - p) and negatives >= N / p with
 *   N = z^2 S / margin^2.
 * - mean losses (log loss, Brier, MAE, MAPE) with relative margin m: the per-row difference has mean m x
 *   mean loss and standard deviation cv x mean loss (cv = assumedLossCv), so n >= z^2 cv^2 / m^2; for RMSE
 *   the test is on squared errors with ratio (1 + m)^2, so n >= z^2 cv^2 / ((1 + m)^2 - 1)^2.
 *
 * Superiority (`hypothesis: "superiority"`) tests against 0 instead of -margin and sizes for power at a
 * challenger better by the margin: the distance between the two hypotheses is the same, so are the counts.
 *
 * PrepareDataset chooses the holdout share with `planHoldoutShare` (up to MAX_HOLDOUT_SHARE of the labelled
 * rows) and refuses only a holdout whose coverage need fails (a rejection certain before training); the
 * gate reports the numbers with its verdict. Pure.
 */
import type { TaskType } from "../../../contracts/model";
import {
  type GateMarginKind,
  gateMarginKind,
  gateMarginOf,
  gateMetricOf,
  type PerformanceMetricName,
  type ValidationGate,
} from "../../../contracts/policy";
import { normalUpperQuantile } from "../stats/noise";

/** A gate with its task defaults filled in (metric, margin). */
export interface ResolvedGate {
  readonly metric: PerformanceMetricName;
  readonly marginKind: GateMarginKind;
  readonly margin: number;
  readonly hypothesis: "nonInferiority" | "superiority";
  readonly alpha: number;
  readonly power: number;
  readonly assumedDiscordance: number;
  readonly assumedLossCv: number;
  readonly minMetric?: number;
  readonly minAgreement: number;
}

/** Fills in the task's default metric and the metric's default margin. */
export function resolveGate(gate: ValidationGate, task: TaskType): ResolvedGate {
  const metric = gateMetricOf(gate, task);
  return {
    metric,
    marginKind: gateMarginKind(metric),
    margin: gateMarginOf(gate, metric),
    hypothesis: gate.hypothesis,
    alpha: gate.alpha,
    power: gate.power,
    assumedDiscordance: gate.assumedDiscordance,
    assumedLossCv: gate.assumedLossCv,
    ...(gate.minMetric !== undefined ? { minMetric: gate.minMetric } : {}),
    minAgreement: gate.minAgreement,
  };
}

/**
 * Share of the discordance assumed as the per-class variance of the difference of DeLong's structural
 * components (see the module comment for the simulations behind it).
 */
export const AUC_COMPONENT_SHARE = 0.2;

/** z_{1-alpha} + z_{power}: the standardized distance the test needs between "as good" and the margin. */
export function powerZ(alpha: number, power: number): number {
  return normalUpperQuantile(alpha) + normalUpperQuantile(1 - power);
}

/** One count the holdout must reach. */
export interface HoldoutNeed {
  /** What is counted: "rows", "positive rows", "rows of class 'x'". */
  readonly what: string;
  readonly have: number;
  readonly need: number;
  /**
   * `power`: below it, an as-good challenger fails the test too often (the test's false-pass rate stays at
   * alpha at any size, so a challenger that passes anyway may pass). `coverage`: below it, a class could be
   * misclassified entirely within the margin, so the test would be blind to it (always required).
   */
  readonly kind: "power" | "coverage";
}

export interface HoldoutAssessment {
  readonly needs: readonly HoldoutNeed[];
  /** The needs not met. */
  readonly shortfalls: readonly HoldoutNeed[];
  /** The assumption and settings behind the numbers, in words. */
  readonly basis: string;
}

const ceil = (x: number): number => (Number.isFinite(x) ? Math.ceil(x - 1e-9) : Number.POSITIVE_INFINITY);

/** Rows an accuracy-like paired test needs (z^2 d / margin^2). */
function proportionRows(gate: ResolvedGate): number {
  const z = powerZ(gate.alpha, gate.power);
  return ceil((z * z * gate.assumedDiscordance) / (gate.margin * gate.margin));
}

/** Rows a mean-loss paired t test needs at the gate's relative margin. */
function lossRows(gate: ResolvedGate): number {
  const z = powerZ(gate.alpha, gate.power);
  const relativeShift = gate.metric === "rmse" ? (1 + gate.margin) ** 2 - 1 : gate.margin;
  return ceil((z * z * gate.assumedLossCv ** 2) / (relativeShift * relativeShift));
}

/** Rows of each class a DeLong test needs when the other class is unlimited (z^2 S / margin^2). */
export function aucRowsPerClassAlone(gate: ResolvedGate): number {
  const z = powerZ(gate.alpha, gate.power);
  return ceil((z * z * AUC_COMPONENT_SHARE * gate.assumedDiscordance) / (gate.margin * gate.margin));
}

/** The class-free minimum: rows for accuracy and losses, positive rows for the positive class's metrics. */
export function minimumHoldoutRows(gate: ResolvedGate): number {
  if (gate.marginKind === "relative") return lossRows(gate);
  if (gate.metric === "auc") return 2 * aucRowsPerClassAlone(gate);
  return proportionRows(gate);
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toLocaleString("en-US") : "unlimited");

/** The sizing assumption and settings in words. */
function basisOf(gate: ResolvedGate): string {
  const margin =
    gate.marginKind === "relative"
      ? `${gate.margin * 100}% of the champion's ${gate.metric}`
      : `${gate.margin}`;
  const assumption =
    gate.marginKind === "relative"
      ? `assumed loss-difference cv ${gate.assumedLossCv}`
      : `assumed discordance ${gate.assumedDiscordance}`;
  if (gate.hypothesis === "superiority")
    return `power ${gate.power} to show a challenger better by ${margin} superior, alpha ${gate.alpha}, ${assumption}`;
  return `power ${gate.power} to pass an as-good challenger at margin ${margin}, alpha ${gate.alpha}, ${assumption}`;
}

/** Label-class counts of a holdout (or of all labelled rows), in the form `assessCounts` takes. */
export function classCounts(task: TaskType, labelClasses: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>(
    task === "binary"
      ? [
          ["0", 0],
          ["1", 0],
        ]
      : [],
  );
  if (task !== "regression") for (const c of labelClasses) counts.set(c, (counts.get(c) ?? 0) + 1);
  return counts;
}

/**
 * The counts a holdout with these label classes (from `labelClasses`) must reach for the gate's paired
 * test, and which it misses. Binary holdouts always count both classes, even when one is absent.
 */
export function assessHoldout(
  gate: ResolvedGate,
  task: TaskType,
  labelClasses: readonly string[],
): HoldoutAssessment {
  return assessCounts(gate, task, labelClasses.length, classCounts(task, labelClasses));
}

/** `assessHoldout` from counts: `rows` in all, `counts` per label class (empty for regression). */
export function assessCounts(
  gate: ResolvedGate,
  task: TaskType,
  rows: number,
  counts: ReadonlyMap<string, number>,
): HoldoutAssessment {
  const classCount = (c: string) => counts.get(c) ?? 0;
  const classLabel = (c: string) =>
    task === "binary" ? (c === "1" ? "positive rows" : "negative rows") : `rows of class '${c}'`;
  const needs: HoldoutNeed[] = [];
  const metric = gate.metric;
  if (gate.marginKind === "relative") {
    needs.push({ what: "rows", have: rows, need: lossRows(gate), kind: "power" });
  } else if (metric === "accuracy") {
    const need = proportionRows(gate);
    needs.push({ what: "rows", have: rows, need, kind: "power" });
    const perClass = Math.max(1, ceil(gate.margin * rows));
    for (const c of [...counts.keys()].sort())
      needs.push({ what: classLabel(c), have: classCount(c), need: perClass, kind: "coverage" });
  } else if (metric === "recall" || metric === "precision" || metric === "f1") {
    needs.push({ what: classLabel("1"), have: classCount("1"), need: proportionRows(gate), kind: "power" });
  } else if (metric === "macroF1") {
    const classes = Math.max(2, counts.size);
    const perClass = ceil(proportionRows(gate) / classes);
    for (const c of [...counts.keys()].sort())
      needs.push({ what: classLabel(c), have: classCount(c), need: perClass, kind: "power" });
  } else if (metric === "auc") {
    const alone = aucRowsPerClassAlone(gate);
    const positives = classCount("1");
    const negatives = classCount("0");
    const share = rows > 0 ? positives / rows : 0;
    const balanced = share > 0 && share < 1;
    needs.push({
      what: classLabel("1"),
      have: positives,
      need: balanced ? ceil(alone / (1 - share)) : 2 * alone,
      kind: "power",
    });
    needs.push({
      what: classLabel("0"),
      have: negatives,
      need: balanced ? ceil(alone / share) : 2 * alone,
      kind: "power",
    });
  }
  return { needs, shortfalls: needs.filter((n) => n.have < n.need), basis: basisOf(gate) };
}

/** A shortfall in words: "rows 67 < 6,183". */
export function describeNeed(need: HoldoutNeed): string {
  return `${need.what} ${fmt(need.have)} ${need.have >= need.need ? ">=" : "<"} ${fmt(need.need)}`;
}

/**
 * The smallest absolute margin an accuracy-like test on `rows` rows can power: the inverse of the sizing
 * rule, sqrt(z^2 d / rows). For deployments whose volume cannot support the default margin, so that the
 * margin follows from the expected holdout instead of being guessed.
 */
export function smallestPoweredMargin(
  settings: Pick<ValidationGate, "alpha" | "power" | "assumedDiscordance">,
  rows: number,
): number {
  const z = powerZ(settings.alpha, settings.power);
  return Math.sqrt((z * z * settings.assumedDiscordance) / rows);
}

/** The largest share of the labelled rows the holdout may take, so that training keeps most of them. */
export const MAX_HOLDOUT_SHARE = 0.4;

/** How the holdout share of a run was chosen. */
export interface HoldoutPlan {
  /** Share of the labelled rows that goes to the holdout. */
  readonly share: number;
  /** What a holdout of that share is expected to hold (conservatively) against the test's needs. */
  readonly expected: HoldoutAssessment;
  /** The plan in words, for the dataset manifest and the run record. */
  readonly note: string;
}

/**
 * Chooses the holdout share so that the paired test is powered: the smallest share, from `baseShare` up to
 * `maxShare` in steps of 0.01, whose expected holdout meets every need. The split is by request hash, so a
 * class of C rows puts about C x share of them in the holdout, give or take sqrt(C share (1 - share)); the
 * expectation takes two of those below the mean. When even `maxShare` falls short, the plan keeps
 * `baseShare` and says so: a larger but still underpowered holdout would take rows from training for
 * little gain, while the gate can still pass a clearly better challenger on it (the test's false-pass rate
 * is alpha at any size) and otherwise reports an insufficient holdout.
 */
export function planHoldoutShare(
  gate: ResolvedGate,
  task: TaskType,
  labelClasses: readonly string[],
  baseShare: number,
  maxShare: number = MAX_HOLDOUT_SHARE,
): HoldoutPlan {
  const totals = classCounts(task, labelClasses);
  const expectedAt = (share: number): HoldoutAssessment => {
    const expect = (count: number) =>
      Math.max(0, Math.floor(count * share - 2 * Math.sqrt(count * share * (1 - share))));
    const counts = new Map([...totals].map(([c, count]) => [c, expect(count)] as const));
    const rows =
      task === "regression" ? expect(labelClasses.length) : [...counts.values()].reduce((a, b) => a + b, 0);
    return assessCounts(gate, task, rows, counts);
  };
  const top = Math.max(baseShare, maxShare);
  const steps = Math.max(0, Math.ceil((top - baseShare) * 100 - 1e-9));
  for (let step = 0; step <= steps; step++) {
    const share = Math.min(top, baseShare + step / 100);
    const expected = expectedAt(share);
    if (expected.shortfalls.length === 0) {
      const note =
        step === 0
          ? `holdout share ${fmtShare(share)}: enough for the paired ${gate.metric} test (${expected.needs.map(describeNeed).join(", ")})`
          : `holdout share raised from ${fmtShare(baseShare)} to ${fmtShare(share)} so that the paired ${gate.metric} test is powered (${expected.needs.map(describeNeed).join(", ")})`;
      return { share, expected, note };
    }
  }
  const expected = expectedAt(baseShare);
  const short = expectedAt(top).shortfalls.map(describeNeed).join(", ");
  return {
    share: baseShare,
    expected,
    note: `holdout share kept at ${fmtShare(baseShare)}: even ${fmtShare(top)} (the most it may take${top < MAX_HOLDOUT_SHARE ? " while train and validation keep their minimum rows" : ""}) is expected to fall short of the paired ${gate.metric} test's power: ${short} (${expected.basis}); a clearly better challenger can still pass, an as-good one will be reported as an insufficient holdout`,
  };
}

const fmtShare = (share: number): string => `${Number((share * 100).toFixed(1))}%`;
