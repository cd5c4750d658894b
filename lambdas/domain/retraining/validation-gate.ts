/**
 * Validation gate of the retraining workflow: decides whether a freshly trained challenger may replace
 * the champion. Both models are scored on the same holdout; the gate compares their metrics (computed
 * by the same performance code the evaluator uses) and guards against a large shift in what the model
 * predicts. Pure and explainable: every check reports its value, threshold and verdict, so the SNS
 * message and the run record say exactly why a challenger was rejected.
 */
import type { TaskType } from "../../../contracts/model";

/** Metrics the gate can be configured on (names as in the STATS helper's `PerformanceMetrics`). */
export type GateMetric =
  | "accuracy"
  | "precision"
  | "recall"
  | "f1"
  | "auc"
  | "logLoss"
  | "brier"
  | "macroF1"
  | "mae"
  | "rmse"
  | "mape";

const LOWER_IS_BETTER: ReadonlySet<GateMetric> = new Set(["logLoss", "brier", "mae", "rmse", "mape"]);

/** Whether a larger value of the metric means a better model. */
export function higherIsBetter(metric: GateMetric): boolean {
  return !LOWER_IS_BETTER.has(metric);
}

/**
 * Gate configuration. Structurally the parsed `ValidationGateSchema` of contracts/policy.ts (the domain does
 * not import config code), so a parsed policy gate can be passed as is.
 */
export interface ValidationGate {
  /** The metric compared; default per task: auc (binary), macroF1 (multiclass), rmse (regression). */
  readonly metric?: GateMetric;
  /** Absolute floor (or ceiling for lower-is-better metrics) the challenger must meet. */
  readonly minMetric?: number;
  /** Required improvement over the champion, in metric units (0 = at least as good). */
  readonly minImprovement?: number;
  /** Maximum JS distance (base 2) between champion and challenger prediction distributions. */
  readonly maxPredictionShift?: number;
  /** Minimum holdout rows for the comparison to count. */
  readonly minHoldout?: number;
}

/** Metric values of one model on the holdout; undefined when the task does not define the metric. */
export type MetricValues = Readonly<Partial<Record<GateMetric, number>>> & { readonly n?: number };

export interface GateInput {
  readonly task: TaskType;
  readonly challenger: MetricValues;
  /** Absent on the very first training of a model (nothing to compare against). */
  readonly champion?: MetricValues;
  /** From `predictionShift`; absent without a champion. */
  readonly predictionShift?: number;
}

export interface GateCheck {
  readonly name: "holdoutSize" | "minimum" | "improvement" | "predictionShift";
  readonly value: number | null;
  readonly threshold: number;
  readonly passed: boolean;
  readonly detail: string;
}

export interface GateVerdict {
  readonly passed: boolean;
  readonly metric: GateMetric;
  readonly checks: readonly GateCheck[];
  /** Human-readable reasons for a rejection (empty when passed). */
  readonly reasons: readonly string[];
}

/** The gate metric unspecified in the policy is derived from the task. */
export function defaultGateMetric(task: TaskType): GateMetric {
  return task === "binary" ? "auc" : task === "multiclass" ? "macroF1" : "rmse";
}

/** A metric value in the gate's reasons: integers as is, else 4 significant digits. */
const metricText = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(4));

/**
 * Applies the gate. A missing challenger metric is a rejection (a model we cannot measure is not
 * deployed); a missing champion skips the improvement and shift checks (first model).
 */
export function applyValidationGate(gate: ValidationGate, input: GateInput): GateVerdict {
  const metric = gate.metric ?? defaultGateMetric(input.task);
  const better = higherIsBetter(metric);
  const checks: GateCheck[] = [];
  const challenger = input.challenger[metric];
  const champion = input.champion?.[metric];

  if (gate.minHoldout !== undefined) {
    const n = input.challenger.n ?? 0;
    checks.push({
      name: "holdoutSize",
      value: n,
      threshold: gate.minHoldout,
      passed: n >= gate.minHoldout,
      detail: `holdout rows ${n} >= ${gate.minHoldout} required`,
    });
  }

  if (gate.minMetric !== undefined) {
    const min = gate.minMetric;
    const passed = challenger !== undefined && (better ? challenger >= min : challenger <= min);
    checks.push({
      name: "minimum",
      value: challenger ?? null,
      threshold: min,
      passed,
      detail:
        challenger === undefined
          ? `challenger ${metric} is not available`
          : `challenger ${metric} ${metricText(challenger)} ${better ? ">=" : "<="} ${metricText(min)} required`,
    });
  } else if (challenger === undefined) {
    checks.push({
      name: "minimum",
      value: null,
      threshold: Number.NaN,
      passed: false,
      detail: `challenger ${metric} is not available`,
    });
  }

  const minImprovement = gate.minImprovement ?? 0;
  if (input.champion !== undefined) {
    const improvement =
      challenger !== undefined && champion !== undefined
        ? better
          ? challenger - champion
          : champion - challenger
        : undefined;
    checks.push({
      name: "improvement",
      value: improvement ?? null,
      threshold: minImprovement,
      passed: improvement !== undefined && improvement >= minImprovement,
      detail:
        improvement === undefined
          ? `${metric} missing for ${challenger === undefined ? "challenger" : "champion"}`
          : `challenger ${metric} ${metricText(challenger!)} vs champion ${metricText(champion!)}: improvement ${metricText(improvement)} >= ${metricText(minImprovement)} required`,
    });
  }

  if (gate.maxPredictionShift !== undefined && input.predictionShift !== undefined) {
    checks.push({
      name: "predictionShift",
      value: input.predictionShift,
      threshold: gate.maxPredictionShift,
      passed: input.predictionShift <= gate.maxPredictionShift,
      detail: `prediction shift ${metricText(input.predictionShift)} <= ${metricText(gate.maxPredictionShift)} allowed`,
    });
  }

  const failed = checks.filter((c) => !c.passed);
  return {
    passed: failed.length === 0,
    metric,
    checks,
    reasons: failed.map((c) => `${c.name}: ${c.detail}`),
  };
}

/** Jensen-Shannon distance, base 2, between two frequency vectors (normalized here), in [0, 1]. */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  if (sp === 0 || sq === 0) return 0;
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const a = (p[i] ?? 0) / sp;
    const b = (q[i] ?? 0) / sq;
    const m = (a + b) / 2;
    if (a > 0) d += 0.5 * a * Math.log2(a / m);
    if (b > 0) d += 0.5 * b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, d));
}

/** Linear-interpolation quantile of sorted values (as numpy.quantile's default). */
function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

/**
 * Shift between the champion's and the challenger's predictions on the same holdout rows, as the JS
 * distance (base 2) of the two prediction distributions, the definition the policy's
 * `maxPredictionShift` uses. Classes: over predicted-class frequencies. Numbers (regression values or
 * binary scores): over `bins` bins with edges at the champion's quantiles i/bins (duplicates merged; a
 * value equal to an edge goes to the bin above), as the pinned drift definitions. Scoring both models on
 * the same rows removes sampling noise from the comparison.
 */
export function predictionShift(
  champion: readonly (number | string)[],
  challenger: readonly (number | string)[],
  bins = 10,
): number {
  if (champion.length === 0 || challenger.length === 0) return 0;
  const numeric = [...champion, ...challenger].every((x) => typeof x === "number" && Number.isFinite(x));
  if (!numeric) {
    const keys = [...new Set([...champion, ...challenger].map(String))];
    const index = new Map(keys.map((k, i) => [k, i]));
    const count = (xs: readonly (number | string)[]) => {
      const c = new Array<number>(keys.length).fill(0);
      for (const x of xs) {
        const i = index.get(String(x))!;
        c[i] = (c[i] ?? 0) + 1;
      }
      return c;
    };
    return jensenShannonDistance(count(champion), count(challenger));
  }
  const ref = (champion as number[]).slice().sort((a, b) => a - b);
  const edges = [
    ...new Set(Array.from({ length: bins - 1 }, (_, i) => quantileSorted(ref, (i + 1) / bins))),
  ].sort((a, b) => a - b);
  const count = (xs: readonly number[]) => {
    const c = new Array<number>(edges.length + 1).fill(0);
    for (const x of xs) {
      let b = 0;
      while (b < edges.length && x >= edges[b]!) b++;
      c[b] = (c[b] ?? 0) + 1;
    }
    return c;
  };
  return jensenShannonDistance(count(champion as number[]), count(challenger as number[]));
}
