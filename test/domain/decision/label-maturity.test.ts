import { describe, expect, it } from "vitest";
import { HOUR_MS } from "../../../contracts/time";
import { type BucketCoverage, matureWindow } from "../../../lambdas/domain/decision/label-maturity";

const NOW = Date.parse("2026-11-20T00:00:00Z");

/**
 * Hourly buckets over `hours`, 100 predictions each, 30 % positives; positives' labels arrive after
 * `positiveDelay` hours, negatives' after `negativeDelay` (all of a class at once), `coverage` of the
 * predictions eventually labelled.
 */
function buckets(
  hours: number,
  positiveDelay: number,
  negativeDelay: number,
  coverage = 1,
): BucketCoverage[] {
  return Array.from({ length: hours }, (_, i) => {
    const bucketStart = NOW - (hours - i) * HOUR_MS;
    const age = (NOW - bucketStart) / HOUR_MS - 1;
    const positives = age >= positiveDelay ? 30 * coverage : 0;
    const negatives = age >= negativeDelay ? 70 * coverage : 0;
    return { bucketStart, predictions: 100, labelled: positives + negatives };
  });
}

const inputs = (b: BucketCoverage[], windowHours = 24, labelHorizonHours = 168) => ({
  buckets: b,
  now: NOW,
  bucketMs: HOUR_MS,
  windowHours,
  labelHorizonHours,
});

describe("matureWindow", () => {
  it.each<[string, BucketCoverage[], number]>([
    ["labels at once: the latest window", buckets(400, 0, 0), 0],
    ["labels 72 h late: the latest window whose labels have all come back", buckets(400, 72, 72), 72],
    ["positives after 12 h, negatives after 72 h: no window with positives only", buckets(400, 12, 72), 72],
    ["half the predictions ever labelled: the plateau is 50 %", buckets(400, 6, 6, 0.5), 6],
  ])("%s", (_name, b, lagHours) => {
    const result = matureWindow(inputs(b));
    expect(result.window).toBeDefined();
    expect(result.window!.lagHours).toBeGreaterThanOrEqual(lagHours);
    // Mature as soon as it can be: within 3 hours (the 10 % tolerance) of the labels' lag.
    expect(result.window!.lagHours).toBeLessThanOrEqual(lagHours + 3);
    expect(result.window!.to - result.window!.from).toBe(24 * HOUR_MS);
  });

  it("takes the plateau from windows read when the history is shorter than the horizon", () => {
    const result = matureWindow(inputs(buckets(120, 48, 48)));
    expect(result.window?.lagHours).toBeGreaterThanOrEqual(48);
    expect(result.window?.plateau).toBeCloseTo(1, 6);
  });

  it("says why there is no window when nothing is labelled", () => {
    const result = matureWindow(inputs(buckets(400, 1000, 1000)));
    expect(result.window).toBeUndefined();
    expect(result).toMatchObject({ reason: "no labelled predictions in the buckets read", plateau: 0 });
  });

  it("a window older than the horizon is mature whatever its coverage", () => {
    // Labels only ever come for buckets older than the horizon's end: the settled window is the first mature one.
    const b = buckets(300, 200, 200);
    const result = matureWindow(inputs(b, 24, 168));
    expect(result.window).toBeDefined();
    expect(result.window!.to).toBeLessThanOrEqual(NOW - 168 * HOUR_MS);
  });
});
