import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { computeDrift, DriftInputFileError, driftCommand, inferKinds } from "../../bin/commands/drift";
import { labelEvent, predictionEvent } from "../support/events";

const dir = mkdtempSync(join(tmpdir(), "drift-cmd-"));

function eventsFile(name: string, rows: Array<Record<string, unknown>>, extra = ""): string {
  const path = join(dir, name);
  const lines = rows.map((features, i) =>
    JSON.stringify(predictionEvent({ modelId: "m", requestId: `r${i}`, timestamp: 1, features })),
  );
  writeFileSync(path, `${lines.join("\n")}\n${extra}`);
  return path;
}

const ref = eventsFile(
  "ref.jsonl",
  Array.from({ length: 40 }, (_, i) => ({
    x: i,
    plan: i % 2 ? "pro" : "free",
    flag: i % 3 === 0,
    y: i % 5 ? 1 : null,
  })),
);
const cur = eventsFile(
  "cur.jsonl",
  Array.from({ length: 30 }, (_, i) => ({ x: i + 20, plan: "pro", flag: true, y: 2 })),
  `${JSON.stringify(labelEvent({ modelId: "m", requestId: "r1", timestamp: 2 }))}\n`,
);

describe("drift command", () => {
  it("prints numeric and categorical drift, inferring kinds from the values", async () => {
    const { features } = await computeDrift({ reference: ref, current: cur });
    expect(Object.keys(features)).toEqual(["flag", "plan", "x", "y"]);
    expect(features.x).toMatchObject({ type: "numeric", n: { reference: 40, current: 30 }, ks: 0.5 });
    expect(features.y).toMatchObject({ type: "numeric", n: { reference: 32, current: 30 }, ks: 1 });
    expect(features.plan).toMatchObject({ type: "categorical", lInfinity: 0.5 });
    expect(features.flag?.type).toBe("categorical");
  });

  it("treats a feature with any non-number value as categorical", () => {
    const kinds = inferKinds(
      [{ features: { a: 1, b: "x", c: null }, prediction: 1 }],
      [{ features: { a: "1", b: 2 }, prediction: 1 }],
    );
    expect(kinds).toEqual({ a: "categorical", b: "categorical", c: "numeric" });
  });

  it.each([
    ["malformed JSON", "{oops", /bad\.jsonl:41: not valid JSON/],
    ["wrong type", JSON.stringify({ schemaVersion: 1, type: "click" }), /bad\.jsonl:41: "type" must be/],
    [
      "object feature",
      JSON.stringify({ schemaVersion: 1, type: "prediction", features: { a: {} }, prediction: 1 }),
      /feature "a"/,
    ],
  ])("names the file and line of a bad line (%s)", async (_name, line, message) => {
    const bad = eventsFile(
      "bad.jsonl",
      Array.from({ length: 40 }, (_, i) => ({ x: i })),
      `${line}\n`,
    );
    await expect(computeDrift({ reference: bad, current: cur })).rejects.toThrow(DriftInputFileError);
    await expect(computeDrift({ reference: bad, current: cur })).rejects.toThrow(message);
  });

  it("exits with code 2 and a message on stderr for a bad line (real CLI process)", () => {
    const bad = eventsFile("bad2.jsonl", [{ x: 1 }], "not json\n");
    const failed = spawnSync("npx", ["tsx", "bin/cli.ts", "drift", "--reference", ref, "--current", bad], {
      encoding: "utf8",
      cwd: process.cwd(),
    });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain("bad2.jsonl:2:");
    expect(failed.stdout).toBe("");
  });

  it("prints one JSON object on stdout", async () => {
    const chunks: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    try {
      await driftCommand().parseAsync(["--reference", ref, "--current", cur, "--bins", "5"], {
        from: "user",
      });
    } finally {
      write.mockRestore();
    }
    expect(chunks).toHaveLength(1);
    const out = JSON.parse(chunks[0]!);
    expect(Object.keys(out)).toEqual(["features"]);
    expect(out.features.x).toMatchObject({ type: "numeric", n: { reference: 40, current: 30 } });
  });
});
