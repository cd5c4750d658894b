import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CfnResource, Duration, RemovalPolicy, Stage } from "aws-cdk-lib";
import type { IVpc } from "aws-cdk-lib/aws-ec2";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, LoggingFormat, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { CDK_ROLE_DEPENDS_ON, ignoreCfnLint } from "./cfn-lint";
import { acknowledge } from "./nag";

/**
 * The Lambda runtime of every function of this project: the newest Node.js runtime aws-cdk-lib offers
 * (nodejs24.x, https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html). Bumped deliberately,
 * together with {@link NODE_BUNDLE_TARGET}.
 */
export const NODE_RUNTIME = Runtime.NODEJS_24_X;

/** esbuild target of the bundles: the runtime's Node.js major version. */
export const NODE_BUNDLE_TARGET = "node24";

/** CloudWatch namespace every Lambda of this project emits its Powertools metrics into. */
export const DEFAULT_METRICS_NAMESPACE = "RetrainTriggers";

/**
 * esbuild banner that gives ESM bundles a CommonJS `require`: some dependencies (e.g. parts of the
 * AWS SDK and middy plugins) still call `require` for Node built-ins, which would throw in pure ESM.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __topLevelCreateRequire } from 'node:module';const require = __topLevelCreateRequire(import.meta.url);";

/**
 * Writes `files` into a directory of the app's output (cdk.out) at synth time, named by their content
 * hash, and returns its path: the source of the copy into the bundle.
 */
function stagedFiles(
  scope: Construct,
  files: Readonly<Record<string, string>>,
): { dir: string; names: string[] } {
  const names = Object.keys(files).sort();
  for (const name of names)
    if (!/^[A-Za-z0-9._-]+$/.test(name))
      throw new Error(`bundled file name must be a plain file name: ${name}`);
  const hash = createHash("sha256");
  for (const name of names) hash.update(name).update("\u0000").update(files[name]!).update("\u0000");
  const dir = join(Stage.of(scope)?.outdir ?? tmpdir(), "bundled-files", hash.digest("hex").slice(0, 16));
  mkdirSync(dir, { recursive: true });
  for (const name of names) writeFileSync(join(dir, name), files[name]!);
  return { dir, names };
}

/**
 * esbuild command hooks that copy staged files into the bundle's output directory. The project bundles
 * with the local esbuild (a devDependency), so the staged directory is on the same file system.
 */
function copyIntoBundle(staged: { dir: string; names: string[] }) {
  const copy = process.platform === "win32" ? "copy" : "cp";
  return {
    beforeBundling: (): string[] => [],
    beforeInstall: (): string[] => [],
    afterBundling: (_inputDir: string, outputDir: string): string[] =>
      staged.names.map((name) => `${copy} "${join(staged.dir, name)}" "${join(outputDir, name)}"`),
  };
}

/** Properties of {@link NodeFunction}. Every production-relevant setting is explicit, with a default. */
export interface NodeFunctionProps {
  /** Path of the TypeScript entry file (e.g. `lambdas/handlers/ingest.ts`). */
  readonly entry: string;
  /**
   * Exported handler name in the entry file.
   * @default "handler"
   */
  readonly handler?: string;
  /** Powertools service name (`POWERTOOLS_SERVICE_NAME`); also the `service` dimension of every metric. */
  readonly serviceName: string;
  /**
   * What the function does, shown in the console.
   * @default - no description
   */
  readonly description?: string;
  /**
   * Memory in MiB. Explicit on purpose: the default 128 MiB is far too small for profile merges.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Timeout.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the function's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Removal policy of the function's log group (logs are operational data, not the record of truth).
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Powertools log level (`POWERTOOLS_LOG_LEVEL`).
   * @default "INFO"
   */
  readonly logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /**
   * CloudWatch namespace for Powertools metrics (`POWERTOOLS_METRICS_NAMESPACE`).
   * @default DEFAULT_METRICS_NAMESPACE ("RetrainTriggers")
   */
  readonly metricsNamespace?: string;
  /**
   * Extra environment variables (table names, ARNs, the model catalog, ...).
   * @default - only the Powertools and Node variables
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Files bundled next to the handler code (file name -> content), e.g. the model catalog
   * (`model-catalog.json`). They are part of the code asset, so a change redeploys the function, and
   * they have no size limit (unlike environment variables, 4 KB in all).
   * @default - none
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
  /**
   * Dead-letter queue for failed asynchronous invocations (e.g. EventBridge Scheduler targets).
   * @default - none (functions invoked synchronously, e.g. by an event source mapping, do not need one)
   */
  readonly deadLetterQueue?: IQueue;
  /**
   * Retries of failed asynchronous invocations (0-2).
   * @default 2 (the Lambda default)
   */
  readonly retryAttempts?: number;
  /**
   * Reserved concurrency.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * VPC to run in.
   * @default - no VPC
   */
  readonly vpc?: IVpc;
}

/**
 * A Node.js Lambda with this project's production defaults in one place: nodejs24.x (the newest Node.js runtime aws-cdk-lib offers) on ARM64,
 * an ESM bundle built by the local esbuild (no Docker), AWS SDK v3 left to the runtime, source maps,
 * Powertools environment (service name, metrics namespace, log level), X-Ray tracing, JSON logs in
 * an explicit log group with retention, explicit memory and timeout. Reusable by every handler.
 */
export class NodeFunction extends Construct {
  /** The Lambda function; use it for grants, event sources and metrics. */
  public readonly function: NodejsFunction;
  /** The function's log group (explicit so retention and removal are under our control). */
  public readonly logGroup: LogGroup;
  /**
   * The execution role. It starts with write access to the function's own log group only (no
   * AWSLambdaBasicExecutionRole, which allows writing to every log group); add access with grant*.
   */
  public readonly role: Role;
  /** Files bundled next to the handler code (file name -> content), e.g. the model catalog. */
  public readonly bundledFiles: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    this.bundledFiles = { ...props.bundledFiles };
    this.logGroup = new LogGroup(this, "LogGroup", {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of ${scope.node.path}/${id}`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, "Function", {
      role: this.role,
      entry: props.entry,
      handler: props.handler ?? "handler",
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.retryAttempts,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      vpc: props.vpc,
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? "INFO",
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: NODE_BUNDLE_TARGET,
        mainFields: ["module", "main"],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        // Maps give file:line stack traces; embedding the sources would only triple the asset size.
        sourcesContent: false,
        externalModules: ["@aws-sdk/*"],
        ...(props.bundledFiles && Object.keys(props.bundledFiles).length > 0
          ? { commandHooks: copyIntoBundle(stagedFiles(this, props.bundledFiles)) }
          : {}),
      },
    });
    ignoreCfnLint(this.function.node.defaultChild as CfnResource, CDK_ROLE_DEPENDS_ON, "W3005");
    acknowledge(
      this.role,
      "X-Ray tracing (Tracing.ACTIVE) needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; these are the only Resource::* statements CDK adds here.",
      "AwsSolutions-IAM5[Resource::*]",
    );
    acknowledge(
      this.function,
      `Runtime pinned to ${NODE_RUNTIME.name}, the newest Node.js runtime of aws-cdk-lib at the time of writing, on purpose: the bundle targets ${NODE_BUNDLE_TARGET}, and a runtime change is made deliberately (with the bundling target), not by a synth-time default.`,
      "AwsSolutions-L1",
      "Serverless-LambdaLatestVersion",
    );
  }
}
