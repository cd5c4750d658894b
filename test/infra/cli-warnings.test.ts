import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/** Runs an ESM snippet under tsx in a fresh Node process and returns its stderr. */
function stderrOf(script: string, env: NodeJS.ProcessEnv = {}): string {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _ignored, ...inherited } = process.env;
  const clean = { ...inherited, ...env };
  const out = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: clean,
    timeout: 60_000,
  });
  expect(out.status, out.stderr).toBe(0);
  return out.stderr;
}

const CREATE_CLIENT = `const { SNSClient } = await import("@aws-sdk/client-sns");
new SNSClient({ region: "eu-west-1" });
process.emitWarning("a real warning", { code: "RT_TEST" });`;

const nodeMajor = Number(process.versions.node.split(".")[0]);

describe("CLI warnings", () => {
  it("hides only the AWS SDK's Node-version notice and keeps other warnings", () => {
    const stderr = stderrOf(`await import("./bin/sdk-node-warning.ts");\n${CREATE_CLIENT}`);
    expect(stderr).not.toContain("NodeVersionSupportWarning");
    expect(stderr).toContain("a real warning");
  });

  it.runIf(nodeMajor < 22)("would otherwise print the notice on Node < 22 (what the CLI hides)", () => {
    const stderr = stderrOf(CREATE_CLIENT);
    expect(stderr).toContain("NodeVersionSupportWarning");
    expect(stderr).toContain("a real warning");
  });

  it("leaves the notice on when the caller asks for it", () => {
    const stderr = stderrOf(`await import("./bin/sdk-node-warning.ts");\n${CREATE_CLIENT}`, {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false",
    });
    if (nodeMajor < 22) expect(stderr).toContain("NodeVersionSupportWarning");
    expect(stderr).toContain("a real warning");
  });
});
