import { appendFileSync, mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { EventLogError, type InputFile } from "../../local/event-log";
import { LogSpill, type ReplayRecord } from "../../local/log-spill";
import { SeededRandom } from "../../local/prng";

const dir = mkdtempSync(join(tmpdir(), "log-spill-"));
const T0 = Date.parse("2026-03-02T00:00:00Z");
const MIN = 60_000;

/** An event line at `minutes` after T0 (or with the timestamp given as it is). */
const ev = (minutes: number | string, id: string) =>
  JSON.stringify({
    schemaVersion: 1,
    type: "prediction",
    modelId: "m",
    requestId: id,
    timestamp: typeof minutes === "number" ? new Date(T0 + minutes * MIN).toISOString() : minutes,
    features: { x: 1 },
    prediction: 1,
  });

/** `n` lines, one every `step` minutes from `start`. */
const run = (start: number, n: number, step: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ev(start + i * step, `${prefix}${i}`));

let files = 0;
function input(content: string | Buffer): InputFile {
  const path = join(dir, `in-${files++}.jsonl`);
  writeFileSync(path, content);
  return { path, name: path, size: Buffer.byteLength(content) };
}
const text = (lines: readonly string[]) => `${lines.join("\n")}\n`;

async function records(spill: LogSpill): Promise<ReplayRecord[]> {
  const out: ReplayRecord[] = [];
  for await (const group of spill.recordGroups()) out.push(...group);
  return out;
}

/** The lines in a seeded random order. */
const shuffled = <T>(xs: readonly T[], seed: number): T[] => new SeededRandom(seed).shuffled(xs);

const ordered = run(0, 400, 1, "a");
const bigLine = `{"pad":"${"x".repeat(1_100_000)}"}`;

describe("LogSpill: the ordered read gives what the spill gives", () => {
  const cases: Array<{ name: string; inputs: () => InputFile[]; spilled: boolean; verdicts?: number }> = [
    { name: "in time order", inputs: () => [input(text(ordered))], spilled: false },
    {
      name: "up to an hour back",
      inputs: () => [input(text(ordered.map((l, i) => (i % 50 === 49 ? ev(i - 59, `late${i}`) : l))))],
      spilled: false,
    },
    { name: "shuffled", inputs: () => [input(text(shuffled(ordered, 7)))], spilled: true },
    {
      name: "one line three hours back, at the end",
      inputs: () => [input(text([...ordered, ev(200, "late")]))],
      spilled: true,
    },
    {
      name: "strays at both ends",
      inputs: () => [
        input(text([ev("2019-01-01T00:00:00Z", "s1"), ...ordered, ev("2031-01-01T00:00:00Z", "s2")])),
      ],
      spilled: false,
    },
    {
      name: "a 2031 stray in the middle",
      inputs: () => [
        input(text([...ordered.slice(0, 200), ev("2031-01-01T00:00:00Z", "s"), ...ordered.slice(200)])),
      ],
      spilled: true,
    },
    {
      name: "a log of half an hour and a stray after it",
      inputs: () => [input(text([...run(0, 30, 1, "h"), ev("2031-01-01T00:00:00Z", "s")]))],
      spilled: false,
    },
    {
      name: "the same, spilled",
      inputs: () => [input(text([ev("2031-01-01T00:00:00Z", "s"), ...run(0, 30, 1, "h")]))],
      spilled: true,
    },
    {
      name: "untimed, broken, not UTF-8 and oversized lines",
      inputs: () => [
        input(
          Buffer.concat([
            Buffer.from(text(["{not json", ev("yesterday", "u0"), ...ordered.slice(0, 100), "[1,2]"])),
            Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
            Buffer.from(text([bigLine, ev("soon", "u1"), ...ordered.slice(100)])),
          ]),
        ),
      ],
      spilled: false,
      verdicts: 1,
    },
    {
      name: "the same, out of order",
      inputs: () => [
        input(text(["{not json", ev("yesterday", "u0"), ...shuffled(ordered, 3), bigLine, ev("soon", "u1")])),
      ],
      spilled: true,
      verdicts: 1,
    },
    {
      name: "600 hours shuffled (more spill files than are kept open)",
      inputs: () => [input(text(shuffled(run(0, 600, 60, "h"), 5)))],
      spilled: true,
    },
    {
      name: "two files that continue each other, one gzip",
      inputs: () => [input(text(ordered.slice(0, 150))), input(gzipSync(text(ordered.slice(150))))],
      spilled: false,
    },
    {
      name: "two files, the second earlier (two models' archives)",
      inputs: () => [input(text(ordered.slice(150))), input(gzipSync(text(ordered.slice(0, 150))))],
      spilled: true,
    },
  ];

  it.each(cases)("$name", async ({ inputs, spilled, verdicts = 0 }) => {
    const files = inputs();
    const auto = await LogSpill.build(files);
    const always = await LogSpill.build(files, { alwaysSpill: true });
    try {
      expect(auto.spilled).toBe(spilled);
      expect(always.spilled).toBe(true);
      const a = await records(auto);
      const b = await records(always);
      expect(a).toEqual(b);
      // Every line is either a record or a verdict, once.
      expect(auto.verdicts).toHaveLength(verdicts);
      expect(a).toHaveLength(auto.lines - verdicts);
      expect(new Set(a.map((r) => r.ord)).size).toBe(a.length);
      // Arrival times never go back by more than the group (an hour).
      for (let i = 1; i < a.length; i++)
        expect(a[i]!.arrivalMs).toBeGreaterThanOrEqual(
          Math.floor(a[i - 1]!.arrivalMs / 3_600_000) * 3_600_000,
        );
    } finally {
      await auto.close();
      await always.close();
    }
  });
});

describe("LogSpill: an input that changes between the passes", () => {
  it.each([
    { name: "a line appended", change: (path: string) => appendFileSync(path, `${ev(30, "extra")}\n`) },
    { name: "truncated", change: (path: string) => truncateSync(path, 1000) },
  ])("$name: a clear error, not a partial replay", async ({ change }) => {
    const file = input(text(ordered));
    const spill = await LogSpill.build([file]);
    try {
      expect(spill.spilled).toBe(false);
      change(file.path);
      await expect(records(spill)).rejects.toThrow(EventLogError);
      await expect(records(spill)).rejects.toThrow(/changed while it was replayed/);
    } finally {
      await spill.close();
    }
  });
});
