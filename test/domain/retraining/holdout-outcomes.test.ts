/**
 * The gate's per-row outcomes must measure what the evaluator measures: over every row, each metric equals
 * `performanceMetrics` of the profile built by the ingest path's `addOutcome` (AUC excepted: exact here,
 * from binned scores there).
 */
import { describe, expect, it } from "vitest";
import type { TaskType } from "../../../contracts/model";
import { TASK_METRICS } from "../../../contracts/policy";
import { profileHoldout, type ScoredOutput } from "../../../lambdas/domain/retraining/holdout-evaluation";
import { metricOf, rowOutcomes } from "../../../lambdas/domain/retraining/holdout-outcomes";
import { mulberry32 } from "../../../lambdas/domain/stats/mulberry32";
import { performanceMetrics } from "../../../lambdas/domain/stats/performance";

function holdout(task: TaskType, n: number, seed: number) {
  const random = mulberry32(seed);
  const labels: (number | string)[] = [];
  const outputs: ScoredOutput[] = [];
  for (let row = 0; row < n; row++) {
    if (task === "binary") {
      const y = random() < 0.3 ? "churn" : "stay";
      // Some scores out of range: the profile counts them invalid, and so must the outcomes.
      const score =
        row % 97 === 0 ? 1.2 : Math.min(1, Math.max(0, (y === "churn" ? 0.3 : 0) + random() * 0.7));
      labels.push(y);
      outputs.push({ prediction: score >= 0.5 ? "churn" : "stay", score });
    } else if (task === "multiclass") {
      const classes = ["a", "b", "c"];
      const y = classes[Math.floor(random() * 3)]!;
      const prediction = random() < 0.7 ? y : classes[Math.floor(random() * 3)]!;
      const p = 0.2 + 0.6 * random();
      labels.push(y);
      outputs.push({
        prediction,
        ...(row % 5 === 0
          ? {}
          : { probabilities: { [y]: p, [prediction === y ? "other" : prediction]: 1 - p } }),
      });
    } else {
      const y = row % 11 === 0 ? 0 : 10 * random() - 2;
      labels.push(y);
      outputs.push({ prediction: row % 53 === 0 ? "n/a" : y + random() - 0.5 });
    }
  }
  return { labels, outputs };
}

describe("metricOf over every row equals the profile's performanceMetrics", () => {
  it.each(["binary", "multiclass", "regression"] as const)("%s", (task) => {
    const { labels, outputs } = holdout(task, 1500, 42);
    const classes = task === "binary" ? ["stay", "churn"] : undefined;
    const spec = { task, features: {}, ...(classes ? { classes } : {}) };
    const profile = profileHoldout(
      spec,
      labels.map((label) => ({ features: {}, label })),
      outputs,
    );
    const expected = performanceMetrics(profile.performance) as unknown as Record<string, number>;
    const outcomes = rowOutcomes({ task, labels, ...(classes ? { positive: "churn" } : {}) }, outputs);
    expect(outcomes.filter((o) => o.valid)).toHaveLength(profile.performance.n);
    for (const metric of TASK_METRICS[task]) {
      const value = metricOf(metric, outcomes);
      if (metric === "auc") expect(Math.abs(value! - expected.auc!), "auc").toBeLessThan(0.01);
      else expect(value, metric).toBeCloseTo(expected[metric]!, 12);
    }
  });

  it("AUC is exact: the share of (positive, negative) pairs ranked right, ties counting one half", () => {
    const outcomes = rowOutcomes({ task: "binary", labels: [1, 0, 1, 0, 0] }, [
      { prediction: 1, score: 0.9 },
      { prediction: 1, score: 0.6 },
      { prediction: 1, score: 0.6 },
      { prediction: 0, score: 0.1 },
      { prediction: 1, score: 0.95 },
    ]);
    // Pairs: 0.9 beats 0.6, 0.1 and loses to 0.95; 0.6 ties 0.6, beats 0.1, loses to 0.95: (2 + 1.5) / 6.
    expect(metricOf("auc", outcomes)).toBeCloseTo(3.5 / 6, 12);
  });
});
