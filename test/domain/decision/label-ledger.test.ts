import { describe, expect, it } from "vitest";
import { HOUR_MS as H } from "../../../contracts/time";
import { advanceLedger, EMPTY_LEDGER } from "../../../lambdas/domain/decision/label-ledger";

const buckets = (fromHour: number, toHour: number, labelled = 10) =>
  Array.from({ length: toHour - fromHour }, (_, i) => ({ bucketStart: (fromHour + i) * H, labelled }));

describe("advanceLedger", () => {
  it("counts the window, then settles buckets that leave it", () => {
    const first = advanceLedger(EMPTY_LEDGER, buckets(0, 24), 0, undefined);
    expect(first.labelsSinceTraining).toBe(240);
    const second = advanceLedger(first.ledger, buckets(6, 30), 6 * H, undefined);
    expect(second.labelsSinceTraining).toBe(300);
    expect(second.ledger.settled).toBe(60);
  });

  it("is idempotent for a retried window", () => {
    const first = advanceLedger(EMPTY_LEDGER, buckets(0, 24), 0, undefined);
    const retry = advanceLedger(first.ledger, buckets(0, 24), 0, undefined);
    expect(retry).toEqual(first);
  });

  it("sees late labels while the bucket is in the window", () => {
    const first = advanceLedger(EMPTY_LEDGER, buckets(0, 24, 1), 0, undefined);
    const later = advanceLedger(first.ledger, buckets(1, 25, 5), 1 * H, undefined);
    expect(later.labelsSinceTraining).toBe(1 + 24 * 5);
  });

  it("ignores buckets from before the champion's training", () => {
    const r = advanceLedger(EMPTY_LEDGER, buckets(0, 24), 0, 12 * H);
    expect(r.labelsSinceTraining).toBe(120);
  });
});
