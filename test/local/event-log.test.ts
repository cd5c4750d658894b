import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../lambdas/domain/stats/mulberry32";
import {
  EventLogError,
  type InputFile,
  type LogLine,
  listInputs,
  quickEnvelope,
  readLines,
  scanEnvelope,
  scanTopLevel,
} from "../../local/event-log";
import { canonicalJson } from "../../local/pipeline";

const dir = mkdtempSync(join(tmpdir(), "event-log-"));
const file = (name: string, content: string | Buffer): InputFile => {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return { path, name, size: Buffer.byteLength(content) };
};
async function linesOf(input: InputFile, maxLineBytes?: number): Promise<LogLine[]> {
  const out: LogLine[] = [];
  await readLines(input, (l) => out.push(l), undefined, maxLineBytes);
  return out;
}

describe("readLines (streamed replay input)", () => {
  const text = ['{"a":1}', "", "  ", '{"b":2}\r', "{broken"].join("\n");

  it("numbers non-empty lines, strips CR, keeps a last line without newline", async () => {
    expect(await linesOf(file("plain.jsonl", text))).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 4, text: '{"b":2}' },
      { line: 5, text: "{broken" },
    ]);
  });

  it("reads gzip detected from the content, whatever the name", async () => {
    expect(await linesOf(file("archive-object", gzipSync(text)))).toEqual(await linesOf(file("p2", text)));
  });

  it("reports a line larger than the limit by size, without its content, and goes on", async () => {
    const big = "x".repeat(5000);
    const lines = await linesOf(file("big.jsonl", `{"a":1}\n${big}\n{"c":3}\n`), 1000);
    expect(lines).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, oversizedBytes: 5000 },
      { line: 3, text: '{"c":3}' },
    ]);
  });

  it("keeps the bytes of a line that is not UTF-8", async () => {
    const bad = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const lines = await linesOf(
      file("latin.jsonl", Buffer.concat([Buffer.from('{"a":1}\n'), bad, Buffer.from("\n")])),
    );
    expect(lines[0]).toEqual({ line: 1, text: '{"a":1}' });
    expect(lines[1]!.line).toBe(2);
    expect(lines[1]!.bytes).toEqual(bad);
  });

  it("rejects a file that says gzip but is not", async () => {
    const broken = Buffer.concat([gzipSync(text).subarray(0, 12), Buffer.from("garbage")]);
    await expect(linesOf(file("broken.gz", broken))).rejects.toThrow(/not valid gzip/);
  });
});

describe("listInputs", () => {
  it("walks directories in path order (the archive's time order), skipping hidden files", async () => {
    file("archive/churn/2026/01/02/b", "{}\n");
    file("archive/churn/2026/01/01/a", "{}\n");
    file("archive/.tmp", "{}\n");
    const inputs = await listInputs([join(dir, "archive")]);
    expect(inputs.map((i) => i.path.slice(dir.length + 1))).toEqual([
      "archive/churn/2026/01/01/a",
      "archive/churn/2026/01/02/b",
    ]);
  });

  it.each([
    { paths: [], why: /no events file/ },
    { paths: ["/nonexistent/x.jsonl"], why: /cannot read events file/ },
  ])("rejects $paths", async ({ paths, why }) => {
    await expect(listInputs(paths)).rejects.toThrow(EventLogError);
    await expect(listInputs(paths)).rejects.toThrow(why);
  });
});

describe("readLines from a named pipe (read once, as a stream)", () => {
  const text = ['{"a":1}', "", '{"b":2}', "{broken"].join("\n");
  it.each([
    { name: "plain", content: Buffer.from(text) },
    { name: "gzip", content: gzipSync(text) },
  ])("$name: the same lines as from a file", async ({ name, content }) => {
    const fifo = join(dir, `pipe-${name}`);
    execFileSync("mkfifo", [fifo]);
    const source = file(`pipe-source-${name}`, content);
    // The writer blocks until the pipe is opened for reading.
    const writer = spawn("sh", ["-c", `cat "${source.path}" > "${fifo}"`]);
    const written = new Promise((resolve) => writer.on("exit", resolve));
    const [input] = await listInputs([fifo]);
    expect(input).toMatchObject({ path: fifo, size: 0, stream: true });
    const lines = await linesOf(input!);
    expect(await written).toBe(0);
    expect(lines).toEqual(await linesOf(source));
    expect(lines).toHaveLength(3);
  });
});

describe("scanEnvelope", () => {
  it.each([
    {
      s: '{"modelId":"m","requestId":"r","timestamp":5}',
      want: { modelId: "m", requestId: "r", timestamp: 5 },
    },
    {
      s: '{"features":{"x":[1,{"timestamp":9}],"s":"}\\""},"timestamp":"2026-01-01T00:00:00Z"}',
      want: { timestamp: "2026-01-01T00:00:00Z" },
    },
    { s: '{"modelId":"a\\u0062","modelId":"c"}', want: { modelId: "ab" } },
    { s: `{"f":${"[".repeat(100_000)}${"]".repeat(100_000)},"timestamp":1}`, want: { timestamp: 1 } },
    {
      s: '{"modelVersion":"a{b","modelId":"m","requestId":"r","timestamp":5}',
      want: { modelId: "m", requestId: "r", timestamp: 5 },
    },
    {
      s: '{"modelId":"m","requestId":"r","timestamp":01}',
      want: { modelId: "m", requestId: "r", timestamp: undefined },
    },
    {
      s: '{"modelId": "m", "requestId" : "r","timestamp":-1.5e3}',
      want: { modelId: "m", requestId: "r", timestamp: -1500 },
    },
    { s: "[1,2]", want: {} },
    { s: '{"timestamp":', want: { timestamp: undefined } },
  ])("$s", ({ s, want }) => {
    expect(scanEnvelope(s)).toEqual(want);
  });
});

describe("scanEnvelope's fast path agrees with the general scan", () => {
  // Lines built from the pieces real and broken producers write: every combination the fast path either
  // reads as the general scan does, or leaves to it.
  const keys = [
    "timestamp",
    "modelId",
    "requestId",
    "schemaVersion",
    "features",
    "type",
    'ti\\"me',
    "modelI",
  ];
  const values = [
    '"2026-01-05T00:00:43.686Z"',
    '"churn"',
    '"a\\"b"',
    '"x\\\\"',
    '"{[,}"',
    "1767571243686",
    "-1.5e3",
    "01",
    "true",
    "null",
    '{"timestamp":1,"s":"}"}',
    '[1,{"modelId":"n"}]',
    "",
  ];
  const separators = [",", ", ", " ,"];
  const rand = mulberry32(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const lines = Array.from({ length: 20_000 }, () => {
    // The three fields (most of the time, each once), and other pairs at random places.
    const named = ["timestamp", "modelId", "requestId"].filter(() => rand() < 0.9);
    const others = Array.from({ length: Math.floor(rand() * 4) }, () => pick(keys));
    const order = [...named];
    for (const k of others) order.splice(Math.floor(rand() * (order.length + 1)), 0, k);
    if (order.length === 0) order.push(pick(keys));
    const pairs = order.map((k) => {
      const colon = rand() < 0.95 ? ":" : " : ";
      const value = rand() < 0.7 && named.includes(k) ? pick(values.slice(0, 2)) : pick(values);
      return `"${k}"${colon}${value}`;
    });
    let body = pairs[0]!;
    for (const p of pairs.slice(1)) body += (rand() < 0.85 ? "," : pick(separators)) + p;
    const open = rand() < 0.95 ? "{" : pick([" {", "[", "{ "]);
    return `${open}${body}${rand() < 0.9 ? "}" : ""}`;
  });

  it("on 20,000 generated lines, valid and broken", () => {
    let decided = 0;
    for (const line of lines) {
      const quick = quickEnvelope(line);
      if (quick === undefined) continue;
      decided++;
      expect(quick, line).toEqual(scanTopLevel(line));
    }
    // The fast path decides a good share of them, or the comparison says little.
    expect(decided).toBeGreaterThan(1000);
    for (const line of lines.slice(0, 2000)) expect(scanEnvelope(line)).toEqual(scanTopLevel(line));
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
