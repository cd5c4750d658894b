/**
 * `replay --emulators` end to end on dynalite + kinesalite through the real ingest and evaluate handlers:
 * the chaos run (redelivered, bisected, throttled batches) must leave exactly the stored statistics of the
 * clean run; malformed lines are quarantined and reported with their line numbers and reason codes;
 * unusable files fail with a clear message.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventLogError } from "../../local/event-log";
import { runReplay } from "../../local/replay";
import { sampleEventLog } from "../../local/sample-log";
import { scenarioConfig } from "../../local/scenario-config";
import { createScenario } from "../../local/scenarios";

let dir = "";
let events = "";
const config = scenarioConfig(createScenario("drift"));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "replay-"));
  const { lines } = sampleEventLog("drift", { days: 3, eventsPerDay: 150, seed: 5 });
  // Any order is accepted: shuffle deterministically, then add malformed lines at known positions.
  const shuffled = lines
    .map((l, i) => ({ l, k: (i * 7919) % 104729 }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.l);
  shuffled.splice(10, 0, "{not json");
  shuffled.splice(20, 0, JSON.stringify({ schemaVersion: 1, type: "prediction", modelId: "churn" }));
  events = join(dir, "events.jsonl");
  await writeFile(events, `${shuffled.join("\n")}\n`);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("replay", () => {
  it("chaos (redelivery, bisection, throttling) leaves the clean run's digest; bad lines are quarantined", async () => {
    const out = join(dir, "decisions.jsonl");
    const clean = await runReplay({ eventsPath: events, config, outPath: out, engine: "emulators" });
    const chaos = await runReplay({ eventsPath: events, config, chaos: { seed: 7 }, engine: "emulators" });
    expect(clean.summary.engine).toBe("emulators");

    expect(clean.summary.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(chaos.summary.digest).toBe(clean.summary.digest);
    const c = chaos.summary.chaos!;
    expect(c.redeliveries + c.staleRedeliveries).toBeGreaterThan(0);
    expect(c.functionErrors).toBeGreaterThan(0);
    expect(c.throttles).toBeGreaterThan(0);

    // Conservation: every line was received; the two bad lines are quarantined, the rest aggregated.
    expect(clean.summary.lines).toBe(clean.summary.ingest.received);
    expect(clean.summary.ingest.quarantined).toBeGreaterThanOrEqual(2);
    expect(clean.summary.ingest.aggregated + clean.summary.ingest.quarantined).toBe(
      clean.summary.ingest.received,
    );
    expect(chaos.summary.ingest).toEqual(clean.summary.ingest);
    expect(clean.summary.conserved).toBe(true);
    expect(clean.summary.problems).toEqual(
      expect.arrayContaining([
        { file: events, line: 11, reason: "invalid-json", detail: "payload is not JSON" },
        { file: events, line: 21, reason: "missing-request-id", detail: expect.any(String) },
      ]),
    );
    // Listed once each, even where chaos redelivered their batch.
    expect(chaos.summary.problems.filter((p) => p.line === 11)).toHaveLength(1);

    // One JSON line per evaluation, with signals and their thresholds; same decisions under chaos.
    const lines = (await readFile(out, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(clean.summary.evaluations);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const l of lines) {
      expect(["none", "alert", "retrain"]).toContain(l.action);
      expect(l.signals.length).toBeGreaterThan(0);
      expect(l.signals[0]).toHaveProperty("threshold");
      expect(l.signals[0]).toHaveProperty("breached");
    }
    expect(chaos.decisions.map((d) => d.action)).toEqual(clean.decisions.map((d) => d.action));
  }, 120_000);

  it.each([
    { name: "missing file", text: undefined, why: /cannot read events file/ },
    { name: "empty file", text: "\n\n", why: /empty/ },
    { name: "JSON array", text: '[{"a":1}]', why: /:1: the file is one JSON array/ },
    {
      name: "no timestamps",
      text: '{"a":1}\nnope\n',
      why: /none of its 2 lines.*:1: no usable "timestamp" \(absent\).*:2: no usable "timestamp"/,
    },
  ])("rejects an unusable events file ($name) with a clear message", async ({ name, text, why }) => {
    const file = join(dir, `${name.replace(/ /g, "-")}.jsonl`);
    if (text !== undefined) await writeFile(file, text);
    const run = runReplay({ eventsPath: file, config });
    await expect(run).rejects.toThrow(EventLogError);
    await expect(runReplay({ eventsPath: file, config })).rejects.toThrow(why);
  });
});
