/**
 * Pure parts of `replay`: the log's real time range, change points from label accuracy, the per-policy
 * comparison, Kinesis shard routing, policy sweeps, and the in-memory stream's batching and retries.
 */
import { hash } from "node:crypto";
import type { KinesisStreamEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { HOUR_MS } from "../../contracts/time";
import { comparePolicies, type EvaluationMark, formatPolicyTable } from "../../local/backtest";
import { type AccuracyPoint, correctOf, detectChangePoints } from "../../local/change-points";
import { md5Prefix, shardIndexOf } from "../../local/kinesis-hash";
import { partitionKeyOf } from "../../local/log-spill";
import { MemoryStream } from "../../local/memory-stream";
import { parseSweep } from "../../local/replay-policies";
import { type HourCount, realRange } from "../../local/time-range";

const H = HOUR_MS;
const hours = (spec: Array<[hour: number, count: number]>): HourCount[] =>
  spec.map(([hour, count]) => ({ hour, count, minT: hour * H, maxT: hour * H + H - 1 }));

describe("realRange", () => {
  it.each([
    {
      why: "a dense log is kept whole",
      spec: [
        [100, 50],
        [101, 50],
        [150, 50],
      ],
      want: [100, 150],
      strays: 0,
    },
    {
      why: "one far line after the log is a stray",
      spec: [
        [100, 50],
        [101, 50],
        [50_000, 1],
      ],
      want: [100, 101],
      strays: 1,
    },
    {
      why: "a few far lines before the log are strays",
      spec: [
        [10, 2],
        [1000, 300],
        [1001, 300],
      ],
      want: [1000, 1001],
      strays: 2,
    },
    {
      why: "a sparse log (a line every 3 days) is kept whole",
      spec: [
        [0, 1],
        [72, 1],
        [144, 1],
        [216, 1],
      ],
      want: [0, 216],
      strays: 0,
    },
    {
      why: "a second cluster with a real share counts",
      spec: [
        [0, 100],
        [500, 40],
      ],
      want: [0, 500],
      strays: 0,
    },
  ] as Array<{ why: string; spec: Array<[number, number]>; want: [number, number]; strays: number }>)(
    "$why",
    ({ spec, want, strays }) => {
      const r = realRange(hours(spec))!;
      expect([Math.floor(r.from / H), Math.floor(r.to / H)]).toEqual(want);
      expect(r.strays).toBe(strays);
    },
  );

  it("is undefined without lines", () => {
    expect(realRange([])).toBeUndefined();
  });
});

describe("detectChangePoints", () => {
  const series = (accuracies: number[], perBlock = 400): AccuracyPoint[] =>
    accuracies.map((a, i) => ({ t: i * 6 * H, n: perBlock, correct: Math.round(a * perBlock) }));

  it.each([
    { why: "a flat series has none", acc: Array(20).fill(0.9), want: [] },
    {
      why: "one drop is found at its block",
      acc: [...Array(10).fill(0.95), ...Array(10).fill(0.7)],
      want: [10],
    },
    {
      why: "a drop and a recovery are both found",
      acc: [...Array(8).fill(0.95), ...Array(8).fill(0.7), ...Array(8).fill(0.94)],
      want: [8, 16],
    },
    { why: "a small effect is ignored", acc: [...Array(10).fill(0.9), ...Array(10).fill(0.89)], want: [] },
  ])("$why", ({ acc, want }) => {
    expect(detectChangePoints(series(acc)).map((c) => c.at / (6 * H))).toEqual(want);
  });

  it.each([
    { p: { task: "binary" as const, tp: 3, fp: 1, tn: 5, fn: 1 }, want: { n: 10, correct: 8 } },
    {
      p: { task: "multiclass" as const, confusion: { a: { a: 2, b: 1 }, b: { b: 4 } } },
      want: { n: 7, correct: 6 },
    },
    { p: { task: "regression" as const }, want: undefined },
  ])("correctOf($p.task)", ({ p, want }) => {
    expect(correctOf(p)).toEqual(want);
  });
});

describe("comparePolicies", () => {
  const mark = (
    t: number,
    action: EvaluationMark["action"],
    suppressions: string[] = [],
  ): EvaluationMark => ({
    t: t * H,
    modelId: "m",
    action,
    suppressions,
  });
  const changes = [
    { modelId: "m", at: 10 * H, source: "given" as const },
    { modelId: "m", at: 40 * H, source: "given" as const },
  ];

  it("counts actions and suppressions; a reaction belongs to the change before it", () => {
    const rows = comparePolicies(
      new Map([
        ["fast", [mark(6, "none"), mark(12, "alert"), mark(18, "retrain"), mark(42, "retrain")]],
        ["slow", [mark(6, "none"), mark(12, "none", ["cooldown", "budget"]), mark(48, "alert")]],
      ]),
      changes,
    );
    expect(rows).toEqual([
      {
        policy: "fast",
        evaluations: 4,
        alerts: 1,
        retrains: 2,
        suppressed: 0,
        suppressionsByReason: {},
        reactions: [
          { modelId: "m", at: 10 * H, firstActionHours: 2, firstRetrainHours: 8 },
          { modelId: "m", at: 40 * H, firstActionHours: 2, firstRetrainHours: 2 },
        ],
      },
      {
        policy: "slow",
        evaluations: 3,
        alerts: 1,
        retrains: 0,
        suppressed: 1,
        suppressionsByReason: { cooldown: 1, budget: 1 },
        reactions: [
          { modelId: "m", at: 10 * H, firstActionHours: null, firstRetrainHours: null },
          { modelId: "m", at: 40 * H, firstActionHours: 8, firstRetrainHours: null },
        ],
      },
    ]);
    const table = formatPolicyTable(rows, changes);
    expect(table).toContain("| fast ");
    expect(table).toContain("2 h / 8 h");
    expect(table).toContain("- / -");
  });
});

describe("shard routing (as Kinesis: MD5 of the key in equal hash-key ranges)", () => {
  const reference = (key: string, n: number) => {
    const h = BigInt(`0x${hash("md5", key, "hex")}`);
    return Math.min(Number(h / ((1n << 128n) / BigInt(n))), n - 1);
  };
  const keys = [
    "",
    "a",
    "churn#f56de0ae453d5d5961a3",
    "x".repeat(55),
    "x".repeat(56),
    "é#ü",
    ...Array.from({ length: 500 }, (_, i) => `m${i}#r${i * 7919}`),
  ];

  it.each([1, 2, 3, 4, 7, 16])("agrees with big-integer MD5 arithmetic for %i shards", (n) => {
    for (const k of keys) expect([k, shardIndexOf(k, n)]).toEqual([k, reference(k, n)]);
  });

  it("md5Prefix is the first 8 bytes of MD5 for short ASCII keys", () => {
    for (const k of keys.filter((x) => x.length <= 55 && [...x].every((c) => c.charCodeAt(0) < 128))) {
      const [hi, lo] = md5Prefix(k)!;
      expect(hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0")).toBe(
        hash("md5", k, "hex").slice(0, 16),
      );
    }
    expect(md5Prefix("x".repeat(56))).toBeUndefined();
    expect(md5Prefix("é")).toBeUndefined();
  });
});

describe("partitionKeyOf", () => {
  it.each([
    { modelId: "churn", requestId: "r1", want: "churn#r1" },
    { modelId: "churn", requestId: "r".repeat(256), want: /^churn#[0-9a-f]{32}$/ },
    { modelId: "churn", requestId: "r".repeat(257), want: /^ids#[0-9a-f]{32}$/ },
    { modelId: "m".repeat(10_000), requestId: "r1", want: /^ids#[0-9a-f]{32}$/ },
    { modelId: "churn", requestId: 5, want: "churn" },
    { modelId: undefined, requestId: "r", want: "line-7" },
  ])("$modelId / $requestId", ({ modelId, requestId, want }) => {
    const key = partitionKeyOf(modelId, requestId, 7);
    expect(key.length).toBeLessThanOrEqual(256);
    if (typeof want === "string") expect(key).toBe(want);
    else expect(key).toMatch(want);
  });
});

describe("parseSweep", () => {
  it.each([
    {
      spec: "signals.drift.maxDriftedShare=0.2,0.3",
      want: { path: "signals.drift.maxDriftedShare", values: [0.2, 0.3] },
    },
    { spec: "rule.any=x, y", want: { path: "rule.any", values: ["x", "y"] } },
    { spec: "stability.cooldownHours=0,true", want: { path: "stability.cooldownHours", values: [0, true] } },
  ])("$spec", ({ spec, want }) => {
    expect(parseSweep(spec)).toEqual(want);
  });

  it.each(["", "a.b", "=1", "a..b=1", "a.b="])("rejects %j", (spec) => {
    expect(() => parseSweep(spec)).toThrow(/--sweep/);
  });
});

describe("MemoryStream", () => {
  const collect = (fail: (event: KinesisStreamEvent, call: number) => string[]) => {
    const calls: string[][] = [];
    const stream = new MemoryStream({
      shardCount: 2,
      batchSize: 3,
      ingest: async (event) => {
        calls.push(event.Records.map((r) => Buffer.from(r.kinesis.data, "base64").toString()));
        return { batchItemFailures: fail(event, calls.length).map((itemIdentifier) => ({ itemIdentifier })) };
      },
    });
    return { stream, calls };
  };
  const records = Array.from({ length: 8 }, (_, i) => ({ data: `d${i}`, partitionKey: "k", arrivalMs: i }));

  it("delivers each shard's records in put order, in batches of batchSize", async () => {
    const { stream, calls } = collect(() => []);
    const seqs = stream.send(records);
    await stream.drain();
    expect(seqs).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
    expect(calls).toEqual([
      ["d0", "d1", "d2"],
      ["d3", "d4", "d5"],
      ["d6", "d7"],
    ]);
    expect(stream.put).toBe(8);
  });

  it("retries a batch from its first reported failure", async () => {
    const { stream, calls } = collect((event, call) =>
      call === 1 ? [event.Records[1]!.kinesis.sequenceNumber] : [],
    );
    stream.send(records);
    await stream.drain();
    expect(calls.slice(0, 2)).toEqual([
      ["d0", "d1", "d2"],
      ["d1", "d2"],
    ]);
    expect(stream.invocations).toBe(4);
  });

  it("gives up on a batch that keeps failing", async () => {
    const { stream } = collect((event) => [event.Records[0]!.kinesis.sequenceNumber]);
    stream.send(records.slice(0, 1));
    await expect(stream.drain()).rejects.toThrow(/still failing after 10 deliveries/);
  });
});
