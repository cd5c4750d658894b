import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("bin/app.ts with an invalid configuration", () => {
  it("exits 1 before building anything, naming each bad field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "app-entry-"));
    const configPath = join(dir, "bad.config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        models: [
          {
            id: "churn",
            task: "binary",
            features: [{ name: "tenure", kind: "numeric", importance: -1 }],
            training: { imageUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/train:1" },
            deployment: { canarySize: 120 },
          },
        ],
        schedule: { expression: "cron(0 3 * * * *)" },
      }),
    );
    const failure = await run(process.execPath, ["--import", "tsx", "bin/app.ts"], {
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ config: configPath }),
        CDK_OUTDIR: join(dir, "out"),
      },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(`invalid configuration (${configPath}):`);
    expect(failure?.stderr).toContain("models[0].deployment.canarySize: must be between 1 and 50");
    expect(failure?.stderr).toContain("models[0].features[0].importance: must be >= 0");
    expect(failure?.stderr).toContain(
      "schedule.expression: cron: exactly one of day-of-month and day-of-week must be ?",
    );
  });
});
