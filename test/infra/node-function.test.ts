import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { App, Duration, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_METRICS_NAMESPACE, NodeFunction } from "../../lib/constructs/node-function";

const ENTRY = "test/infra/fixtures/noop-handler.ts";

let template: Template;
let outdir: string;
beforeAll(() => {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, "Fn");
  new NodeFunction(stack, "Defaults", { entry: ENTRY, serviceName: "svc" });
  new NodeFunction(stack, "Custom", {
    entry: ENTRY,
    serviceName: "custom",
    memorySize: 2048,
    timeout: Duration.minutes(2),
    logRetention: RetentionDays.ONE_WEEK,
    logLevel: "DEBUG",
    environment: { TABLE_NAME: "t" },
    bundledFiles: { "model-catalog.json": '{"version":1,"models":[]}', "notes.txt": "second file" },
  });
  outdir = app.synth().directory;
  template = Template.fromStack(stack);
});

describe("NodeFunction", () => {
  it("runs nodejs24.x on ARM64 with explicit memory, timeout and active tracing", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      MemorySize: 512,
      Timeout: 30,
      TracingConfig: { Mode: "Active" },
      LoggingConfig: { LogFormat: "JSON", LogGroup: Match.anyValue() },
    });
    template.hasResourceProperties("AWS::Lambda::Function", { MemorySize: 2048, Timeout: 120 });
  });

  it("sets the Powertools environment", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: {
          NODE_OPTIONS: "--enable-source-maps",
          POWERTOOLS_SERVICE_NAME: "svc",
          POWERTOOLS_METRICS_NAMESPACE: DEFAULT_METRICS_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: "INFO",
        },
      },
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: "DEBUG", TABLE_NAME: "t" }) },
    });
  });

  it("writes to its own log group with retention", () => {
    template.resourceCountIs("AWS::Logs::LogGroup", 2);
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
  });

  it("has a role without AWS managed policies that may write only its log group", () => {
    template.allResourcesProperties("AWS::IAM::Role", { ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: { "Fn::GetAtt": [Match.stringLikeRegexp("^DefaultsLogGroup"), "Arn"] },
          }),
        ]),
      },
    });
  });

  it("bundles an ESM module with the createRequire banner and a source map", () => {
    const assets = readdirSync(outdir).filter((d) => d.startsWith("asset."));
    expect(assets.length).toBeGreaterThan(0);
    const files = readdirSync(join(outdir, assets[0]!));
    expect(files).toEqual(expect.arrayContaining(["index.mjs", "index.mjs.map"]));
    const code = readFileSync(join(outdir, assets[0]!, "index.mjs"), "utf8");
    expect(code.startsWith("import { createRequire as __topLevelCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(code).toMatch(/export\s*\{/);
  });

  it("copies its bundled files next to the handler code, byte for byte", () => {
    const withFiles = readdirSync(outdir)
      .filter((d) => d.startsWith("asset."))
      .filter((d) => readdirSync(join(outdir, d)).includes("model-catalog.json"));
    expect(withFiles).toHaveLength(1);
    const dir = join(outdir, withFiles[0]!);
    expect(readFileSync(join(dir, "model-catalog.json"), "utf8")).toBe('{"version":1,"models":[]}');
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("second file");
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(["index.mjs", "index.mjs.map"]));
  });

  it("refuses a bundled file name that is a path", () => {
    const stack = new Stack(new App(), "Bad");
    expect(
      () =>
        new NodeFunction(stack, "Fn", {
          entry: ENTRY,
          serviceName: "x",
          bundledFiles: { "../escape.json": "{}" },
        }),
    ).toThrow(/plain file name/);
  });
});
