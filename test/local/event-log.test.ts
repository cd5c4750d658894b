import { describe, expect, it } from "vitest";
import { EventLogError, parseEventLog } from "../../local/event-log";
import { canonicalJson } from "../../local/pipeline";
import { labelEvent, predictionEvent } from "../support/events";

const t = (iso: string) => Date.parse(iso);
const ids = { modelId: "m", requestId: "r" };

describe("parseEventLog (replay input)", () => {
  it("orders records by event time, keeps bad lines with their numbers and the previous line's time", () => {
    const text = [
      JSON.stringify(labelEvent({ ...ids, timestamp: "2026-01-02T00:00:00Z" })),
      "",
      JSON.stringify(predictionEvent({ ...ids, timestamp: "2026-01-01T00:00:00Z" })),
      "{broken",
      JSON.stringify(predictionEvent({ ...ids, timestamp: 1767312000000, prediction: 0 })),
      "[1,2]",
    ].join("\n");
    const log = parseEventLog(text, "f.jsonl");
    expect(log.lines).toBe(5);
    expect(log.records.map((r) => r.line)).toEqual([3, 4, 1, 5, 6]);
    expect(log.records.map((r) => r.t)).toEqual([
      t("2026-01-01T00:00:00Z"),
      t("2026-01-01T00:00:00Z"),
      t("2026-01-02T00:00:00Z"),
      1767312000000,
      1767312000000,
    ]);
    expect(log.problems).toEqual([
      { line: 4, reason: expect.stringMatching(/^not valid JSON/) },
      { line: 6, reason: "not a JSON object" },
    ]);
    expect(log.records.find((r) => r.line === 1)?.partitionKey).toBe("m#r");
    expect(log.records.find((r) => r.line === 4)?.partitionKey).toBe("line-4");
  });

  it.each([
    { text: "", why: /empty/ },
    { text: "  \n \n", why: /empty/ },
    { text: '[{"type":"prediction"}]', why: /f\.jsonl:1: the file is one JSON array/ },
    {
      text: '{"a":1}\n{"timestamp":"soon"}',
      why: /none of its 2 lines.*line 1: missing or invalid "timestamp"/,
    },
  ])("rejects an unusable file: $why", ({ text, why }) => {
    expect(() => parseEventLog(text, "f.jsonl")).toThrow(EventLogError);
    expect(() => parseEventLog(text, "f.jsonl")).toThrow(why);
  });
});

describe("canonicalJson (stored-statistics digest)", () => {
  it.each([
    { a: { b: 1, a: 2 }, b: { a: 2, b: 1 }, same: true, why: "key order" },
    {
      a: new Map([
        ["y", 1],
        ["x", 2],
      ]),
      b: new Map([
        ["x", 2],
        ["y", 1],
      ]),
      same: true,
      why: "map order",
    },
    { a: { m2: 0.5678115787 }, b: { m2: 0.5678115788 }, same: true, why: "merge-order rounding of moments" },
    {
      a: { mean: 0.4954875 },
      b: { mean: 0.4954874999999999 },
      same: true,
      why: "one-ulp noise at a decimal tie",
    },
    {
      a: { m2: 5.639905908494926e24 },
      b: { m2: 5.639905908494908e24 },
      same: true,
      why: "merge-order rounding of a moment beyond 2^53",
    },
    { a: { count: 41 }, b: { count: 42 }, same: false, why: "counts are exact" },
    { a: { mean: 0.5 }, b: { mean: 0.6 }, same: false, why: "real differences in moments" },
  ])("$why", ({ a, b, same }) => {
    expect(canonicalJson(a) === canonicalJson(b)).toBe(same);
  });
});
