/**
 * `replay` (in-memory engine) survives any line: oversized records, ids beyond the DynamoDB and Kinesis
 * limits, far-off timestamps, pathological nesting and invalid bytes are quarantined with the production
 * reason code and listed with their line numbers; lines = aggregated + quarantined; a stray timestamp does
 * not stretch the simulated clock. Input may be gzip, several files or a directory; several policies are
 * compared over one ingest.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReplay } from "../../local/replay";
import { sampleEventLog } from "../../local/sample-log";
import { scenarioConfig } from "../../local/scenario-config";
import { createScenario } from "../../local/scenarios";

const config = scenarioConfig(createScenario("drift"));
let dir = "";
let lines: string[] = [];
let modelId = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "replay-robust-"));
  ({ lines, modelId } = sampleEventLog("drift", { days: 3, eventsPerDay: 150, seed: 21 }));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, content: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const prediction = (i: number): Record<string, unknown> => {
  for (let k = i; k < lines.length; k++) {
    try {
      const e = JSON.parse(lines[k]!) as Record<string, unknown>;
      if (e.type === "prediction" && e.modelId === modelId) return e;
    } catch {
      // a malformed line of the sample
    }
  }
  throw new Error("no prediction");
};

describe("replay: any line survives", () => {
  it("quarantines every kind of bad line with its reason code and line number; the clock keeps the log's range", async () => {
    // Deep enough to overflow a recursive parser, small enough to reach the ingest (under maxRecordBytes).
    const deep = 30_000;
    const bad: Array<{ text: string | Buffer; reason: string }> = [
      { text: JSON.stringify({ ...prediction(40), pad: "x".repeat(1_100_000) }), reason: "record-too-large" },
      { text: JSON.stringify({ ...prediction(50), pad: "x".repeat(300_000) }), reason: "record-too-large" },
      {
        text: JSON.stringify({ ...prediction(60), modelId: "m".repeat(10_000) }),
        reason: "invalid-model-id",
      },
      {
        text: JSON.stringify({ ...prediction(70), requestId: "r".repeat(10_000) }),
        reason: "invalid-request-id",
      },
      {
        text: JSON.stringify({ ...prediction(80), timestamp: "2031-06-01T00:00:00Z" }),
        reason: "timestamp-in-future",
      },
      {
        text: JSON.stringify({ ...prediction(90), timestamp: "2019-06-01T00:00:00Z" }),
        reason: "timestamp-too-old",
      },
      { text: JSON.stringify({ ...prediction(95), timestamp: 1e300 }), reason: "timestamp-in-future" },
      { text: `${"[".repeat(deep)}${"]".repeat(deep)}`, reason: "not-an-object" },
      { text: `${'{"a":'.repeat(deep)}1${"}".repeat(deep)}`, reason: "invalid-type" },
      {
        text: JSON.stringify({ ...prediction(100), features: { x1: "DEEP" } }).replace(
          '"DEEP"',
          `${"[".repeat(deep)}${"]".repeat(deep)}`,
        ),
        reason: "feature-type-mismatch",
      },
      { text: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), reason: "invalid-encoding" },
    ];
    const body: Buffer[] = [];
    const expected = new Map<number, string>();
    let lineNo = 0;
    const stride = Math.floor(lines.length / (bad.length + 1));
    let next = 0;
    for (let i = 0; i < lines.length; i++) {
      if (i > 0 && i % stride === 0 && next < bad.length) {
        const b = bad[next++]!;
        body.push(typeof b.text === "string" ? Buffer.from(b.text) : b.text, Buffer.from("\n"));
        expected.set(++lineNo, b.reason);
      }
      body.push(Buffer.from(`${lines[i]}\n`));
      lineNo++;
    }
    expect(next).toBe(bad.length);
    const events = write("bad.jsonl", Buffer.concat(body));
    const clean = write("clean.jsonl", `${lines.join("\n")}\n`);
    const quarantineOut = join(dir, "quarantine.jsonl");

    const r = await runReplay({ eventsPath: events, config, quarantineOutPath: quarantineOut });
    const c = await runReplay({ eventsPath: clean, config });

    const s = r.summary;
    expect(s.lines).toBe(lineNo);
    expect(s.conserved).toBe(true);
    expect(s.ingest.aggregated + s.ingest.quarantined).toBe(s.lines);
    expect(s.ingest.neverSent).toBe(1);
    expect(s.ingest.received).toBe(s.lines - 1);
    // The clock spans the clean log's range: the 2019, 2031 and 1e300 lines did not stretch it (1e300 is no
    // instant at all: it arrives with the line before it).
    expect([s.from, s.to]).toEqual([c.summary.from, c.summary.to]);
    expect(s.strayLines).toBe(2);
    expect(s.evaluations).toBe(c.summary.evaluations);
    // Every inserted line is listed with its number and the production reason code.
    const listed = readFileSync(quarantineOut, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { file: string; line: number; reason: string });
    expect(listed).toHaveLength(s.ingest.quarantined);
    const byLine = new Map(listed.map((p) => [p.line, p.reason]));
    for (const [line, reason] of expected)
      expect({ line, reason: byLine.get(line) }).toEqual({ line, reason });
    expect(listed.every((p) => p.file === events)).toBe(true);
    // The bad lines add quarantine and no statistics (decisions may differ: quarantine rate is a signal).
    expect(s.ingest.aggregated).toBe(c.summary.ingest.aggregated);
  }, 120_000);
});

describe("replay: streamed input", () => {
  it("gzip, several files and a directory in the archive's layout give the plain file's result", async () => {
    const plain = write("all.jsonl", `${lines.join("\n")}\n`);
    const half = Math.floor(lines.length / 2);
    const archive = join(dir, "archive", modelId);
    mkdirSync(join(archive, "2026/01/05"), { recursive: true });
    mkdirSync(join(archive, "2026/01/06"), { recursive: true });
    // Firehose names its objects without an extension; gzip is found from the content.
    writeFileSync(join(archive, "2026/01/06/part-2"), gzipSync(`${lines.slice(half).join("\n")}\n`));
    writeFileSync(join(archive, "2026/01/05/part-1"), `${lines.slice(0, half).join("\n")}\n`);
    const gz = write("all.jsonl.gz", gzipSync(`${lines.join("\n")}\n`));

    const a = await runReplay({ eventsPath: plain, config });
    const b = await runReplay({ eventsPath: [join(dir, "archive")], config });
    const g = await runReplay({ eventsPath: gz, config });
    for (const x of [b, g]) {
      expect(x.summary.lines).toBe(a.summary.lines);
      expect(x.summary.ingest).toEqual(a.summary.ingest);
      expect(x.summary.digest).toBe(a.summary.digest);
      expect(x.decisions.map((d) => d.line)).toEqual(a.decisions.map((d) => d.line));
    }
    expect(b.summary.events).toHaveLength(2);
  }, 120_000);
});

describe("replay: policies compared in one pass", () => {
  it("evaluates each policy on the same ingest; the configuration's own policy decides as when alone", async () => {
    const events = write("policies.jsonl", `${lines.join("\n")}\n`);
    const base = config.models[0]!.policy;
    const strict = write(
      "strict.json",
      JSON.stringify({
        ...base,
        signals: { ...base.signals, performance: { ...base.signals.performance, floor: 0.99 } },
      }),
    );
    const alone = await runReplay({ eventsPath: events, config });
    const both = await runReplay({
      eventsPath: events,
      config,
      policies: [strict],
      sweep: { path: "stability.cooldownHours", values: [0, 96] },
      changePoints: [{ at: Date.parse("2026-01-06T00:00:00Z") }],
    });
    const names = both.summary.policies.map((p) => p.policy);
    expect(names).toEqual(["config", "strict", "cooldownHours=0", "cooldownHours=96"]);
    expect(both.summary.ingest).toEqual(alone.summary.ingest);
    const own = both.decisions.filter((d) => d.policy === "config");
    expect(own.map((d) => d.line)).toEqual(alone.decisions.map((d) => d.line));
    for (const row of both.summary.policies) {
      expect(row.evaluations).toBe(alone.summary.evaluations);
      expect(row.reactions).toHaveLength(1);
      expect(row.alerts + row.retrains).toBe(
        both.decisions.filter((d) => d.policy === row.policy && d.action !== "none").length,
      );
    }
    expect(both.summary.changePoints).toEqual([
      { modelId, at: Date.parse("2026-01-06T00:00:00Z"), source: "given" },
    ]);
  }, 120_000);
});
