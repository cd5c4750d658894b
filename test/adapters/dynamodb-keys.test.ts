import { describe, expect, it } from "vitest";
import { keys, padSequence } from "../../lambdas/adapters/dynamodb-keys";

describe("padSequence", () => {
  it.each([
    ["1", "9"],
    [
      "49590338271490256608559692538361571095921575989136588898",
      "49590338271490256608559692540925702759324208523137515618",
    ],
    ["99", "100"],
  ])("keeps numeric order as string order: %s < %s", (a, b) => {
    expect(padSequence(a) < padSequence(b)).toBe(true);
    expect(padSequence(a)).toHaveLength(64);
  });

  it("rejects non-numeric input", () => {
    expect(() => padSequence("12a")).toThrow(RangeError);
  });
});

describe("keys", () => {
  it("orders bucket sort keys by time and covers a window", () => {
    const a = keys.stats("churn", Date.UTC(2026, 10, 27, 9), "shardId-000000000001").sk;
    const b = keys.stats("churn", Date.UTC(2026, 10, 27, 10), "shardId-000000000000").sk;
    const range = keys.statsRange(Date.UTC(2026, 10, 27, 10), Date.UTC(2026, 10, 27, 11));
    expect(a < b).toBe(true);
    expect(a < range.from).toBe(true);
    expect(b >= range.from && b <= range.to).toBe(true);
  });
});
