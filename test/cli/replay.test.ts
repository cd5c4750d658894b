/**
 * The `replay` command's contract: exit 0 with counts whatever the lines hold, decision lines on stdout
 * and the summary last; exit 2 with a one-line message (no stack trace) for a problem with a file or the
 * options as a whole.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sampleEventLog } from "../../local/sample-log";
import { scenarioConfig } from "../../local/scenario-config";
import { createScenario } from "../../local/scenarios";

const dir = mkdtempSync(join(tmpdir(), "replay-cli-"));
const config = join(dir, "config.json");
const deployment = scenarioConfig(createScenario("drift"));
writeFileSync(config, JSON.stringify(deployment));
const policy = join(dir, "policy.json");
writeFileSync(policy, JSON.stringify(deployment.models[0]!.policy));

function replay(...args: string[]) {
  return replayWithInput(undefined, ...args);
}

/** The command with `input` on its standard input (a pipe). */
function replayWithInput(input: string | Buffer | undefined, ...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "bin/cli.ts", "replay", "--no-progress", ...args], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    ...(input !== undefined ? { input } : {}),
  });
}

describe("replay command", () => {
  it("exits 0 with counts on a log with bad lines, listing them on stderr", () => {
    const { lines } = sampleEventLog("drift", { days: 2, eventsPerDay: 100, seed: 2 });
    lines.splice(5, 0, "{oops", JSON.stringify({ type: "prediction", modelId: "x".repeat(10_000) }));
    const events = join(dir, "events.jsonl");
    writeFileSync(events, `${lines.join("\n")}\n`);
    const r = replay("--events", events, "--config", config);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split("\n");
    const { summary } = JSON.parse(out[out.length - 1]!);
    expect(out.length - 1).toBe(summary.evaluations);
    expect(summary.conserved).toBe(true);
    expect(r.stderr).toContain(`${events}:6: quarantined invalid-json`);
    expect(r.stderr).toContain(`${events}:7: quarantined`);
    expect(r.stderr).toMatch(/\| policy +\| evaluations/);
  }, 60_000);

  it.each([
    { name: "plain, as -", gzip: false, path: "-" },
    { name: "gzip, as /dev/stdin", gzip: true, path: "/dev/stdin" },
  ])(
    "reads a log on its standard input ($name) as it reads the file",
    ({ gzip, path }) => {
      const { lines } = sampleEventLog("drift", { days: 2, eventsPerDay: 100, seed: 5 });
      const text = `${lines.join("\n")}\n`;
      const events = join(dir, "piped.jsonl");
      writeFileSync(events, text);
      const summaryOf = (r: ReturnType<typeof replay>) => {
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(r.status).toBe(0);
        const out = r.stdout.trim().split("\n");
        return { decisions: out.slice(0, -1), summary: JSON.parse(out[out.length - 1]!).summary };
      };
      const fromFile = summaryOf(replay("--events", events, "--config", config));
      const piped = summaryOf(
        replayWithInput(gzip ? gzipSync(text) : text, "--events", path, "--config", config),
      );
      expect(piped.decisions).toEqual(fromFile.decisions);
      expect(piped.summary.digest).toBe(fromFile.summary.digest);
      expect(piped.summary.ingest).toEqual(fromFile.summary.ingest);
      expect(piped.summary.conserved).toBe(true);
    },
    60_000,
  );

  it.each([
    { name: "a missing file", args: ["--events", join(dir, "nope.jsonl")], why: /cannot read events file/ },
    { name: "an empty file", args: ["--events", "EMPTY"], why: /empty/ },
    {
      name: "policies compared on the emulators",
      args: ["--events", "EMPTY", "--emulators", "--policy", policy],
      why: /--emulators replays one policy/,
    },
    {
      name: "--train local on the emulators",
      args: ["--events", "EMPTY", "--train", "local", "--emulators"],
      why: /--train local runs on the default in-memory path/,
    },
  ])(
    "exits 2 on $name, without a stack trace",
    ({ args, why }) => {
      const empty = join(dir, "empty.jsonl");
      writeFileSync(empty, "\n");
      const r = replay(...args.map((a) => (a === "EMPTY" ? empty : a)), "--config", config);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
    60_000,
  );
});
