/**
 * The retraining workflow in local mode: the state machine definition is taken from a SYNTHESIZED
 * template of the real `RetrainingWorkflow` construct (lib/constructs/workflow/, built in process with
 * the run's configuration, as `cdk synth` would) and executed by aws-local-stepfunctions.
 * Task states are overridden by name (the contract in contracts/workflow.ts):
 * - task-Lambda states call the REAL workflow task handler (lambdas/handlers/workflow-tasks.ts) with
 *   local clients: the evaluator's DynamoDB repository on dynalite, the in-memory S3 stand-in, and the
 *   SIMULATED SageMaker as model hosting;
 * - SageMaker states call `LocalSageMaker` (SIMULATED SageMaker: real logistic-regression training,
 *   real holdout scoring, an in-process endpoint whose model the deploy swaps);
 * - SNS states go to the recording notifier (LOCAL STAND-IN for the topic).
 * The Wait of the endpoint poll is zero and retries do not pause: simulated time stands still while a
 * run executes (it completes at the evaluation instant that started it).
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { StateMachine } from "aws-local-stepfunctions";
import { buildModelCatalog } from "../contracts/catalog";
import type { DeploymentConfig } from "../contracts/config";
import { profileSpecOf } from "../contracts/model";
import { SERVICE_NAMES } from "../contracts/telemetry";
import { DEFAULT_ARTIFACTS_PREFIX, DEFAULT_DATASETS_PREFIX, STATE } from "../contracts/workflow";
import { RepositoryWorkflowStateStore } from "../lambdas/adapters/repository-workflow-state-store";
import { emptyProfile } from "../lambdas/domain/stats/profile";
import { serializeProfile } from "../lambdas/domain/stats/profile-codec";
import { addOutcome, addPrediction } from "../lambdas/domain/stats/profile-update";
import { createWorkflowTaskHandler, type TaskEvent } from "../lambdas/handlers/workflow-tasks";
import { aslFromTemplate, taskLambdaOverrides } from "./asl";
import type { SimulatedClock } from "./clock";
import type { ControlPlane, WorkflowRunner, WorkflowRunRecord } from "./control-plane";
import { predictWith } from "./endpoint";
import type { MemoryObjectStore } from "./object-store";
import { localContext, localPowertools } from "./pipeline";
import type { LocalSageMaker } from "./sagemaker";
import type { LabelledExample, ModelArtifact } from "./trainer";

/**
 * Synthesizes the RetrainingWorkflow construct for `config` in a throwaway stack and returns the
 * state machine's ASL from the template (DefinitionString with substitutions resolved). The task
 * Lambda is an inline stand-in so synthesis needs no bundling: local mode overrides it anyway.
 * aws-cdk-lib is imported on demand: it is only needed on a cache miss.
 */
export async function synthesizedDefinition(config: DeploymentConfig): Promise<Record<string, unknown>> {
  const [{ App, Stack }, { AttributeType, Table }, lambda, { Bucket }, { Topic }, { RetrainingWorkflow }] =
    await Promise.all([
      import("aws-cdk-lib"),
      import("aws-cdk-lib/aws-dynamodb"),
      import("aws-cdk-lib/aws-lambda"),
      import("aws-cdk-lib/aws-s3"),
      import("aws-cdk-lib/aws-sns"),
      import("../lib/constructs/workflow/retraining-workflow"),
    ]);
  const app = new App();
  const stack = new Stack(app, "LocalRetraining", { env: { account: "000000000000", region: "us-east-1" } });
  const table = new Table(stack, "Table", {
    partitionKey: { name: "pk", type: AttributeType.STRING },
    sortKey: { name: "sk", type: AttributeType.STRING },
  });
  const taskFunction = new lambda.Function(stack, "LocalTasks", {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: "index.handler",
    code: lambda.Code.fromInline("exports.handler = async () => ({});"),
  });
  new RetrainingWorkflow(stack, "Workflow", {
    table,
    topic: new Topic(stack, "Topic"),
    archiveBucket: new Bucket(stack, "Archive"),
    catalog: buildModelCatalog(config),
    taskFunction,
  });
  const template = app.synth().getStackByName(stack.stackName).template as Parameters<
    typeof aslFromTemplate
  >[0];
  return aslFromTemplate(template);
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Where synthesized definitions are cached (like other tools' caches, under node_modules/.cache). */
export const SYNTH_CACHE_DIR = join(ROOT, "node_modules", ".cache", "retrain-triggers");

/** Directory of the workflow construct and its state builders: every file in it shapes the definition. */
const WORKFLOW_SOURCES_DIR = "lib/constructs/workflow";

/**
 * The synthesized definition, cached on disk by a hash of everything it depends on (the configuration,
 * the construct and state-builder sources, the template extraction, the contracts, the aws-cdk-lib
 * version): synthesis costs seconds, a cache hit milliseconds. Returns where it came from, for the report.
 */
export async function cachedSynthesizedDefinition(
  config: DeploymentConfig,
): Promise<{ definition: Record<string, unknown>; cached: boolean; ms: number }> {
  const started = performance.now();
  const workflowFiles = (await readdir(join(ROOT, WORKFLOW_SOURCES_DIR)))
    .filter((name) => name.endsWith(".ts"))
    .sort()
    .map((name) => `${WORKFLOW_SOURCES_DIR}/${name}`);
  const sources = await Promise.all(
    [
      ...workflowFiles,
      "local/asl.ts",
      "contracts/workflow.ts",
      "contracts/catalog.ts",
      "node_modules/aws-cdk-lib/package.json",
    ].map((file) =>
      readFile(join(ROOT, file), "utf8").then(
        (text) => `${file}\u0000${text}`,
        () => file,
      ),
    ),
  );
  const key = createHash("sha256")
    .update(JSON.stringify(config))
    .update(sources.join("\u0000"))
    .digest("hex");
  const file = join(SYNTH_CACHE_DIR, `retraining-asl-${key.slice(0, 24)}.json`);
  try {
    const definition = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    return { definition, cached: true, ms: performance.now() - started };
  } catch {
    const definition = await synthesizedDefinition(config);
    await mkdir(SYNTH_CACHE_DIR, { recursive: true });
    await writeFile(file, JSON.stringify(definition));
    return { definition, cached: false, ms: performance.now() - started };
  }
}

export interface WorkflowRunnerOptions {
  readonly config: DeploymentConfig;
  readonly objects: MemoryObjectStore;
  readonly sagemaker: LocalSageMaker;
  readonly clock: SimulatedClock;
  readonly archiveBucket: string;
  readonly control: () => ControlPlane;
}

export interface LocalWorkflow {
  readonly run: WorkflowRunner;
  /** Registers the initial champion (registry, training baseline) as a first deployment would. */
  seedChampion(artifact: ModelArtifact, rows: readonly LabelledExample[], at: number): Promise<void>;
  /** Notes for the report; filled when the workflow is first synthesized (on the first retrain). */
  readonly notes: string[];
}

export async function createWorkflowRunner(options: WorkflowRunnerOptions): Promise<LocalWorkflow> {
  const { config, objects, sagemaker, clock } = options;
  // Synthesized on the first retrain only: runs that never retrain do not pay for CDK synthesis.
  let machine: StateMachine | undefined;
  const notes: string[] = [];
  const stateMachine = async (): Promise<StateMachine> => {
    if (!machine) {
      const synth = await cachedSynthesizedDefinition(config);
      machine = new StateMachine(
        synth.definition as unknown as ConstructorParameters<typeof StateMachine>[0],
      );
      notes.push(
        `Workflow: the state machine definition was synthesized from the RetrainingWorkflow construct (${synth.cached ? "cached synthesis" : "synthesized now"}, ${Math.round(synth.ms)} ms) and run by aws-local-stepfunctions; SageMaker and SNS task states are overridden locally, task-Lambda states run the real handler.`,
      );
    }
    return machine;
  };
  const stateStore = () => new RepositoryWorkflowStateStore(options.control().state);
  // The deployed handler's composition (middy, Powertools, transient-error mapping) over local ports.
  const taskHandler = () =>
    createWorkflowTaskHandler({
      models: buildModelCatalog(options.config).models,
      state: stateStore(),
      objects,
      hosting: sagemaker,
      layout: {
        bucket: options.archiveBucket,
        datasetsPrefix: DEFAULT_DATASETS_PREFIX,
        artifactsPrefix: DEFAULT_ARTIFACTS_PREFIX,
      },
      now: clock.nowFn,
      tools: localPowertools(SERVICE_NAMES.workflow),
    });
  const sns = async (input: Record<string, unknown>) => {
    const notifier = options.control().notifier;
    await notifier.publish({
      subject: String(input.Subject ?? "workflow"),
      message: String(input.Message ?? ""),
      severity: "info",
      modelId: String(
        (input.MessageAttributes as Record<string, { StringValue?: string }> | undefined)?.modelId
          ?.StringValue ?? "",
      ),
    });
    return { MessageId: `local-${notifier.sent.length}` };
  };
  // biome-ignore lint/suspicious/noExplicitAny: aws-local-stepfunctions handlers take and return JSON values
  type Handler = (input: any) => Promise<any>;
  const sagemakerOverrides: Record<string, Handler> = {
    [STATE.trainChallenger]: (p) => sagemaker.createTrainingJob(p),
    [STATE.createChallengerModel]: (p) => sagemaker.createModel(p),
    [STATE.scoreChallenger]: (p) => sagemaker.createTransformJob(p),
    [STATE.scoreChampion]: (p) => sagemaker.createTransformJob(p),
    [STATE.createEndpointConfig]: (p) => sagemaker.createEndpointConfig(p),
    [STATE.createEndpoint]: (p) => sagemaker.createEndpoint(p),
    [STATE.updateEndpoint]: (p) => sagemaker.updateEndpoint(p),
    [STATE.describeEndpoint]: (p) => sagemaker.describeEndpointApi(p),
    [STATE.notifySuccess]: sns,
    [STATE.notifyFailure]: sns,
    [STATE.notifyFailureFallback]: sns,
    // Local configurations never require approval; auto-approve if one does.
    [STATE.requestApproval]: async () => ({ approved: true, by: "local-mode" }),
  };
  const noPause = Object.fromEntries(
    [
      STATE.confirmLease,
      STATE.prepareDataset,
      STATE.trainChallenger,
      STATE.createChallengerModel,
      STATE.evaluateChallenger,
      STATE.createEndpointConfig,
      STATE.updateEndpoint,
      STATE.createEndpoint,
      STATE.describeEndpoint,
      STATE.promote,
      STATE.releaseLease,
    ].map((s) => [s, 0]),
  );

  const WORKFLOW_CONTEXT = localContext("workflow-tasks", 900_000);
  const run: WorkflowRunner = async (start, at): Promise<WorkflowRunRecord> => {
    const modelId = String(start.input.modelId);
    const invoke = taskHandler();
    const real = (event: TaskEvent) => invoke(event, WORKFLOW_CONTEXT);
    // aws-local-stepfunctions always sets $$.Execution.StartTime to the wall clock; the run plan (names,
    // training window) must follow simulated time, so ConfirmLease gets the simulated start instead.
    const handle = (event: { action: string } & Record<string, unknown>) =>
      event.action === "confirmLease"
        ? real({
            ...event,
            execution: {
              ...(event.execution as Record<string, unknown>),
              startTime: new Date(at).toISOString(),
            },
          })
        : real(event);
    const sm = await stateMachine();
    const execution = sm.run(start.input as Parameters<typeof sm.run>[0], {
      overrides: {
        taskResourceLocalHandlers: { ...taskLambdaOverrides(handle), ...sagemakerOverrides },
        waitTimeOverrides: { [STATE.waitForEndpoint]: 0 },
        retryIntervalOverrides: noPause,
      },
      context: {
        Execution: {
          Id: `arn:aws:states:us-east-1:000000000000:execution:local-retraining:${start.name}`,
          Name: start.name,
          StartTime: new Date(at).toISOString(),
          Input: start.input as Parameters<typeof sm.run>[0],
        },
        Task: { Token: `local-token-${start.name}` },
      },
    });
    try {
      const result = (await execution.result) as Record<string, unknown>;
      const evaluation = result.evaluation as { summary?: string } | undefined;
      return {
        name: start.name,
        modelId,
        startedAt: at,
        status: "SUCCEEDED",
        detail: String(evaluation?.summary ?? "promoted").split("\n")[0] ?? "",
      };
    } catch (e) {
      const cause = (e as { cause?: { name?: string; message?: string } }).cause;
      const name = cause?.name ?? (e as Error).name;
      return {
        name: start.name,
        modelId,
        startedAt: at,
        status: name === "ValidationRejected" ? "REJECTED" : "FAILED",
        detail: `${name}: ${cause?.message ?? (e as Error).message}`,
      };
    }
  };

  const seedChampion = async (artifact: ModelArtifact, rows: readonly LabelledExample[], at: number) => {
    const model = config.models[0]!;
    const profile = emptyProfile(profileSpecOf(model));
    for (const r of rows) {
      const served = predictWith(artifact, r.features);
      addPrediction(profile, { features: r.features, prediction: served.prediction, score: served.score });
      addOutcome(profile, { prediction: served.prediction, score: served.score, label: r.label });
    }
    await stateStore().promote({
      champion: {
        modelId: model.id,
        version: artifact.version,
        modelName: artifact.version,
        endpointName: model.deployment.endpointName ?? model.id,
        endpointConfigName: artifact.version,
        promotedAt: at,
      },
      leaseOwner: "local-bootstrap",
      baselineVersion: artifact.version,
      baseline: serializeProfile(profile),
    });
  };

  return { run, seedChampion, notes };
}
