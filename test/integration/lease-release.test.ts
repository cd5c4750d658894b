/**
 * A run refused at ConfirmLease must not leave its lease behind. Executes the synthesized retraining
 * definition (aws-local-stepfunctions) with the task Lambda over the evaluator's real DynamoDB repository
 * on dynalite, against an endpoint that is Updating (a transition that ends by itself) or Failed (a state
 * that does not): the lease is released, the champion is unchanged, the alert says what happened (and,
 * for Failed, that an operator must act), and the evaluator's next retrain decision can start a run.
 */
import { StateMachine } from "aws-local-stepfunctions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../contracts/time";
import { STATE } from "../../contracts/workflow";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { RepositoryWorkflowStateStore } from "../../lambdas/adapters/repository-workflow-state-store";
import { startRetraining } from "../../lambdas/app/evaluate/start-retraining";
import { createWorkflowTasks } from "../../lambdas/app/retraining/workflow-tasks";
import type { Decision } from "../../lambdas/domain/decision/decision";
import type { EndpointInfo } from "../../lambdas/ports/model-hosting";
import type { WorkflowStart } from "../../lambdas/ports/workflow-starter";
import { aslFromTemplate, taskLambdaOverrides } from "../../local/asl";
import { createTable, type Emulators, startEmulators } from "../../local/emulators";
import { MemoryObjectStore } from "../../local/object-store";
import { FakeSageMaker } from "../support/fake-sagemaker";
import { FakeHosting } from "../support/retraining-ports";
import { synthWorkflow, testModels } from "../support/workflow-stack";

const { template } = synthWorkflow({ bundle: false });
const machine = new StateMachine(aslFromTemplate(template.toJSON()) as never, {
  validationOptions: { checkArn: false, checkPaths: true },
});

const START = Date.parse("2026-11-27T00:00:00.000Z");
const EXECUTION = "churn-retrain-20261127T000000Z";
const OLD_CONFIG = "churn-v1-config";

let emulators: Emulators;
let tables = 0;

beforeAll(async () => {
  emulators = await startEmulators({ createTable: false, createStream: false });
});
afterAll(async () => {
  await emulators?.stop();
});

/** What the evaluator leaves before it starts the execution: a champion and the run's lease. */
async function seededRepository(): Promise<DynamoDbModelStateRepository> {
  const tableName = `lease-${tables++}`;
  await createTable(emulators.dynamodb, tableName);
  const repo = new DynamoDbModelStateRepository({ client: emulators.dynamodb, tableName });
  await repo.resetAfterDeploy({
    modelId: "churn",
    championVersion: "v1",
    baselineVersion: "v1",
    at: START - 30 * DAY_MS,
  });
  const lease = await repo.acquireLease("churn", EXECUTION, START, DAY_MS);
  expect(lease.acquired).toBe(true);
  return repo;
}

/** Runs the definition once against an endpoint in `endpoint`'s state. */
async function runAgainst(endpoint: EndpointInfo) {
  const repo = await seededRepository();
  const objects = new MemoryObjectStore();
  const sm = new FakeSageMaker(objects, {});
  sm.endpoints.set("churn-prod", endpoint);
  const tasks = createWorkflowTasks({
    models: testModels(),
    state: new RepositoryWorkflowStateStore(repo),
    objects,
    hosting: new FakeHosting(sm.endpoints),
    layout: {
      bucket: "archive",
      datasetsPrefix: "retraining/datasets/",
      artifactsPrefix: "retraining/artifacts/",
    },
    now: () => START + MINUTE_MS,
  });
  const input = {
    modelId: "churn",
    leaseOwner: EXECUTION,
    severity: "warn",
    window: { to: new Date(START).toISOString() },
  };
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: { ...taskLambdaOverrides(tasks.handle), ...sm.overrides() } },
    context: {
      Execution: {
        Id: `arn:aws:states:eu-west-1:123456789012:execution:sm:${EXECUTION}`,
        Name: EXECUTION,
        StartTime: new Date(START).toISOString(),
        Input: input,
      },
    },
  });
  const error = await execution.result.then(
    () => undefined,
    (e: { cause?: { name: string; message: string } }) => e.cause,
  );
  const alerts = sm.published.filter((p) => p.state === STATE.notifyFailure);
  return { repo, sm, error, alerts };
}

/** The evaluator's next retrain decision, an hour later, through its own start-retraining use case. */
async function nextEvaluationStarts(repo: DynamoDbModelStateRepository): Promise<boolean> {
  const evaluatedAt = START + HOUR_MS;
  const decision = {
    modelId: "churn",
    evaluatedAt,
    window: { from: evaluatedAt - DAY_MS, to: evaluatedAt },
    severity: "retrain",
    summary: "drift",
  } as unknown as Decision;
  const started: WorkflowStart[] = [];
  const workflow = {
    async start(request: WorkflowStart) {
      started.push(request);
      return { executionArn: `arn:${request.name}`, alreadyStarted: false };
    },
  };
  const run = await startRetraining({ state: repo, workflow }, decision, "churn-retrain-20261127T010000Z");
  return run.started && started.length === 1;
}

describe("a run refused at ConfirmLease releases its lease", () => {
  it("endpoint Updating: busy, lease released, champion unchanged, alert sent, next evaluation starts a run", async () => {
    const { repo, sm, error, alerts } = await runAgainst({
      exists: true,
      status: "Updating",
      configName: OLD_CONFIG,
      modelName: "churn-v1",
    });
    expect(error?.name).toBe("EndpointBusyError");
    expect(error?.message).toContain("endpoint churn-prod is Updating");
    const state = await repo.getState("churn");
    expect(state.lease).toBeUndefined();
    expect(state.championVersion).toBe("v1");
    expect(sm.calls.filter((c) => c.state === STATE.trainChallenger)).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toBe("[retrain-triggers] retraining of churn failed at lease");
    expect(alerts[0]!.message).toContain("is Updating");
    expect(alerts[0]!.message).toContain("The lease is released");
    expect(alerts[0]!.message).not.toContain("ACTION NEEDED");
    expect(await nextEvaluationStarts(repo)).toBe(true);
  });

  it("endpoint Failed: reported as needing an operator, lease released, next evaluation starts a run", async () => {
    const { repo, sm, error, alerts } = await runAgainst({
      exists: true,
      status: "Failed",
      configName: OLD_CONFIG,
      modelName: "churn-v1",
      failureReason: "Unable to provision requested ML compute capacity",
    });
    expect(error?.name).toBe("EndpointUnusableError");
    const state = await repo.getState("churn");
    expect(state.lease).toBeUndefined();
    expect(state.championVersion).toBe("v1");
    expect(sm.endpoints.get("churn-prod")?.configName).toBe(OLD_CONFIG);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toBe(
      "[retrain-triggers] retraining of churn failed at lease: endpoint needs an operator",
    );
    expect(alerts[0]!.message).toContain(
      "endpoint churn-prod is Failed (FailureReason: Unable to provision requested ML compute capacity) and will not recover by itself",
    );
    expect(alerts[0]!.message).toContain("delete the endpoint");
    expect(alerts[0]!.message).toContain("ACTION NEEDED");
    expect(alerts[0]!.message).toContain("The lease is released");
    expect(await nextEvaluationStarts(repo)).toBe(true);
  });

  it("the lease is not extended to the run's hold time when the run is refused", async () => {
    const repo = await seededRepository();
    const objects = new MemoryObjectStore();
    const tasks = createWorkflowTasks({
      models: testModels(),
      state: new RepositoryWorkflowStateStore(repo),
      objects,
      hosting: new FakeHosting(new Map([["churn-prod", { exists: true, status: "SystemUpdating" }]])),
      layout: { bucket: "archive", datasetsPrefix: "d/", artifactsPrefix: "a/" },
      now: () => START + MINUTE_MS,
    });
    await expect(
      tasks.confirmLease({
        request: { modelId: "churn", leaseOwner: EXECUTION },
        execution: { name: EXECUTION, startTime: new Date(START).toISOString() },
      }),
    ).rejects.toMatchObject({ name: "EndpointBusyError" });
    expect((await repo.getState("churn")).lease).toMatchObject({
      owner: EXECUTION,
      expiresAt: START + DAY_MS,
    });
  });
});
