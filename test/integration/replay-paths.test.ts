/**
 * The two engines of `replay` run the same use cases: on the same log (with bad lines of every kind), the
 * in-memory path and the emulator path (kinesalite, dynalite, the Lambda handlers) must give the same
 * decision lines, the same counts, the same quarantined lines and the same stored statistics.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReplay } from "../../local/replay";
import { sampleEventLog } from "../../local/sample-log";
import { scenarioConfig } from "../../local/scenario-config";
import { createScenario } from "../../local/scenarios";

let dir = "";
let events = "";
const config = scenarioConfig(createScenario("drift"));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "replay-paths-"));
  const { lines, modelId } = sampleEventLog("drift", { days: 3, eventsPerDay: 150, seed: 11 });
  const at = (i: number) => JSON.parse(lines[i]!) as Record<string, unknown>;
  lines.splice(30, 0, "{not json");
  lines.splice(60, 0, JSON.stringify({ ...at(60), modelId: "m".repeat(10_000) }));
  lines.splice(90, 0, JSON.stringify({ ...at(90), requestId: "r".repeat(5_000) }));
  lines.splice(120, 0, JSON.stringify({ ...at(120), timestamp: "2031-01-01T00:00:00Z" }));
  lines.splice(150, 0, JSON.stringify({ ...at(150), modelId, filler: "x".repeat(300_000) }));
  events = join(dir, "events.jsonl");
  await writeFile(events, `${lines.join("\n")}\n`);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("replay engines", () => {
  it("memory and emulators give the same decisions, counts, quarantine and statistics", async () => {
    const memOut = join(dir, "memory.jsonl");
    const emuOut = join(dir, "emulators.jsonl");
    const mem = await runReplay({ eventsPath: events, config, outPath: memOut });
    const emu = await runReplay({ eventsPath: events, config, outPath: emuOut, engine: "emulators" });
    expect(mem.summary.engine).toBe("memory");
    expect(emu.summary.engine).toBe("emulators");

    const memLines = await readFile(memOut, "utf8");
    expect(memLines.trim().split("\n").length).toBeGreaterThanOrEqual(5);
    expect(memLines).toBe(await readFile(emuOut, "utf8"));
    expect(mem.decisions.map((d) => d.action)).toEqual(emu.decisions.map((d) => d.action));

    expect(mem.summary.ingest).toEqual(emu.summary.ingest);
    expect(mem.summary.ingest.quarantinedByReason).toMatchObject({
      "invalid-model-id": 1,
      "invalid-request-id": 1,
      "timestamp-in-future": 1,
      "record-too-large": 1,
    });
    expect(mem.summary.conserved).toBe(true);
    expect([...mem.summary.problems].sort((a, b) => a.line - b.line)).toEqual(
      [...emu.summary.problems].sort((a, b) => a.line - b.line),
    );
    // The lines inserted above (the sample itself holds a few malformed lines too).
    const reasonAt = (line: number) => mem.summary.problems.find((p) => p.line === line)?.reason;
    expect([31, 61, 91, 121, 151].map(reasonAt)).toEqual([
      "invalid-json",
      "invalid-model-id",
      "invalid-request-id",
      "timestamp-in-future",
      "record-too-large",
    ]);

    expect(mem.summary.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(mem.summary.digest).toBe(emu.summary.digest);
    expect(mem.summary.from).toBe(emu.summary.from);
    expect(mem.summary.to < "2027").toBe(true);
  }, 180_000);

  it("still agree once the in-memory engine has dropped buckets no window reads any more", async () => {
    // 16 days: beyond the label horizon + widest window + margin the engine keeps (12 days here).
    const { lines } = sampleEventLog("drift", { days: 16, eventsPerDay: 60, seed: 4 });
    const long = join(dir, "long.jsonl");
    await writeFile(long, `${lines.join("\n")}\n`);
    const mem = await runReplay({ eventsPath: long, config });
    const emu = await runReplay({ eventsPath: long, config, engine: "emulators" });
    expect(mem.summary.digest).toBeUndefined(); // buckets were dropped: no digest over all of them
    expect(emu.summary.digest).toMatch(/^sha256:/);
    expect(mem.decisions.length).toBeGreaterThanOrEqual(30);
    expect(mem.decisions.map((d) => d.line)).toEqual(emu.decisions.map((d) => d.line));
    expect(mem.summary.ingest).toEqual(emu.summary.ingest);
    expect(mem.summary.policies).toEqual(emu.summary.policies);
  }, 300_000);
});
