import { describe, expect, it } from "vitest";
import type { TaskType } from "../../../contracts/model";
import { type ValidationGate, ValidationGateSchema } from "../../../contracts/policy";
import type { ScoredOutput } from "../../../lambdas/domain/retraining/holdout-evaluation";
import {
  applyValidationGate,
  describeChecks,
  type GateCheckName,
  type GateOutcome,
  type PairedHoldout,
} from "../../../lambdas/domain/retraining/validation-gate";

const gateOf = (input: Record<string, unknown>): ValidationGate => ValidationGateSchema.parse(input);

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

/**
 * A binary holdout of `n` rows (labels alternate 0/1) where the challenger alone is right on the first
 * `challengerOnly` rows, the champion alone on the next `championOnly`, both wrong on the next `bothWrong`
 * and both right on the rest. Scores rank rows by a per-row signal, on the right side of 0.5 when correct.
 */
function binaryHoldout(spec: {
  n: number;
  challengerOnly: number;
  championOnly: number;
  bothWrong?: number;
  challengerScore?: (champion: number) => number;
}): PairedHoldout {
  const labels: number[] = [];
  const challenger: ScoredOutput[] = [];
  const champion: ScoredOutput[] = [];
  const bothWrong = spec.bothWrong ?? 0;
  for (let row = 0; row < spec.n; row++) {
    const y = row % 2;
    const challengerRight =
      row < spec.challengerOnly || row >= spec.challengerOnly + spec.championOnly + bothWrong;
    const championRight =
      (row >= spec.challengerOnly && row < spec.challengerOnly + spec.championOnly) ||
      row >= spec.challengerOnly + spec.championOnly + bothWrong;
    // Confidence grows with the row's position in a pseudo-random order (distinct scores, stable ranks).
    const strength = 0.55 + 0.4 * (((row * 7919) % spec.n) / spec.n);
    const championScore = championRight === (y === 1) ? strength : 1 - strength;
    const challengerScore = challengerRight === (y === 1) ? strength : 1 - strength;
    labels.push(y);
    champion.push({ prediction: championScore >= 0.5 ? 1 : 0, score: championScore });
    const shaped = spec.challengerScore ? spec.challengerScore(challengerScore) : challengerScore;
    challenger.push({ prediction: shaped >= 0.5 ? 1 : 0, score: shaped });
  }
  return { task: "binary", labels, challenger, champion };
}

/** A regression holdout: champion errors alternate +-1 (times a row factor); the challenger's are scaled. */
function regressionHoldout(n: number, errorScale: number | ((row: number) => number)): PairedHoldout {
  const scale = typeof errorScale === "number" ? () => errorScale : errorScale;
  const labels: number[] = [];
  const challenger: ScoredOutput[] = [];
  const champion: ScoredOutput[] = [];
  for (let row = 0; row < n; row++) {
    const y = 10 + (row % 17);
    const error = (row % 2 === 0 ? 1 : -1) * (0.5 + ((row * 31) % 10) / 10);
    labels.push(y);
    champion.push({ prediction: y + error });
    challenger.push({ prediction: y + error * scale(row) + (row % 3 === 0 ? 0.05 : -0.05) });
  }
  return { task: "regression", labels, challenger, champion };
}

/** A binary holdout of 400 rows with 10 positives; the two models each miss a different 2 rows. */
function rarePositives(): PairedHoldout {
  const labels = Array.from({ length: 400 }, (_, row) => (row % 40 === 0 ? 1 : 0));
  const flip = (row: number, from: number, to: number) =>
    row >= from && row < to ? 1 - labels[row]! : labels[row]!;
  return {
    task: "binary",
    labels,
    champion: labels.map((_, row) => ({ prediction: flip(row, 1, 3) })),
    challenger: labels.map((_, row) => ({ prediction: flip(row, 3, 5) })),
  };
}

/** A three-class holdout; the champion is wrong on every fifth row, the challenger on `challengerWrong` rows. */
function multiclassHoldout(n: number, challengerWrong: (row: number) => boolean): PairedHoldout {
  const classes = ["a", "b", "c"];
  const labels = Array.from({ length: n }, (_, row) => classes[row % 3]!);
  const wrong = (row: number) => classes[(row + 1) % 3]!;
  return {
    task: "multiclass",
    labels,
    champion: labels.map((label, row) => ({ prediction: row % 5 === 0 ? wrong(row) : label })),
    challenger: labels.map((label, row) => ({ prediction: challengerWrong(row) ? wrong(row) : label })),
  };
}

// margin 0.05 with the default discordance needs ceil(2.4865^2 x 0.1 / 0.05^2) = 248 rows.
const ACCURACY_05 = { metric: "accuracy", margin: 0.05 };

describe("applyValidationGate", () => {
  const cases: Array<[string, Record<string, unknown>, PairedHoldout, GateOutcome, GateCheckName[]]> = [
    [
      "as good as the champion, powered holdout: passes",
      ACCURACY_05,
      binaryHoldout({ n: 400, challengerOnly: 20, championOnly: 20, bothWrong: 20 }),
      "passed",
      [],
    ],
    [
      "a point worse, well inside a five-point margin: passes",
      ACCURACY_05,
      binaryHoldout({ n: 400, challengerOnly: 18, championOnly: 22, bothWrong: 20 }),
      "passed",
      [],
    ],
    [
      "nine points worse: H0 not rejected",
      ACCURACY_05,
      binaryHoldout({ n: 400, challengerOnly: 5, championOnly: 40, bothWrong: 20 }),
      "rejected",
      ["nonInferiority"],
    ],
    [
      "holdout below the powered size (248 rows), clearly better: passes (false passes stay below alpha)",
      ACCURACY_05,
      binaryHoldout({ n: 200, challengerOnly: 30, championOnly: 0, bothWrong: 10 }),
      "passed",
      [],
    ],
    [
      "holdout below the powered size (1,546 rows at margin 0.02), as good: undecided, an insufficient holdout",
      { metric: "accuracy", margin: 0.02 },
      binaryHoldout({ n: 400, challengerOnly: 20, championOnly: 20, bothWrong: 20 }),
      "insufficientHoldout",
      ["holdoutSize", "nonInferiority"],
    ],
    [
      "holdout below the powered size, shown worse beyond the margin: rejected",
      ACCURACY_05,
      binaryHoldout({ n: 200, challengerOnly: 0, championOnly: 40, bothWrong: 10 }),
      "rejected",
      ["nonInferiority"],
    ],
    [
      "a class below margin x rows: rejected whatever the test says (the test would be blind to it)",
      ACCURACY_05,
      rarePositives(),
      "rejected",
      ["holdoutSize"],
    ],
    [
      "below the absolute floor",
      { ...ACCURACY_05, minMetric: 0.97 },
      binaryHoldout({ n: 400, challengerOnly: 20, championOnly: 20, bothWrong: 20 }),
      "rejected",
      ["minimum"],
    ],
    [
      "first model: no champion, only the floor applies",
      { ...ACCURACY_05, minMetric: 0.8 },
      { ...binaryHoldout({ n: 50, challengerOnly: 0, championOnly: 0 }), champion: undefined },
      "passed",
      [],
    ],
    [
      "missing challenger metric (AUC without scores) is a rejection",
      { metric: "auc", margin: 0.05 },
      {
        task: "binary",
        labels: [0, 1, 0, 1],
        challenger: [0, 1, 1, 1].map((prediction) => ({ prediction })),
        champion: [0, 1, 0, 0].map((prediction) => ({ prediction })),
      },
      "rejected",
      ["holdoutSize", "nonInferiority", "minimum", "agreement"],
    ],
    [
      "AUC (DeLong): same ranking with sharper scores passes, agreement 1",
      { metric: "auc", margin: 0.05 },
      binaryHoldout({
        n: 600,
        challengerOnly: 0,
        championOnly: 0,
        bothWrong: 60,
        challengerScore: (p) => sigmoid(3 * logit(p)),
      }),
      "passed",
      [],
    ],
    [
      "AUC (DeLong): reversed ranking fails the test and the agreement guardrail",
      { metric: "auc", margin: 0.05 },
      binaryHoldout({
        n: 600,
        challengerOnly: 0,
        championOnly: 0,
        bothWrong: 60,
        challengerScore: (p) => 1 - p,
      }),
      "rejected",
      ["nonInferiority", "agreement"],
    ],
    [
      "recall: the paired test on positive rows",
      { metric: "recall", margin: 0.05 },
      binaryHoldout({ n: 800, challengerOnly: 40, championOnly: 10, bothWrong: 40 }),
      "passed",
      [],
    ],
    [
      "precision (paired bootstrap): much worse fails",
      { metric: "precision", margin: 0.05 },
      binaryHoldout({ n: 800, challengerOnly: 0, championOnly: 120, bothWrong: 20 }),
      "rejected",
      ["nonInferiority"],
    ],
    [
      "rmse (paired t, relative margin): 10 % lower errors pass",
      { metric: "rmse" },
      regressionHoldout(800, 0.9),
      "passed",
      [],
    ],
    [
      "rmse (paired t, relative margin): 30 % higher errors fail",
      { metric: "rmse" },
      regressionHoldout(800, 1.3),
      "rejected",
      ["nonInferiority"],
    ],
    [
      "mae below the 2,474 rows its 5 % margin needs, 10 % lower errors: passes",
      { metric: "mae" },
      regressionHoldout(800, 0.9),
      "passed",
      [],
    ],
    [
      "mae below the 2,474 rows its 5 % margin needs, the same errors: an insufficient holdout",
      { metric: "mae" },
      regressionHoldout(400, (row) => (row % 4 < 2 ? 0.1 : 1.9)),
      "insufficientHoldout",
      ["holdoutSize", "nonInferiority"],
    ],
    [
      "multiclass default metric (accuracy) with Cohen's kappa as agreement",
      { margin: 0.05 },
      multiclassHoldout(600, (row) => row % 5 === 0 || row % 37 === 1),
      "passed",
      [],
    ],
    [
      "multiclass: a challenger that predicts one class fails the test and the agreement",
      { margin: 0.05 },
      {
        ...multiclassHoldout(600, () => false),
        challenger: Array.from({ length: 600 }, () => ({ prediction: "a" })),
      },
      "rejected",
      ["nonInferiority", "agreement"],
    ],
  ];

  cases.push(
    [
      "superiority: as good as the champion on a powered holdout is rejected (not shown better)",
      { ...ACCURACY_05, hypothesis: "superiority" },
      binaryHoldout({ n: 400, challengerOnly: 20, championOnly: 20, bothWrong: 20 }),
      "rejected",
      ["nonInferiority"],
    ],
    [
      "superiority: 7.5 points better passes",
      { ...ACCURACY_05, hypothesis: "superiority" },
      binaryHoldout({ n: 400, challengerOnly: 40, championOnly: 10, bothWrong: 20 }),
      "passed",
      [],
    ],
    [
      "superiority, rmse: 10 % lower errors pass (ratio below 1)",
      { metric: "rmse", hypothesis: "superiority" },
      regressionHoldout(800, 0.9),
      "passed",
      [],
    ],
  );

  it.each(cases)("%s", (_name, gate, holdout, outcome, failedChecks) => {
    const verdict = applyValidationGate(gateOf(gate), holdout);
    expect(verdict.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(failedChecks);
    expect(verdict.outcome).toBe(outcome);
    expect(verdict.passed).toBe(outcome === "passed");
    expect(verdict.reasons).toHaveLength(failedChecks.length);
  });

  it("states value, threshold, interval and verdict of the paired test in words", () => {
    const verdict = applyValidationGate(
      gateOf(ACCURACY_05),
      binaryHoldout({ n: 400, challengerOnly: 5, championOnly: 40, bothWrong: 20 }),
    );
    const test = verdict.checks.find((c) => c.name === "nonInferiority")!;
    expect(test).toMatchObject({ value: -0.0875, threshold: -0.05, passed: false });
    expect(test.interval![0]).toBeLessThan(-0.05);
    expect(test.detail).toMatch(
      /challenger accuracy 0\.85 vs champion 0\.9375 on 400 paired rows, difference -0\.0875 \(90% interval -0\.1\d+ to -0\.0\d+\)/,
    );
    expect(test.detail).toMatch(
      /H0 "the challenger's accuracy is more than 0\.05 below the champion's" cannot be rejected at alpha 0\.05 \(p = 0\.9\d+\)/,
    );
    expect(test.detail).toMatch(/a loss beyond the margin is not ruled out, failed/);
    expect(describeChecks(verdict)).toMatch(
      /^- holdout: rows 400 >= 248, negative rows 200 >= 20, positive rows 200 >= 20 \(power 0\.8 to pass an as-good challenger at margin 0\.05, alpha 0\.05, assumed discordance 0\.1\), large enough$/m,
    );
  });

  it("says an undecided verdict is for want of rows, with the counts it needed", () => {
    const verdict = applyValidationGate(
      gateOf({ metric: "accuracy", margin: 0.02 }),
      binaryHoldout({ n: 400, challengerOnly: 20, championOnly: 20, bothWrong: 20 }),
    );
    expect(verdict.outcome).toBe("insufficientHoldout");
    expect(verdict.reasons[0]).toMatch(
      /^insufficient holdout: rows 400 < 1,546, negative rows 200 >= 8, positive rows 200 >= 8 \(power 0\.8 to pass an as-good challenger at margin 0\.02, alpha 0\.05, assumed discordance 0\.1\): too small to show that a challenger as good as the champion is within the margin, so this result does not show the challenger is worse either/,
    );
    expect(verdict.reasons[1]).toMatch(
      /accuracy 0\.9 vs champion 0\.9 on 400 paired rows, difference 0 \(90% interval -0\.02669 to \+0\.02669\)\. H0 .* cannot be rejected at alpha 0\.05 \(p = 0\.1064\)/,
    );
  });

  /** 400 rows; the champion right where (row x 37) mod 100 < 60, the challenger where `challengerRight`. */
  const differentOrder = (challengerRight: (row: number) => boolean): PairedHoldout => {
    const labels = Array.from({ length: 400 }, (_, row) => row % 2);
    const scoreOf = (right: boolean, y: number, strength: number) =>
      right === (y === 1) ? strength : 1 - strength;
    return {
      task: "binary",
      labels,
      champion: labels.map((y, row) => {
        const score = scoreOf((row * 37) % 100 < 60, y, 0.55 + (0.4 * ((row * 7919) % 400)) / 400);
        return { prediction: score >= 0.5 ? 1 : 0, score };
      }),
      challenger: labels.map((y, row) => {
        const score = scoreOf(challengerRight(row), y, 0.55 + (0.4 * ((row * 104_729) % 400)) / 400);
        return { prediction: score >= 0.5 ? 1 : 0, score };
      }),
    };
  };

  it("lets a challenger shown better order the holdout differently (a concept change)", () => {
    const verdict = applyValidationGate(
      gateOf({ metric: "accuracy", margin: 0.05 }),
      differentOrder(() => true),
    );
    const agreement = verdict.checks.find((c) => c.name === "agreement")!;
    expect(agreement.value).toBeLessThan(0.5);
    expect(verdict.outcome).toBe("passed");
    expect(agreement.detail).toMatch(
      /< 0\.5 required, but the challenger is shown better than the champion on the holdout, so the different ordering is the improvement, passed$/,
    );
  });

  it("refuses a challenger that orders the holdout differently without being shown better", () => {
    const verdict = applyValidationGate(
      gateOf({ metric: "accuracy", margin: 0.05 }),
      differentOrder((row) => (row * 53) % 100 < 60),
    );
    expect(verdict.checks.filter((c) => !c.passed).map((c) => c.name)).toContain("agreement");
    expect(verdict.outcome).toBe("rejected");
    expect(verdict.checks.find((c) => c.name === "agreement")!.detail).toMatch(/without being shown better$/);
  });

  it("does not blame the holdout size when the challenger is shown worse beyond the margin", () => {
    const verdict = applyValidationGate(
      gateOf(ACCURACY_05),
      binaryHoldout({ n: 200, challengerOnly: 0, championOnly: 40, bothWrong: 10 }),
    );
    expect(verdict.outcome).toBe("rejected");
    expect(verdict.checks[0]!.detail).toMatch(
      /^holdout: rows 200 < 248, .*: below the size that passes an as-good challenger with power 0\.8, but the test's interval lies beyond the margin, so a larger holdout would not change the verdict, passed$/,
    );
  });

  it("states a superiority verdict against 0, and the holdout it is sized for", () => {
    const verdict = applyValidationGate(
      gateOf({ ...ACCURACY_05, hypothesis: "superiority" }),
      binaryHoldout({ n: 400, challengerOnly: 20, championOnly: 20, bothWrong: 20 }),
    );
    expect(verdict.reasons).toHaveLength(1);
    expect(verdict.reasons[0]).toMatch(
      /^superiority: challenger accuracy 0\.9 vs champion 0\.9 on 400 paired rows, difference 0 .* H0 "the challenger's accuracy is not above the champion's" cannot be rejected at alpha 0\.05 .*: the interval's lower bound -0\.0\d+ is not above 0, so the challenger is not shown to be better, failed/,
    );
    expect(describeChecks(verdict)).toMatch(
      /- holdout: rows 400 >= 248, .*\(power 0\.8 to show a challenger better by 0\.05 superior, alpha 0\.05/,
    );
  });

  it("reports error metrics as a ratio with its Fieller interval against 1 + margin", () => {
    const verdict = applyValidationGate(gateOf({ metric: "rmse" }), regressionHoldout(800, 0.9));
    const test = verdict.checks.find((c) => c.name === "nonInferiority")!;
    expect(test.threshold).toBeCloseTo(1.05, 12);
    expect(test.value).toBeCloseTo(verdict.challenger.value! / verdict.champion!.value!, 12);
    expect(test.interval![1]).toBeLessThan(1.05);
    expect(test.detail).toMatch(
      /H0 "the challenger's rmse is more than 5% above the champion's" is rejected/,
    );
  });

  it("explains a missing holdout class and an unmeasurable agreement", () => {
    const holdout = binaryHoldout({ n: 300, challengerOnly: 0, championOnly: 0 });
    const constantChampion = {
      ...holdout,
      champion: holdout.labels.map(() => ({ prediction: 0, score: 0.5 })),
    };
    const verdict = applyValidationGate(gateOf(ACCURACY_05), constantChampion);
    const agreement = verdict.checks.find((c) => c.name === "agreement")!;
    expect(agreement).toMatchObject({ value: null, passed: true });
    expect(agreement.detail).toMatch(/the champion's outputs are constant/);
  });

  it.each([
    ["binary", "accuracy"],
    ["multiclass", "accuracy"],
    ["regression", "rmse"],
  ] as const)("the default metric of a %s gate is %s (contracts' DEFAULT_TASK_METRIC)", (task, metric) => {
    const labels = task === "regression" ? [1, 2, 3] : [0, 1, 0];
    const holdout = {
      task: task as TaskType,
      labels,
      challenger: labels.map((prediction) => ({ prediction })),
    };
    expect(applyValidationGate(gateOf({}), holdout).metric).toBe(metric);
  });
});
