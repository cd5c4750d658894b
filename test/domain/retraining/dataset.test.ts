import { describe, expect, it } from "vitest";
import { HOUR_MS as HOUR } from "../../../contracts/time";
import {
  archiveDayPrefixes,
  assignChannel,
  DEFAULT_MINIMUM_ROWS,
  DEFAULT_SPLIT,
  expectedShortfalls,
  hashFraction,
  InsufficientDataError,
  LabelJoin,
  type LabelledRow,
  rowsNeeded,
  SplitFractionsError,
  splitDataset,
} from "../../../lambdas/domain/retraining/dataset";
import { labelEvent, predictionEvent } from "../../support/events";

const T0 = Date.parse("2026-11-20T00:00:00Z");

const prediction = (requestId: string, t: number, x = 1, modelId = "churn") =>
  JSON.stringify(
    predictionEvent({
      modelId,
      requestId,
      timestamp: new Date(t).toISOString(),
      features: { x, plan: "pro" },
      score: 0.8,
    }),
  );
const label = (requestId: string, t: number, y: number | string) =>
  JSON.stringify(labelEvent({ requestId, timestamp: t, label: y }));

const rows = (n: number): LabelledRow[] =>
  Array.from({ length: n }, (_, i) => ({
    requestId: `req-${i}`,
    timestamp: T0,
    features: { x: i },
    label: i % 2,
  }));

describe("hashFraction / assignChannel", () => {
  it("is deterministic and in [0, 1)", () => {
    for (const id of ["a", "req-1", "9b1e3c", ""]) {
      const u = hashFraction(id);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      expect(hashFraction(id)).toBe(u);
    }
  });

  it("spreads sequential ids close to the requested fractions", () => {
    const counts = { train: 0, validation: 0, holdout: 0 };
    for (let i = 0; i < 20_000; i++) counts[assignChannel(`req-${i}`)]++;
    expect(counts.train / 20_000).toBeCloseTo(0.7, 1);
    expect(counts.validation / 20_000).toBeCloseTo(0.15, 1);
    expect(counts.holdout / 20_000).toBeCloseTo(0.15, 1);
  });

  it.each([
    [{ train: 1, validation: 0, holdout: 0 }, "train"],
    [{ train: 0, validation: 0, holdout: 1 }, "holdout"],
    [{ train: 0, validation: 1, holdout: 0 }, "validation"],
  ] as const)("degenerate fractions %j put everything in %s", (fractions, channel) => {
    expect(assignChannel("anything", fractions)).toBe(channel);
  });
});

describe("LabelJoin", () => {
  const window = { fromMs: T0, toMs: T0 + 24 * HOUR };

  it("keeps labelled predictions of the window and counts everything else", () => {
    const join = new LabelJoin("churn", window);
    const lines = [
      prediction("a", T0 + HOUR),
      label("a", T0 + 30 * HOUR, 1),
      prediction("b", T0 + 2 * HOUR), // never labelled
      prediction("c", T0 - HOUR), // before the window
      label("c", T0 + HOUR, 0),
      prediction("d", T0 + 3 * HOUR, 5, "other"), // another model
      "not json",
      JSON.stringify({ schemaVersion: 2, type: "prediction" }),
      "",
      prediction("a", T0 + 5 * HOUR, 99), // redelivery: first wins
      label("e", T0, 1), // label without prediction
    ];
    for (const l of lines) join.addLine(l);
    const out = join.rows();
    expect(out).toEqual([
      {
        requestId: "a",
        timestamp: T0 + HOUR,
        features: { x: 1, plan: "pro" },
        label: 1,
        prediction: 1,
        score: 0.8,
      },
    ]);
    expect(join.stats).toMatchObject({
      lines: 10,
      invalid: 2,
      otherModel: 1,
      predictions: 4,
      predictionsInWindow: 3,
      duplicatePredictions: 1,
      labels: 3,
      labelled: 1,
      labelsWithoutPrediction: 2,
    });
  });

  it("takes the latest label when a label is corrected", () => {
    const join = new LabelJoin("churn", window);
    join.addLine(label("a", T0 + 10 * HOUR, 0));
    join.addLine(prediction("a", T0 + HOUR));
    join.addLine(label("a", T0 + 20 * HOUR, 1));
    join.addLine(label("a", T0 + 15 * HOUR, 0));
    expect(join.rows()[0]?.label).toBe(1);
  });

  it("returns rows sorted by requestId regardless of input order", () => {
    const join = new LabelJoin("churn", window);
    for (const id of ["z", "m", "a"]) {
      join.addLine(label(id, T0 + 30 * HOUR, 0));
      join.addLine(prediction(id, T0 + HOUR));
    }
    expect(join.rows().map((r) => r.requestId)).toEqual(["a", "m", "z"]);
  });
});

describe("splitDataset", () => {
  it("splits deterministically and counts channels", () => {
    const a = splitDataset(rows(1000), undefined, { train: 1, validation: 1, holdout: 1 });
    const b = splitDataset(rows(1000).reverse(), undefined, { train: 1, validation: 1, holdout: 1 });
    expect(a.counts.total).toBe(1000);
    expect(a.counts.train + a.counts.validation + a.counts.holdout).toBe(1000);
    expect(new Set(a.holdout.map((r) => r.requestId))).toEqual(new Set(b.holdout.map((r) => r.requestId)));
  });

  it("fails with a clear cause on too little data", () => {
    let error: unknown;
    try {
      splitDataset(rows(100), undefined, { train: 200, validation: 10, holdout: 10 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InsufficientDataError);
    expect((error as Error).name).toBe("InsufficientDataError");
    expect((error as Error).message).toMatch(/train \d+ < 200/);
    expect((error as InsufficientDataError).counts.total).toBe(100);
  });

  it.each([
    [{ train: 0.5, validation: 0.5, holdout: 0.5 }],
    [{ train: -0.1, validation: 0.6, holdout: 0.5 }],
  ])("rejects invalid fractions %j", (fractions) => {
    expect(() => splitDataset(rows(10), fractions)).toThrow(SplitFractionsError);
  });
});

describe("expectedShortfalls (the evaluator's check before starting a run)", () => {
  it.each([
    { labelled: 0, want: ["train about 0 < 200", "validation about 0 < 50", "holdout about 0 < 50"] },
    { labelled: 285, want: ["train about 199 < 200", "validation about 42 < 50", "holdout about 42 < 50"] },
    { labelled: 286, want: ["validation about 42 < 50", "holdout about 42 < 50"] },
    { labelled: 333, want: ["validation about 49 < 50", "holdout about 49 < 50"] },
    { labelled: 334, want: [] },
    { labelled: 100_000, want: [] },
  ])("$labelled labelled rows at the default split", ({ labelled, want }) => {
    expect(expectedShortfalls(labelled)).toEqual(want);
  });

  it("names the first count at which no channel is short", () => {
    expect(rowsNeeded()).toBe(334);
    expect(expectedShortfalls(rowsNeeded() - 1)).not.toEqual([]);
    expect(expectedShortfalls(rowsNeeded(), DEFAULT_SPLIT, DEFAULT_MINIMUM_ROWS)).toEqual([]);
    const wide = { train: 0.45, validation: 0.15, holdout: 0.4 };
    expect(rowsNeeded(wide)).toBe(445);
    expect(expectedShortfalls(444, wide)).toEqual(["train about 199 < 200"]);
  });

  it("well below the need, the split itself always falls short", () => {
    for (let k = 0; k < 20; k++) {
      const window = rows(250).map((r) => ({ ...r, requestId: `w${k}-${r.requestId}` }));
      expect(expectedShortfalls(window.length)).not.toEqual([]);
      expect(() => splitDataset(window)).toThrow(InsufficientDataError);
    }
  });
});

describe("archiveDayPrefixes", () => {
  it.each([
    [T0, T0 + 1, ["churn/2026/11/20/"]],
    [T0 + 23 * HOUR, T0 + 25 * HOUR, ["churn/2026/11/20/", "churn/2026/11/21/"]],
    [
      Date.parse("2026-12-31T12:00:00Z"),
      Date.parse("2027-01-01T01:00:00Z"),
      ["churn/2026/12/31/", "churn/2027/01/01/"],
    ],
  ])("covers [%d, %d)", (from, to, expected) => {
    expect(archiveDayPrefixes("churn", from, to)).toEqual(expected);
  });
});
