/**
 * Task Lambda of the retraining state machine: one function dispatched on `action`, so the state
 * machine needs one ARN and local mode one override. Composition root: the DynamoDB, S3 and SageMaker
 * adapters, Powertools, and the retraining use cases (app/retraining/). A transient dependency failure
 * is re-thrown as `TransientError`, which the state machine retries with backoff and jitter.
 *
 * Environment: `TABLE_NAME`, `ARCHIVE_BUCKET`; optional `RETRAINING_BUCKET` (datasets and artifacts;
 * default the archive), `DATASETS_PREFIX`, `ARTIFACTS_PREFIX`; the bundled model catalog.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import type { Context } from "aws-lambda";
import { SERVICE_NAMES } from "../../contracts/telemetry";
import { DEFAULT_ARTIFACTS_PREFIX, DEFAULT_DATASETS_PREFIX } from "../../contracts/workflow";
import { DynamoDbModelStateRepository } from "../adapters/dynamodb-model-state-repository";
import { RepositoryWorkflowStateStore } from "../adapters/repository-workflow-state-store";
import { S3ObjectStore } from "../adapters/s3-object-store";
import { SageMakerModelHosting } from "../adapters/sagemaker-model-hosting";
import { asTransient } from "../adapters/transient-errors";
import type { RetrainingDeps } from "../app/retraining/run-plan";
import { createWorkflowTasks } from "../app/retraining/workflow-tasks";
import { loadModelCatalog, requireEnv } from "./environment";
import { mapErrors, type Powertools, powertools, withPowertools } from "./powertools";

/** A state machine task event: the state's Parameters, `{ action, ...input }`. */
export type TaskEvent = { action: string } & Record<string, unknown>;

/** The middy-wrapped handler over injected dependencies (tests and local mode). */
export function createWorkflowTaskHandler(deps: RetrainingDeps & { readonly tools?: Partial<Powertools> }) {
  const tools = powertools(SERVICE_NAMES.workflow, deps.tools);
  const tasks = createWorkflowTasks(deps);
  const base = (event: TaskEvent, _context: Context): Promise<unknown> => tasks.handle(event);
  return withPowertools(base, tools, mapErrors(asTransient));
}

let singleton: ReturnType<typeof createWorkflowTaskHandler> | undefined;

/** The deployed handler: dependencies from the environment, built once per container. */
export const handler = (event: TaskEvent, context: Context): Promise<unknown> => {
  if (!singleton) {
    const env = process.env;
    const { TABLE_NAME, ARCHIVE_BUCKET } = requireEnv(env, ["TABLE_NAME", "ARCHIVE_BUCKET"]);
    const tools = powertools(SERVICE_NAMES.workflow);
    singleton = createWorkflowTaskHandler({
      models: loadModelCatalog(env).models,
      state: new RepositoryWorkflowStateStore(
        new DynamoDbModelStateRepository({
          client: tools.tracer.captureAWSv3Client(new DynamoDBClient({})),
          tableName: TABLE_NAME,
        }),
      ),
      objects: new S3ObjectStore(tools.tracer.captureAWSv3Client(new S3Client({}))),
      hosting: new SageMakerModelHosting(tools.tracer.captureAWSv3Client(new SageMakerClient({}))),
      layout: {
        bucket: ARCHIVE_BUCKET,
        retrainingBucket: env.RETRAINING_BUCKET ?? ARCHIVE_BUCKET,
        datasetsPrefix: env.DATASETS_PREFIX ?? DEFAULT_DATASETS_PREFIX,
        artifactsPrefix: env.ARTIFACTS_PREFIX ?? DEFAULT_ARTIFACTS_PREFIX,
      },
      now: () => Date.now(),
      tools,
    });
  }
  return singleton(event, context);
};
