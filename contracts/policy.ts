/**
 * Trigger policy: when a model is retrained, when the team is only alerted, and what keeps the
 * trigger from firing on noise, broken data or in a loop. One JSON-serializable policy per model,
 * validated by the single zod schema below everywhere (synth time via contracts/config.ts, the evaluator
 * Lambda, local mode, replay). Every default lives here, next to the field it belongs to, so that the
 * documentation (docs/policy.md) and the behaviour cannot drift apart.
 *
 * Also the schemas the retraining workflow reads: the validation gate a challenger must pass and the
 * approval step.
 */
import { Cron } from "croner";
import { z } from "zod";

/** Severity of a decision, carried as the SNS message attribute `severity` so subscribers can filter. */
export const SEVERITIES = ["info", "warn", "retrain"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Drift metrics a policy may threshold (definitions pinned in docs/statistics.md, "Pinned definitions"). */
export const NUMERIC_DRIFT_METHODS = ["psi", "jensenShannon", "ks", "wassersteinNormalized"] as const;
export const CATEGORICAL_DRIFT_METHODS = ["psi", "jensenShannon", "lInfinity"] as const;
export type NumericDriftMethod = (typeof NUMERIC_DRIFT_METHODS)[number];
export type CategoricalDriftMethod = (typeof CATEGORICAL_DRIFT_METHODS)[number];
export type DriftMethod = NumericDriftMethod | CategoricalDriftMethod;

/**
 * Default threshold per drift method: common effect-size conventions (PSI 0.2 "significant shift",
 * JS distance 0.1, KS D 0.1, W1 of a tenth of a reference standard deviation, 10 percentage points of
 * category frequency). Distances, never p-values: with large samples every p-value is tiny.
 */
export const DEFAULT_DRIFT_THRESHOLDS: Readonly<Record<DriftMethod, number>> = {
  psi: 0.2,
  jensenShannon: 0.1,
  ks: 0.1,
  wassersteinNormalized: 0.1,
  lInfinity: 0.1,
};

/** Performance metrics and whether larger is better (decides the direction of a "drop"). */
export const PERFORMANCE_METRICS = {
  accuracy: true,
  precision: true,
  recall: true,
  f1: true,
  auc: true,
  macroF1: true,
  logLoss: false,
  brier: false,
  mae: false,
  rmse: false,
  mape: false,
} as const;
export type PerformanceMetricName = keyof typeof PERFORMANCE_METRICS;
const performanceMetricNames = Object.keys(PERFORMANCE_METRICS) as [
  PerformanceMetricName,
  ...PerformanceMetricName[],
];

/** Learning tasks, as the configuration names them. */
export type Task = "binary" | "multiclass" | "regression";

/** The performance metrics each task produces. */
export const TASK_METRICS: Readonly<Record<Task, readonly PerformanceMetricName[]>> = {
  binary: ["accuracy", "precision", "recall", "f1", "auc", "logLoss", "brier"],
  multiclass: ["accuracy", "macroF1", "logLoss"],
  regression: ["mae", "rmse", "mape"],
};

/** The metric watched (and gated on) when the policy names none: it follows the task. */
export const DEFAULT_TASK_METRIC: Readonly<Record<Task, PerformanceMetricName>> = {
  binary: "accuracy",
  multiclass: "accuracy",
  regression: "rmse",
};

/** Metrics the label-free estimate (CBPE) can produce from calibrated binary scores. */
export const ESTIMATED_METRICS = ["accuracy", "precision", "recall", "f1"] as const;
export type EstimatedMetricName = (typeof ESTIMATED_METRICS)[number];

/**
 * Names of the signals a rule can reference. Per-feature drift verdicts are reported as
 * `featureDrift:<feature>` and roll up into `drift`; data-quality checks roll up into `dataQuality`.
 */
export const SIGNAL_NAMES = [
  "performance",
  "estimatedPerformance",
  "drift",
  "predictionDrift",
  "labelVolume",
  "modelAge",
  "schedule",
  "dataQuality",
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** Scalar signals whose threshold may be adaptive (control limits from their own history). */
export const ADAPTIVE_SIGNALS = [
  "performance",
  "estimatedPerformance",
  "drift",
  "predictionDrift",
  "volume",
] as const;
export type AdaptiveSignalName = (typeof ADAPTIVE_SIGNALS)[number];

const fraction = z.number().min(0).max(1);
const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);

const cronExpression = z.string().refine(
  (expr) => {
    try {
      new Cron(expr, { paused: true });
      return true;
    } catch {
      return false;
    }
  },
  { message: "not a valid cron expression (5 or 6 fields, e.g. '0 3 * * 1')" },
);

/** An IANA time zone name, as Intl (and so croner and EventBridge Scheduler) accepts it. */
export const TimezoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: "not an IANA time zone (e.g. 'UTC', 'Europe/Paris')" },
);

/** Realized performance from joined labels: floor and relative drop versus the baseline's value. */
export const PerformanceSignalSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Metric to watch; one the model's task produces. Default: the task's (accuracy for classifiers, rmse for regression). */
    metric: z.enum(performanceMetricNames).optional(),
    /** Absolute limit: below it (above it for error metrics) the signal breaches regardless of the baseline. */
    floor: z.number().optional(),
    /** Relative degradation versus the baseline's metric that breaches, e.g. 0.05 = 5 % worse. */
    maxRelativeDrop: z.number().min(0).max(10).default(0.05),
    /**
     * Minimum of the metric's own denominator (labelled pairs for accuracy, positives for recall, predicted
     * positives for precision, the smaller class for AUC) before the metric is judged; below it the window
     * widens (up to `maxWindowHours`), then the signal is skipped.
     */
    minLabels: positiveInt.default(100),
    /**
     * Significance of the one-sided test "the window is worse than the limit", which includes the
     * window's and the baseline's sampling error. 0.001 per evaluation: about 3 % false alarms a month
     * over the 30 daily windows (Bonferroni over the looks).
     */
    alpha: z.number().gt(0).lt(0.5).default(0.001),
    /**
     * Hours of mature buckets whose labelled pairs are scored; default: the policy's windowHours. The
     * evaluator finds the latest window whose labels have arrived (from the label coverage of each
     * bucket), so late labels need no setting here.
     */
    windowHours: z
      .number()
      .positive()
      .max(24 * 31)
      .optional(),
  })
  .strict();

/**
 * Label-free performance estimate for binary classifiers (confidence-based performance estimation in
 * the spirit of NannyML's CBPE): if scores are calibrated, P(correct) of each prediction is known
 * from its score, so the expected confusion matrix and metrics follow without labels. Used while
 * labels are late; assumes covariate shift only (P(y|x) unchanged).
 */
export const EstimatedPerformanceSignalSchema = z
  .object({
    enabled: z.boolean().default(true),
    metric: z.enum(ESTIMATED_METRICS).default("accuracy"),
    /** Relative drop of the estimate versus the same estimate on the baseline that breaches. */
    maxRelativeDrop: z.number().min(0).max(1).default(0.05),
    /** Absolute floor for the estimate. */
    floor: fraction.optional(),
    /** Score threshold that turns a score into the positive class. */
    decisionThreshold: fraction.default(0.5),
    /**
     * Minimum scored predictions in the window, and minimum labelled scores in the baseline to calibrate
     * the scores on.
     */
    minSamples: positiveInt.default(500),
    /** Significance of the one-sided test of the estimate against its limit (as for realized performance). */
    alpha: z.number().gt(0).lt(0.5).default(0.001),
  })
  .strict();

/** Per-feature override of the drift settings. */
export const FeatureDriftOverrideSchema = z
  .object({
    threshold: z.number().positive().optional(),
    /** Excluded from drift verdicts and from the drifted share (e.g. an id-like or expected-to-move feature). */
    ignore: z.boolean().default(false),
  })
  .strict();

/** Data drift per feature and aggregated over features. */
export const DriftSignalSchema = z
  .object({
    enabled: z.boolean().default(true),
    numericMethod: z.enum(NUMERIC_DRIFT_METHODS).default("psi"),
    categoricalMethod: z.enum(CATEGORICAL_DRIFT_METHODS).default("jensenShannon"),
    /** Threshold for numeric features; default: DEFAULT_DRIFT_THRESHOLDS[numericMethod]. */
    numericThreshold: z.number().positive().optional(),
    /** Threshold for categorical features; default: DEFAULT_DRIFT_THRESHOLDS[categoricalMethod]. */
    categoricalThreshold: z.number().positive().optional(),
    /** Minimum non-missing values on BOTH sides (baseline and window) before a feature is judged. */
    minSamples: positiveInt.default(500),
    /**
     * A feature breaches only when its distance also exceeds what sampling alone reaches at these sample
     * sizes with probability `alpha` (the noise floor, stats/noise.ts). Per feature and evaluation.
     */
    alpha: z.number().gt(0).lt(0.5).default(1e-4),
    /** Share of judged features (importance-weighted if `weighting` says so) that must drift for `drift` to breach. */
    maxDriftedShare: fraction.default(0.3),
    /** `importance`: weight features by FeatureSpec.importance (missing importance = 1); `uniform`: count them. */
    weighting: z.enum(["uniform", "importance"]).default("importance"),
    /** Per-feature overrides, by feature name. */
    features: z.record(z.string(), FeatureDriftOverrideSchema).default({}),
  })
  .strict();

/** Drift of the model's output distribution (predicted class or value, and the score for binary tasks). */
export const PredictionDriftSignalSchema = z
  .object({
    enabled: z.boolean().default(true),
    method: z.enum(["psi", "jensenShannon", "ks"]).default("jensenShannon"),
    threshold: z.number().positive().default(0.1),
    minSamples: positiveInt.default(500),
    /** Significance of the noise floor the output's distance must also exceed (as for features). */
    alpha: z.number().gt(0).lt(0.5).default(1e-4),
  })
  .strict();

/** Enough new ground truth has accumulated since the last training to make a retrain worthwhile. */
export const LabelVolumeSignalSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** New labelled pairs since the champion was trained that breach. */
    minNewLabels: positiveInt.default(50_000),
  })
  .strict();

/** Model age and calendar schedule: retrain periodically whatever the data says. */
export const ModelAgeSignalSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Champion older than this (days since it was trained) breaches `modelAge`. */
    maxAgeDays: z.number().positive().default(30),
    /** Cron expression (croner syntax); an occurrence after the last training breaches `schedule`. */
    schedule: cronExpression.optional(),
    timezone: TimezoneSchema.default("UTC"),
  })
  .strict();

/** Checks on the incoming data itself: breaches mean "broken pipeline", not "model needs retraining". */
export const DataQualitySignalSchema = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * Missing-rate and quarantine checks judge every sub-window of this many hours since the previous
     * evaluation (whatever the schedule), each on its own: a two-hour outage must not be diluted by 22
     * healthy hours, nor fall between two evaluations.
     */
    windowHours: z.number().positive().default(1),
    /** Absolute increase of a feature's missing rate versus the baseline that breaches (0.2 = +20 points). */
    maxMissingRateIncrease: fraction.default(0.2),
    /** Quarantined / received records in the window that breaches. */
    maxQuarantineRate: fraction.default(0.05),
    /**
     * Event volume collapse: the window's events per hour below this fraction of the baseline's rate
     * (and of the median of recent evaluations) breaches.
     */
    minVolumeRatio: fraction.default(0.2),
    /**
     * Sub-windows with fewer received records skip the rate checks. Small on purpose: each check also
     * needs its increase to exceed the sampling noise at its size (`alpha`).
     */
    minEvents: nonNegativeInt.default(20),
    /**
     * Significance of the noise floor a missing-rate or quarantine-rate increase must also exceed, per
     * check, Bonferroni-corrected over the sub-windows and features judged.
     */
    alpha: z.number().gt(0).lt(0.5).default(1e-4),
    /**
     * A data-quality breach that lasts this long stops gating retraining and escalates: the data may
     * have changed for good (the baseline is outdated) or the pipeline needs fixing; the alert says how
     * to re-baseline. The gate never blocks retraining forever.
     */
    maxGateHours: z.number().positive().default(48),
  })
  .strict();

export const SignalsSchema = z
  .object({
    performance: PerformanceSignalSchema.prefault({}),
    estimatedPerformance: EstimatedPerformanceSignalSchema.prefault({}),
    drift: DriftSignalSchema.prefault({}),
    predictionDrift: PredictionDriftSignalSchema.prefault({}),
    labelVolume: LabelVolumeSignalSchema.prefault({}),
    modelAge: ModelAgeSignalSchema.prefault({}),
    dataQuality: DataQualitySignalSchema.prefault({}),
  })
  .strict();

/**
 * A rule tree: a signal name (true when that signal breached), `all` / `any` of sub-rules, or a
 * weighted `score` over signals (each contributes weight x strength, strength in [0, 1] being 1 when
 * breached and the fraction of the way to its threshold otherwise) compared with a threshold.
 */
export type Rule =
  | SignalName
  | { readonly all: readonly Rule[] }
  | { readonly any: readonly Rule[] }
  | { readonly score: { readonly weights: Partial<Record<SignalName, number>>; readonly threshold: number } };

export const RuleSchema: z.ZodType<Rule> = z.lazy(() =>
  z.union(
    [
      z.enum(SIGNAL_NAMES),
      z.object({ all: z.array(RuleSchema).min(1) }).strict(),
      z.object({ any: z.array(RuleSchema).min(1) }).strict(),
      z
        .object({
          score: z
            .object({
              weights: z.partialRecord(z.enum(SIGNAL_NAMES), z.number().min(0)),
              threshold: z.number().positive(),
            })
            .strict(),
        })
        .strict(),
    ],
    {
      error: `expected a signal name (${SIGNAL_NAMES.join(", ")}) or {"all": [...]}, {"any": [...]}, {"score": {"weights", "threshold"}}`,
    },
  ),
);

/** Default retrain rule: measured or estimated performance loss, or a due age/schedule/volume trigger. Drift alone alerts. */
export const DEFAULT_RULE: Rule = {
  any: ["performance", "estimatedPerformance", "labelVolume", "modelAge", "schedule"],
};

/**
 * Adaptive control limits for a scalar signal: mean ± k·σ of its own values over a reference period of
 * evaluations after each deployment (breached evaluations left out). The limits hold until the next
 * deployment, so a slow decline cannot walk them down; history before a deployment never counts.
 */
export const AdaptiveThresholdSchema = z
  .object({
    enabled: z.boolean().default(false),
    signals: z.array(z.enum(ADAPTIVE_SIGNALS)).default(["drift", "predictionDrift", "estimatedPerformance"]),
    /** Width of the control band in standard deviations. */
    k: z.number().positive().default(3),
    /**
     * Hours of evaluations after a deployment (or after a reference-window baseline, before the first
     * deployment) whose values set the limits. Until the period is over the static threshold applies.
     */
    referenceHours: z
      .number()
      .positive()
      .default(24 * 14),
    /**
     * Compare only with evaluations at the same hour of the week (weekly seasonality). Needs
     * referenceHours of at least minHistory weeks, so every hour of the week has minHistory values.
     */
    seasonal: z.boolean().default(false),
    /** Fewer reference values than this and the static threshold applies. */
    minHistory: positiveInt.default(12),
    /**
     * The adaptive limit never makes a signal more sensitive than its static threshold (true), so a
     * very quiet history cannot turn noise into breaches. For performance the static limit is a hard
     * bound either way: an adaptive limit may only tighten it.
     */
    neverTighterThanStatic: z.boolean().default(true),
  })
  .strict()
  .superRefine((a, ctx) => {
    const weeks = a.referenceHours / (24 * 7);
    if (a.enabled && a.seasonal && weeks < a.minHistory)
      ctx.addIssue({
        code: "custom",
        path: ["referenceHours"],
        message: `seasonal limits compare each evaluation with those at the same hour of the week: referenceHours ${a.referenceHours} holds ${Math.floor(weeks)} week(s), fewer than minHistory (${a.minHistory}); set referenceHours to at least ${a.minHistory * 24 * 7} or turn seasonal off`,
      });
  });

export const StabilitySchema = z
  .object({
    /** The retrain rule must hold in at least `m` of the last `n` evaluations (this one included). */
    persistence: z
      .object({ m: positiveInt.default(2), n: positiveInt.default(3) })
      .strict()
      .refine((p) => p.m <= p.n, { message: "persistence.m must be <= persistence.n" })
      .prefault({}),
    /** No new retrain for this long after a retrain started or a deploy completed. */
    cooldownHours: z.number().min(0).default(24),
    /** At most `maxRetrains` retrains started in any `periodDays`-day period. */
    budget: z
      .object({ maxRetrains: positiveInt.default(4), periodDays: z.number().positive().default(30) })
      .strict()
      .prefault({}),
    adaptive: AdaptiveThresholdSchema.prefault({}),
    /** When data quality breaches, alert and do not retrain (training on broken data bakes the break in). */
    dataQualityGate: z.boolean().default(true),
  })
  .strict();

/** Which evaluations are alerted on SNS (decisions are always recorded). */
export const AlertingSchema = z
  .object({
    /** Lowest severity published. */
    minSeverity: z.enum(SEVERITIES).default("warn"),
    /** Drifted features listed in the message. */
    topFeatures: positiveInt.max(50).default(5),
  })
  .strict();

export const TriggerPolicySchema = z
  .object({
    /** Size of the evaluated window (merged bucket profiles), in hours, ending at the evaluation time. */
    windowHours: z
      .number()
      .positive()
      .max(24 * 31)
      .default(24),
    /**
     * Low-volume models are not left blind: when a window holds fewer samples than a signal's minimum,
     * it widens (older buckets are added) up to this many hours, and the decision record says so.
     */
    maxWindowHours: z
      .number()
      .positive()
      .max(24 * 31)
      .default(24 * 7),
    /**
     * When no baseline was stored by a training run, the first `referenceWindowHours` of data after the
     * deploy become the baseline.
     */
    referenceWindowHours: z
      .number()
      .positive()
      .default(24 * 7),
    signals: SignalsSchema.prefault({}),
    rule: RuleSchema.default(DEFAULT_RULE),
    stability: StabilitySchema.prefault({}),
    alerting: AlertingSchema.prefault({}),
    /** Decision records expire after this many days (DynamoDB TTL). */
    decisionRetentionDays: positiveInt.default(90),
  })
  .strict();

export type TriggerPolicy = z.infer<typeof TriggerPolicySchema>;
export type TriggerPolicyInput = z.input<typeof TriggerPolicySchema>;
export type DriftSignalConfig = z.infer<typeof DriftSignalSchema>;
export type PerformanceSignalConfig = z.infer<typeof PerformanceSignalSchema>;
export type EstimatedPerformanceSignalConfig = z.infer<typeof EstimatedPerformanceSignalSchema>;
export type PredictionDriftSignalConfig = z.infer<typeof PredictionDriftSignalSchema>;
export type LabelVolumeSignalConfig = z.infer<typeof LabelVolumeSignalSchema>;
export type ModelAgeSignalConfig = z.infer<typeof ModelAgeSignalSchema>;
export type DataQualitySignalConfig = z.infer<typeof DataQualitySignalSchema>;
export type StabilityConfig = z.infer<typeof StabilitySchema>;
export type AdaptiveThresholdConfig = z.infer<typeof AdaptiveThresholdSchema>;

/** The policy with every default filled in. */
export const DEFAULT_TRIGGER_POLICY: TriggerPolicy = TriggerPolicySchema.parse({});

/**
 * How a metric's non-inferiority margin is expressed: in metric units for the bounded, higher-is-better
 * metrics (accuracy, precision, recall, F1, macro F1, AUC), as a fraction of the champion's value for the
 * error metrics (log loss, Brier, MAE, RMSE, MAPE), whose units are the data's.
 */
export type GateMarginKind = "absolute" | "relative";

/** The margin kind of a metric: absolute when larger is better (bounded scores), relative for errors. */
export function gateMarginKind(metric: PerformanceMetricName): GateMarginKind {
  return PERFORMANCE_METRICS[metric] ? "absolute" : "relative";
}

/**
 * Default non-inferiority margins: one point of accuracy-like metrics and AUC, 5 % of the champion's error.
 * Small enough that a challenger losing what users notice (two points, ten percent) cannot pass, large
 * enough that the holdout the test needs stays in the thousands of rows (docs/workflow.md, "Holdout sizing").
 */
export const DEFAULT_GATE_MARGIN: Readonly<Record<GateMarginKind, number>> = {
  absolute: 0.01,
  relative: 0.05,
};

/** Fields of earlier gate versions, refused with what replaced them (a strict schema would only say "unrecognized"). */
const REPLACED_GATE_FIELDS: Readonly<Record<string, string>> = {
  minImprovement:
    "replaced by margin: the gate now passes a challenger shown (one-sided test at alpha) to be no worse than the champion by more than margin; remove minImprovement and set margin (> 0) if the default does not suit",
  maxPredictionShift:
    "replaced by minAgreement: the guardrail now compares how the two models rank the holdout (Spearman, or Cohen's kappa of classes), not the distance between their score distributions",
  minHoldout:
    "removed: the minimum holdout is derived from margin, alpha, power and assumedDiscordance/assumedLossCv (docs/workflow.md, Holdout sizing)",
};

/**
 * What a challenger must achieve on the shared holdout before it may replace the champion: a paired
 * non-inferiority test on the rows both models scored. H0 "the challenger is worse than the champion by
 * more than `margin`" must be rejected at `alpha` (one-sided; with `hypothesis: "superiority"`, H0 "it is
 * not better"). The holdout is sized for that test to pass an as-good challenger with probability `power`
 * (a smaller one gives "insufficient holdout" unless the test decides anyway); the challenger must meet
 * `minMetric`; and the two models must rank the holdout alike (`minAgreement`) unless it is shown better.
 * docs/workflow.md, "Validation gate and approval".
 */
export const ValidationGateSchema = z.strictObject(
  {
    /** Holdout metric compared; default: the task's (DEFAULT_TASK_METRIC: accuracy for classifiers, rmse for regression). */
    metric: z.enum(performanceMetricNames).optional(),
    /**
     * Non-inferiority margin: how much worse than the champion the challenger may be. In metric units for
     * accuracy-like metrics and AUC (0.01 = one point), a fraction of the champion's value for error metrics
     * (0.05 = 5 % higher error). Default: DEFAULT_GATE_MARGIN of the metric's kind.
     */
    margin: z.number().gt(0).lt(1).optional(),
    /**
     * What the challenger must show. `nonInferiority`: that it is no worse than the champion by more than
     * `margin`. `superiority`: that it is better than the champion (any amount); `margin` is then the
     * improvement the holdout is sized to detect with `power`.
     */
    hypothesis: z.enum(["nonInferiority", "superiority"]).default("nonInferiority"),
    /** One-sided significance of the test: the largest chance of passing a challenger worse by the margin (not better, for superiority). */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /** Chance that the sized holdout passes a challenger exactly as good as the champion (holdout sizing). */
    power: z.number().gt(0.5).lt(1).default(0.8),
    /**
     * Holdout sizing assumption for classifier metrics: the share of rows on which exactly one of the two
     * models is right (0.1 reproduces the gate error rates measured in issue 13).
     */
    assumedDiscordance: z.number().gt(0).max(1).default(0.1),
    /**
     * Holdout sizing assumption for error metrics: standard deviation of the per-row loss difference
     * (squared errors for rmse) divided by the champion's mean loss.
     */
    assumedLossCv: z.number().gt(0).max(100).default(1),
    /** Absolute floor (ceiling for error metrics) on the challenger's holdout metric. */
    minMetric: z.number().optional(),
    /**
     * Minimum agreement of the two models' outputs on the holdout: Spearman rank correlation of the scores
     * (binary) or predictions (regression), Cohen's kappa of the predicted classes (multiclass). Rankings,
     * so a challenger with sharper or softer scores but the same order agrees fully. Not required of a
     * challenger shown better than the champion (after a concept change the better model ranks differently).
     */
    minAgreement: z.number().min(-1).max(1).default(0.5),
  },
  {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") return undefined;
      const keys = (issue as { keys?: readonly string[] }).keys ?? [];
      const replaced = keys.filter((k) => REPLACED_GATE_FIELDS[k] !== undefined);
      if (replaced.length === 0) return undefined;
      return replaced.map((k) => `${k}: ${REPLACED_GATE_FIELDS[k]}`).join("; ");
    },
  },
);
export type ValidationGate = z.infer<typeof ValidationGateSchema>;

/** Whether a human must approve a validated challenger before deployment. */
export const ApprovalSchema = z
  .object({
    /** `never`: deploy automatically; `always`: wait for approval; `bySeverity`: wait when the decision's severity is in `severities`. */
    required: z.enum(["never", "always", "bySeverity"]).default("never"),
    severities: z.array(z.enum(SEVERITIES)).default(["retrain"]),
    /** Unanswered approvals expire (the run fails safe: champion unchanged, lease released). */
    timeoutHours: z
      .number()
      .positive()
      .max(24 * 7)
      .default(24),
  })
  .strict();
export type Approval = z.infer<typeof ApprovalSchema>;

/** Raised for an invalid policy; the message names every offending field path. */
export class PolicyError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = "PolicyError";
  }
}

/** Formats zod issues as `path.to.field: message` lines, the path prefixed by `prefix`. */
export function formatIssues(error: z.ZodError, prefix = ""): { path: string; message: string }[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    return { path: path || "(root)", message: issue.message };
  });
}

/**
 * Parses and defaults a policy; throws PolicyError naming each invalid field (e.g.
 * `signals.drift.maxDriftedShare: Too big: expected number to be <=1`).
 */
export function parsePolicy(input: unknown, prefix = "policy"): TriggerPolicy {
  const result = TriggerPolicySchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = formatIssues(result.error, prefix);
  throw new PolicyError(
    `invalid trigger policy: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    issues,
  );
}

/** Signal names a rule references (to know which breaches can cause a retrain rather than an alert). */
export function ruleSignals(rule: Rule): Set<SignalName> {
  const out = new Set<SignalName>();
  const walk = (r: Rule): void => {
    if (typeof r === "string") out.add(r);
    else if ("all" in r) r.all.forEach(walk);
    else if ("any" in r) r.any.forEach(walk);
    else for (const name of Object.keys(r.score.weights)) out.add(name as SignalName);
  };
  walk(rule);
  return out;
}

/** Effective drift threshold of a feature: per-feature override, else the policy's, else the method default. */
export function driftThreshold(
  drift: DriftSignalConfig,
  feature: string,
  kind: "numeric" | "categorical",
): number {
  const override = drift.features[feature]?.threshold;
  if (override !== undefined) return override;
  if (kind === "numeric") return drift.numericThreshold ?? DEFAULT_DRIFT_THRESHOLDS[drift.numericMethod];
  return drift.categoricalThreshold ?? DEFAULT_DRIFT_THRESHOLDS[drift.categoricalMethod];
}

/** The performance metric a policy watches for a task: the configured one, else the task's default. */
export function performanceMetricOf(
  policy: Pick<TriggerPolicy, "signals">,
  task: Task,
): PerformanceMetricName {
  return policy.signals.performance.metric ?? DEFAULT_TASK_METRIC[task];
}

/**
 * The metric a validation gate compares for a task: the configured one, else the task's default. The one
 * source of the gate's default metric (the workflow's gate and its holdout sizing both call it).
 */
export function gateMetricOf(gate: Pick<ValidationGate, "metric">, task: Task): PerformanceMetricName {
  return gate.metric ?? DEFAULT_TASK_METRIC[task];
}

/** The non-inferiority margin of a gate for a metric: the configured one, else the default of its kind. */
export function gateMarginOf(gate: Pick<ValidationGate, "margin">, metric: PerformanceMetricName): number {
  return gate.margin ?? DEFAULT_GATE_MARGIN[gateMarginKind(metric)];
}
