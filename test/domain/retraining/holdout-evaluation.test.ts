import { describe, expect, it } from "vitest";
import { parseScoredLine, ScoringOutputError } from "../../../lambdas/domain/retraining/holdout-evaluation";

describe("parseScoredLine", () => {
  it.each([
    ['{"prediction": 1, "score": 0.8}', "binary", { prediction: 1, score: 0.8 }],
    ["0.3", "binary", { prediction: 0, score: 0.3 }],
    ["[0.7]", "binary", { prediction: 1, score: 0.7 }],
    ["12.5", "regression", { prediction: 12.5 }],
    ['"gold"', "multiclass", { prediction: "gold" }],
    [
      '{"prediction": "gold", "probabilities": {"gold": 0.7, "silver": 0.3}}',
      "multiclass",
      { prediction: "gold", probabilities: { gold: 0.7, silver: 0.3 } },
    ],
  ] as const)("%s (%s)", (line, task, expected) => {
    expect(parseScoredLine(line, task)).toEqual(expected);
  });

  it("uses the configured class names for thresholded binary scores", () => {
    expect(parseScoredLine("0.9", "binary", ["stay", "churn"])).toEqual({ prediction: "churn", score: 0.9 });
  });

  it.each([["not json"], ['{"score": 0.5}'], ["null"]])("rejects %s", (line) => {
    expect(() => parseScoredLine(line, "binary")).toThrow(ScoringOutputError);
  });
});
