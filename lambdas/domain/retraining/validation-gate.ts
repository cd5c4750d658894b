/**
 * Validation gate of the retraining workflow: decides whether a freshly trained challenger may replace the
 * champion. Both models scored the same holdout rows, so the gate compares them row by row (a paired test)
 * instead of comparing two point estimates: at 200 rows the old point comparison passed a challenger truly
 * two points worse 21 % of the time and failed one a point better 29 % of the time (issue 13).
 *
 * The hypotheses, for the configured metric and margin (`hypothesis: "nonInferiority"`, the default):
 *   H0: the challenger is worse than the champion by more than the margin;
 *   H1: it is not (it is at most the margin worse, as good, or better).
 * With `hypothesis: "superiority"` the same tests run with the margin at 0 (H0: the challenger is not
 * better), and the margin is the improvement the holdout is sized to detect.
 * The challenger passes when H0 is rejected at `alpha`, one-sided. The test follows the metric:
 * - accuracy, recall: paired proportions, Tango's score test on the discordant rows (McNemar-type);
 * - AUC: DeLong's test of two correlated AUCs;
 * - precision, F1, macro F1: a deterministic paired bootstrap (percentile interval);
 * - log loss, Brier, MAE, RMSE, MAPE: a paired t test on per-row losses against a relative margin
 *   (RMSE through the mean squared error), with Fieller's interval of the ratio.
 * Three more checks: the holdout's size (holdout-sizing.ts: each class must be covered; below the powered
 * size the verdict is "insufficient holdout" only when the test neither passed nor showed the challenger
 * worse, since the test's false-pass rate is alpha at any size), the challenger meets the absolute
 * `minMetric`, and the two models rank the holdout alike (`minAgreement`) unless the challenger is shown
 * better. Without a champion (the first model) only `minMetric` and the availability of the metric apply.
 *
 * Pure and deterministic. Every check reports its value, threshold, interval where there is one, and its
 * verdict in plain words, which go into the approval and failure messages and the run record.
 */

import type { TaskType } from "../../../contracts/model";
import {
  PERFORMANCE_METRICS,
  type PerformanceMetricName,
  type ValidationGate,
} from "../../../contracts/policy";
import { cohenKappa, spearman } from "../stats/agreement";
import { delongNonInferiority, pairedAuc } from "../stats/delong";
import type { NonInferiorityTest } from "../stats/non-inferiority";
import { pairedBootstrapNonInferiority } from "../stats/paired-bootstrap";
import { pairedLossNonInferiority } from "../stats/paired-loss";
import { pairedProportionNonInferiority } from "../stats/paired-proportions";
import type { ScoredOutput } from "./holdout-evaluation";
import {
  type HoldoutLabels,
  labelClasses,
  metricOf,
  type RowOutcome,
  rowLoss,
  rowOutcomes,
} from "./holdout-outcomes";
import {
  assessHoldout,
  describeNeed,
  type HoldoutAssessment,
  type ResolvedGate,
  resolveGate,
} from "./holdout-sizing";

/** The holdout labels and both models' outputs on them, row by row. */
export interface PairedHoldout extends HoldoutLabels {
  readonly challenger: readonly ScoredOutput[];
  /** Absent on the very first training of a model (nothing to compare against). */
  readonly champion?: readonly ScoredOutput[];
}

export type GateCheckName = "holdoutSize" | "minimum" | "nonInferiority" | "agreement";

export interface GateCheck {
  readonly name: GateCheckName;
  /** The measured value (rows, metric, difference or ratio, correlation); null when not measurable. */
  readonly value: number | null;
  readonly threshold: number;
  /** Two-sided (1 - 2 alpha) confidence interval of the value, for the non-inferiority check. */
  readonly interval?: readonly [number, number];
  readonly passed: boolean;
  /** Value, threshold, interval and verdict in plain words. */
  readonly detail: string;
}

/** One model's metric on the holdout. */
export interface ModelMetric {
  /** Undefined when the task or the outputs do not define the metric (e.g. AUC without scores). */
  readonly value?: number;
  /** Rows the model's metric counts (valid outputs). */
  readonly n: number;
}

/**
 * `passed`; `rejected`: a check failed on the evidence; `insufficientHoldout`: the challenger was not
 * shown within the margin on a holdout too small to show it for an as-good challenger, and not shown
 * worse either (the decision needs more labelled rows, not a verdict on the model).
 */
export type GateOutcome = "passed" | "rejected" | "insufficientHoldout";

export interface GateVerdict {
  readonly passed: boolean;
  readonly outcome: GateOutcome;
  readonly metric: PerformanceMetricName;
  /** The margin applied: metric units, or a fraction of the champion's value for error metrics. */
  readonly margin: number;
  readonly marginKind: "absolute" | "relative";
  readonly challenger: ModelMetric;
  readonly champion?: ModelMetric;
  /** Rows both models scored validly: what the paired test compared. */
  readonly pairedRows?: number;
  /** Agreement of the two models' outputs (Spearman or Cohen's kappa), when measurable. */
  readonly agreement?: number;
  readonly checks: readonly GateCheck[];
  /** The failed checks' details (empty when passed). */
  readonly reasons: readonly string[];
}

/** Whether a larger value of the metric means a better model. */
export function higherIsBetter(metric: PerformanceMetricName): boolean {
  return PERFORMANCE_METRICS[metric];
}

/** A number in a verdict: integers with thousands separators, else 4 significant digits. */
function num(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "unbounded" : "-unbounded";
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  return Number(x.toPrecision(4)).toString();
}
const signed = (x: number): string => (x > 0 ? `+${num(x)}` : num(x));
const percent = (x: number): string => `${Number((x * 100).toPrecision(4))}%`;
const pValueText = (p: number): string => (p < 1e-4 ? "p < 0.0001" : `p = ${num(p)}`);

interface Comparison {
  readonly test?: NonInferiorityTest;
  readonly rows: number;
  readonly challengerValue?: number;
  readonly championValue?: number;
  /** Why the test could not run. */
  readonly unavailable?: string;
}

/** Indices of the rows both models scored validly and for which the metric has a per-row value. */
function pairedRows(
  metric: PerformanceMetricName,
  challenger: RowOutcome[],
  champion: RowOutcome[],
): number[] {
  const rows: number[] = [];
  const loss = !PERFORMANCE_METRICS[metric];
  challenger.forEach((outcome, row) => {
    const other = champion[row]!;
    if (!outcome.valid || !other.valid) return;
    if (loss && (rowLoss(metric, outcome) === undefined || rowLoss(metric, other) === undefined)) return;
    if (metric === "auc" && (outcome.rankValue === undefined || other.rankValue === undefined)) return;
    rows.push(row);
  });
  return rows;
}

/** The paired non-inferiority test of the gate's metric on the rows both models scored. */
function compare(gate: ResolvedGate, challengerAll: RowOutcome[], championAll: RowOutcome[]): Comparison {
  const { metric, alpha } = gate;
  // Superiority is the same test with the margin at 0: H0 "the challenger is not better".
  const margin = testMargin(gate);
  const rows = pairedRows(metric, challengerAll, championAll);
  const challenger = rows.map((row) => challengerAll[row]!);
  const champion = rows.map((row) => championAll[row]!);
  const values = {
    rows: rows.length,
    ...optional("challengerValue", metricOf(metric, challenger)),
    ...optional("championValue", metricOf(metric, champion)),
  };
  if (rows.length < 2)
    return { ...values, unavailable: `only ${rows.length} rows were scored by both models` };
  switch (metric) {
    case "accuracy":
    case "recall": {
      // Recall is the accuracy on the positive rows: the same paired test, restricted to them.
      const picked = Array.from(rows.keys()).filter(
        (k) => metric === "accuracy" || challenger[k]!.labelClass === "1",
      );
      if (picked.length === 0) return { ...values, unavailable: "the holdout has no positive rows" };
      let challengerOnly = 0;
      let championOnly = 0;
      for (const k of picked) {
        if (challenger[k]!.correct && !champion[k]!.correct) challengerOnly++;
        if (!challenger[k]!.correct && champion[k]!.correct) championOnly++;
      }
      const counts = { n: picked.length, challengerOnly, championOnly };
      return { ...values, test: pairedProportionNonInferiority(counts, margin, alpha) };
    }
    case "auc": {
      const auc = pairedAuc(
        challenger.map((o) => o.rankValue!),
        champion.map((o) => o.rankValue!),
        challenger.map((o) => o.labelClass === "1"),
      );
      if (auc === undefined)
        return { ...values, unavailable: "fewer than two rows of a class have scores from both models" };
      return { ...values, test: delongNonInferiority(auc, margin, alpha) };
    }
    case "precision":
    case "f1":
    case "macroF1": {
      const difference = (resample?: Uint32Array) => {
        const h = metricOf(metric, challenger, resample ?? Array.from(challenger.keys()));
        const c = metricOf(metric, champion, resample ?? Array.from(champion.keys()));
        return h === undefined || c === undefined ? undefined : h - c;
      };
      const test = pairedBootstrapNonInferiority(rows.length, difference, margin, alpha);
      if (test === undefined)
        return { ...values, unavailable: `${metric} is undefined on the holdout or most resamples` };
      return { ...values, test };
    }
    default: {
      const ratio = metric === "rmse" ? (1 + margin) ** 2 : 1 + margin;
      const test = pairedLossNonInferiority(
        challenger.map((o) => rowLoss(metric, o)!),
        champion.map((o) => rowLoss(metric, o)!),
        ratio,
        alpha,
      );
      if (test === undefined)
        return { ...values, unavailable: "fewer than two rows have a loss from both models" };
      if (metric !== "rmse") return { ...values, test };
      // The test ran on mean squared errors; report the ratio of RMSEs, their square roots.
      const root = (x: number) => Math.sqrt(Math.max(0, x));
      return {
        ...values,
        test: {
          ...test,
          estimate: root(test.estimate),
          interval: [root(test.interval[0]), root(test.interval[1])],
        },
      };
    }
  }
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

/** The margin the test uses: the configured one for non-inferiority, 0 for superiority. */
function testMargin(gate: ResolvedGate): number {
  return gate.hypothesis === "superiority" ? 0 : gate.margin;
}

/** The test's threshold on the reported value: -margin for differences, 1 + margin for ratios. */
function testThreshold(gate: ResolvedGate): number {
  const margin = testMargin(gate);
  return gate.marginKind === "relative" ? 1 + margin : 0 - margin;
}

function nonInferiorityCheck(gate: ResolvedGate, comparison: Comparison): GateCheck {
  const { metric, alpha, marginKind } = gate;
  const margin = testMargin(gate);
  const superiority = gate.hypothesis === "superiority";
  const relative = marginKind === "relative";
  const threshold = testThreshold(gate);
  const level = percent(1 - 2 * alpha);
  const hypothesis = superiority
    ? relative
      ? `H0 "the challenger's ${metric} is not below the champion's"`
      : `H0 "the challenger's ${metric} is not above the champion's"`
    : relative
      ? `H0 "the challenger's ${metric} is more than ${percent(margin)} above the champion's"`
      : `H0 "the challenger's ${metric} is more than ${num(margin)} below the champion's"`;
  const label = superiority ? "superiority" : "non-inferiority";
  const notRuledOut = superiority
    ? "so the challenger is not shown to be better"
    : "so a loss beyond the margin is not ruled out";
  const values =
    comparison.challengerValue !== undefined && comparison.championValue !== undefined
      ? `challenger ${metric} ${num(comparison.challengerValue)} vs champion ${num(comparison.championValue)}`
      : `${metric} of both models`;
  const test = comparison.test;
  if (test === undefined) {
    return {
      name: "nonInferiority",
      value: null,
      threshold,
      passed: false,
      detail: `${label} not measurable: ${comparison.unavailable ?? "no paired rows"}; a challenger that cannot be compared is not deployed`,
    };
  }
  const [lower, upper] = test.interval;
  const observed = relative
    ? `ratio ${num(test.estimate)} (${level} interval ${num(lower)} to ${num(upper)})`
    : `difference ${signed(test.estimate)} (${level} interval ${signed(lower)} to ${signed(upper)})`;
  const bound = relative
    ? `the interval's upper bound ${num(upper)} is ${test.rejected ? "below" : "not below"} ${num(threshold)}`
    : `the interval's lower bound ${signed(lower)} is ${test.rejected ? "above" : "not above"} ${signed(threshold)}`;
  const verdict = test.rejected
    ? `${hypothesis} is rejected at alpha ${num(alpha)} (${pValueText(test.pValue)}): ${bound}, passed`
    : `${hypothesis} cannot be rejected at alpha ${num(alpha)} (${pValueText(test.pValue)}): ${bound}, ${notRuledOut}, failed`;
  return {
    name: "nonInferiority",
    value: test.estimate,
    threshold,
    interval: test.interval,
    passed: test.rejected,
    detail: `${label}: ${values} on ${num(comparison.rows)} paired rows, ${observed}. ${verdict}. Test: ${test.method}.`,
  };
}

function minimumCheck(gate: ResolvedGate, challenger: ModelMetric): GateCheck | undefined {
  const { metric, minMetric } = gate;
  const value = challenger.value;
  if (value === undefined) {
    return {
      name: "minimum",
      value: null,
      threshold: minMetric ?? Number.NaN,
      passed: false,
      detail: `minimum: challenger ${metric} is not available on the holdout, failed`,
    };
  }
  if (minMetric === undefined) return undefined;
  const better = higherIsBetter(metric);
  const passed = better ? value >= minMetric : value <= minMetric;
  const relation = passed ? (better ? ">=" : "<=") : better ? "<" : ">";
  return {
    name: "minimum",
    value,
    threshold: minMetric,
    passed,
    detail: `minimum: challenger ${metric} ${num(value)} ${relation} ${num(minMetric)} required, ${passed ? "passed" : "failed"}`,
  };
}

/**
 * The holdout's size against the paired test's needs. Coverage needs are always required. Power needs
 * only matter when the test fails: the test's false-pass rate is alpha at any size, so a challenger that
 * passes on a small holdout has shown what it must; one that fails on a holdout too small to pass even an
 * as-good challenger reliably has shown nothing, and the verdict says so instead of calling it worse.
 */
function holdoutCheck(
  gate: ResolvedGate,
  assessment: HoldoutAssessment,
  test: "passed" | "shownWorse" | "undecided",
): GateCheck {
  const first = assessment.needs[0]!;
  const coverage = assessment.shortfalls.filter((n) => n.kind === "coverage");
  const power = assessment.shortfalls.filter((n) => n.kind === "power");
  const counts = assessment.needs.map(describeNeed).join(", ");
  const basis = `(${assessment.basis})`;
  const check = { name: "holdoutSize" as const, value: first.have, threshold: first.need };
  if (coverage.length > 0) {
    return {
      ...check,
      passed: false,
      detail: `holdout too small: ${counts} ${basis}; a class smaller than margin x rows could be misclassified entirely while the ${gate.metric} moved by less than the margin, failed`,
    };
  }
  if (power.length === 0)
    return { ...check, passed: true, detail: `holdout: ${counts} ${basis}, large enough` };
  if (test === "shownWorse") {
    return {
      ...check,
      passed: true,
      detail: `holdout: ${counts} ${basis}: below the size that passes an as-good challenger with power ${num(gate.power)}, but the test's interval lies beyond the margin, so a larger holdout would not change the verdict, passed`,
    };
  }
  if (test === "passed") {
    return {
      ...check,
      passed: true,
      detail: `holdout: ${counts} ${basis}: below the size that passes an as-good challenger with power ${num(gate.power)}, but the test's false-pass rate is alpha at any size and the challenger passed it, passed`,
    };
  }
  return {
    ...check,
    passed: false,
    detail: `insufficient holdout: ${counts} ${basis}: too small to show ${gate.hypothesis === "superiority" ? "that a challenger better by the margin is better" : "that a challenger as good as the champion is within the margin"}, so this result does not show the challenger is worse either; more labelled rows are needed, failed`,
  };
}

/** Agreement of the two models' outputs on the rows both scored validly. */
function agreementOf(
  task: TaskType,
  challenger: RowOutcome[],
  champion: RowOutcome[],
): { value?: number; measure: string; unavailable?: string } {
  const rows = Array.from(challenger.keys()).filter((row) => challenger[row]!.valid && champion[row]!.valid);
  if (task === "multiclass") {
    const value = cohenKappa(
      rows.map((row) => challenger[row]!.predictedClass),
      rows.map((row) => champion[row]!.predictedClass),
    );
    return {
      ...optional("value", value),
      measure: "Cohen's kappa of the two models' predicted classes",
      ...(value === undefined ? { unavailable: "both models predict a single, identical class" } : {}),
    };
  }
  const scored = rows.filter(
    (row) => challenger[row]!.rankValue !== undefined && champion[row]!.rankValue !== undefined,
  );
  const useScores = scored.length >= 2;
  const picked = useScores ? scored : rows;
  const outputOf = (o: RowOutcome) => (useScores ? o.rankValue! : o.predictedClass === "1" ? 1 : 0);
  const x = picked.map((row) => outputOf(challenger[row]!));
  const y = picked.map((row) => outputOf(champion[row]!));
  const what = task === "regression" ? "predictions" : useScores ? "scores" : "predicted classes";
  const value = spearman(x, y);
  const constant = (xs: number[]) => xs.every((v) => v === xs[0]);
  return {
    ...optional("value", value),
    measure: `Spearman rank correlation of the two models' ${what}`,
    ...(value === undefined
      ? {
          unavailable: constant(x)
            ? "the challenger's outputs are constant"
            : "the champion's outputs are constant",
        }
      : {}),
  };
}

/**
 * The rank-agreement guardrail. Two models that score alike on the holdout but order it differently would
 * change what users get with no measured gain, so low agreement fails, unless the challenger is shown
 * better than the champion (the test's interval entirely on the better side of 0, or of a ratio of 1):
 * then the different ordering is the improvement, as after a concept change.
 */
function agreementCheck(
  gate: ResolvedGate,
  agreement: ReturnType<typeof agreementOf>,
  shownBetter: boolean,
): GateCheck {
  const threshold = gate.minAgreement;
  if (agreement.value === undefined) {
    // A constant champion gives nothing to rank against; a constant challenger is itself suspect.
    const passed = agreement.unavailable === "the champion's outputs are constant";
    return {
      name: "agreement",
      value: null,
      threshold,
      passed,
      detail: `agreement not measurable (${agreement.measure}): ${agreement.unavailable}, ${passed ? "passed" : "failed"}`,
    };
  }
  const agrees = agreement.value >= threshold;
  const passed = agrees || shownBetter;
  const verdict = agrees
    ? "passed"
    : shownBetter
      ? `but the challenger is shown better than the champion on the holdout, so the different ordering is the improvement, passed`
      : "failed: the challenger orders the holdout very differently from the champion without being shown better";
  return {
    name: "agreement",
    value: agreement.value,
    threshold,
    passed,
    detail: `agreement: ${agreement.measure} ${num(agreement.value)} ${agrees ? ">=" : "<"} ${num(threshold)} required, ${verdict}`,
  };
}

/**
 * Applies the gate to the paired holdout. A challenger whose metric cannot be measured is rejected (a
 * model we cannot measure is not deployed); without a champion only the challenger's own checks apply.
 */
export function applyValidationGate(gateConfig: ValidationGate, holdout: PairedHoldout): GateVerdict {
  const gate = resolveGate(gateConfig, holdout.task);
  const challengerOutcomes = rowOutcomes(holdout, holdout.challenger);
  const challengerValid = challengerOutcomes.filter((o) => o.valid).length;
  const challenger: ModelMetric = {
    ...optional("value", metricOf(gate.metric, challengerOutcomes)),
    n: challengerValid,
  };
  const championOutcomes =
    holdout.champion === undefined ? undefined : rowOutcomes(holdout, holdout.champion);
  const checks: GateCheck[] = [];
  let champion: ModelMetric | undefined;
  let comparison: Comparison | undefined;
  let agreement: ReturnType<typeof agreementOf> | undefined;
  let assessment: HoldoutAssessment | undefined;
  if (championOutcomes !== undefined) {
    champion = {
      ...optional("value", metricOf(gate.metric, championOutcomes)),
      n: championOutcomes.filter((o) => o.valid).length,
    };
    const bothValid = labelClasses(holdout).filter(
      (_, row) => challengerOutcomes[row]!.valid && championOutcomes[row]!.valid,
    );
    assessment = assessHoldout(gate, holdout.task, bothValid);
    comparison = compare(gate, challengerOutcomes, championOutcomes);
    const test = nonInferiorityCheck(gate, comparison);
    const state = test.passed ? "passed" : shownWorse(gate, comparison) ? "shownWorse" : "undecided";
    checks.push(holdoutCheck(gate, assessment, state), test);
  }
  const minimum = minimumCheck(gate, challenger);
  if (minimum) checks.push(minimum);
  if (championOutcomes !== undefined) {
    agreement = agreementOf(holdout.task, challengerOutcomes, championOutcomes);
    checks.push(agreementCheck(gate, agreement, comparison !== undefined && shownBetter(gate, comparison)));
  }
  const failed = checks.filter((c) => !c.passed);
  return {
    passed: failed.length === 0,
    outcome: outcomeOf(failed, assessment),
    metric: gate.metric,
    margin: gate.margin,
    marginKind: gate.marginKind,
    challenger,
    ...(champion ? { champion } : {}),
    ...(comparison ? { pairedRows: comparison.rows } : {}),
    ...(agreement?.value !== undefined ? { agreement: agreement.value } : {}),
    checks,
    reasons: failed.map((c) => c.detail),
  };
}

/** Whether the test's interval lies entirely beyond its threshold: the challenger is shown worse. */
function shownWorse(gate: ResolvedGate, comparison: Comparison): boolean {
  const interval = comparison.test?.interval;
  if (interval === undefined) return false;
  const threshold = testThreshold(gate);
  return gate.marginKind === "relative" ? interval[0] > threshold : interval[1] < threshold;
}

/** Whether the test's interval lies entirely on the better side of no difference (0, or a ratio of 1). */
function shownBetter(gate: ResolvedGate, comparison: Comparison): boolean {
  const interval = comparison.test?.interval;
  if (interval === undefined) return false;
  return gate.marginKind === "relative" ? interval[1] < 1 : interval[0] > 0;
}

/**
 * Rejected, or undecided for want of rows: the holdout check failed for power (which it does only when
 * the test neither passed nor showed the challenger worse) and nothing else failed but the test.
 */
function outcomeOf(failed: readonly GateCheck[], assessment: HoldoutAssessment | undefined): GateOutcome {
  if (failed.length === 0) return "passed";
  const sizeFailed = failed.some((c) => c.name === "holdoutSize");
  const coverageShort = assessment?.shortfalls.some((n) => n.kind === "coverage") ?? false;
  const onlySizeAndTest = failed.every((c) => c.name === "holdoutSize" || c.name === "nonInferiority");
  return sizeFailed && !coverageShort && onlySizeAndTest ? "insufficientHoldout" : "rejected";
}

/** The verdict in plain words: one line per check, for the approval, success and failure messages. */
export function describeChecks(verdict: GateVerdict): string {
  return verdict.checks.map((c) => `- ${c.detail}`).join("\n");
}
