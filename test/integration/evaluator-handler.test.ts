/**
 * The evaluator handler end to end on in-process DynamoDB (dynalite) with the real state repository,
 * an in-memory stats repository fed by the scenario simulation, and local mode's stand-ins for SNS and
 * Step Functions (a second execution with the same name is refused).
 */
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { parsePolicy } from "../../contracts/policy";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../contracts/time";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { evaluateSlot } from "../../lambdas/app/evaluate/evaluate-slot";
import type { EvaluatedModel } from "../../lambdas/app/evaluate/evaluator";
import { createEvaluateHandler, EvaluationFailedError } from "../../lambdas/handlers/evaluate";
import type { WorkflowStart, WorkflowStartResult } from "../../lambdas/ports/workflow-starter";
import { QueueingWorkflowStarter, RecordingNotifier } from "../../local/control-plane";
import { type Emulators, startEmulators } from "../../local/emulators";
import { FEATURES, NORMAL_WORLD, Simulation, simulationStats, T0 } from "../support/simulation";

/**
 * Step Functions as local mode stands it in (a second execution with the same name is refused), counting
 * the calls and failing the next one on demand.
 */
class FlakyWorkflowStarter extends QueueingWorkflowStarter {
  calls = 0;
  failNext = false;
  override async start(request: WorkflowStart): Promise<WorkflowStartResult> {
    this.calls++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("ServiceUnavailable");
    }
    return super.start(request);
  }
  /** The started executions by name, in start order. */
  get executions(): Map<string, WorkflowStart> {
    return new Map(this.queue.map((s) => [s.name, s]));
  }
}

const shiftAt = T0 + 2 * DAY;
const policyInput = {
  windowHours: 4,
  referenceWindowHours: 24,
  signals: { drift: { features: { season: { ignore: true } } } },
  stability: { persistence: { m: 1, n: 1 } },
};
const model: EvaluatedModel = {
  id: "churn",
  task: "binary",
  classes: ["0", "1"],
  features: FEATURES.map((f) => ({ ...f })),
  labelHorizonHours: 168,
  bucketMinutes: 60,
  // A 4-hour window sees the daily cycle of `season` against a 24-hour baseline: excluded on purpose.
  policy: parsePolicy(policyInput),
};

let emulators: Emulators;
let repo: DynamoDbModelStateRepository;
let sim: Simulation;
let notifier: RecordingNotifier;
let sfn: FlakyWorkflowStarter;
const context = {} as Context;

beforeAll(async () => {
  emulators = await startEmulators({ createStream: false });
  repo = new DynamoDbModelStateRepository({ client: emulators.dynamodb, tableName: emulators.tableName });
  sim = new Simulation({
    policy: {},
    world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, spread: 0.15 } : NORMAL_WORLD),
  });
  sim.generateUntil(shiftAt + DAY);
});
afterAll(async () => {
  await emulators?.stop();
});
beforeEach(() => {
  notifier = new RecordingNotifier(Date.now);
  sfn = new FlakyWorkflowStarter();
});

const deps = (modelId = "churn") => ({
  models: [{ ...model, id: modelId }],
  stats: simulationStats(sim),
  state: repo,
  notifier,
  workflow: sfn,
  tools: { metrics: new Metrics({ namespace: "RetrainTriggersTest", serviceName: "evaluator" }) },
});

describe("evaluate handler", () => {
  it("bootstraps a baseline, stays quiet on healthy data, records the decision", async () => {
    const handler = createEvaluateHandler(deps("healthy"));
    const report = await handler({ time: new Date(shiftAt - 2 * HOUR).toISOString() }, context);
    expect(report.models).toEqual([
      expect.objectContaining({ modelId: "healthy", action: "none", reused: false }),
    ]);
    const state = await repo.getState("healthy");
    expect(state.baselineVersion).toMatch(/^ref-/);
    expect((await repo.getDecision("healthy", shiftAt - 2 * HOUR))?.decision.action).toBe("none");
    expect(notifier.sent).toEqual([]);
    expect(sfn.calls).toBe(0);
  });

  it("waits for a reference window fully covered by data before bootstrapping a baseline", async () => {
    const evaluator = deps("young");
    const report = await evaluateSlot(evaluator, { time: new Date(T0 + 5 * HOUR).toISOString() });
    expect(report.models[0]).toMatchObject({ action: "none" });
    expect((await repo.getState("young")).baselineVersion).toBeUndefined();
    const decision = (await repo.getDecision("young", T0 + 5 * HOUR))!.decision;
    expect(decision.baselineVersion).toBeNull();
    expect(decision.signals.find((s) => s.signal === "drift")?.skipped).toBeDefined();
  });

  it("starts one workflow for a degradation and is idempotent under scheduler retries", async () => {
    const m = "retry";
    const handler = createEvaluateHandler(deps(m));
    const time = new Date(shiftAt + 3 * HOUR + 17_000).toISOString(); // seconds are truncated
    const first = await handler({ time }, context);
    expect(first.models[0]).toMatchObject({
      action: "retrain",
      reused: false,
      alreadyStarted: false,
      notified: true,
    });
    expect(sfn.executions.size).toBe(1);
    const [name, start] = [...sfn.executions.entries()][0]!;
    expect(name).toBe("retry-retrain-20261007T030000Z");
    expect(start.input).toMatchObject({
      modelId: m,
      leaseOwner: name,
      decisionTime: "2026-10-07T03:00:00.000Z",
    });
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({
      severity: "retrain",
      modelId: m,
      attributes: { action: "retrain" },
    });
    expect(notifier.sent[0]!.message).toContain("estimatedPerformance accuracy");

    const retry = await handler({ time }, context);
    expect(retry.models[0]).toMatchObject({
      action: "retrain",
      reused: true,
      alreadyStarted: true,
      notified: true,
    });
    expect(sfn.executions.size).toBe(1);
    expect(notifier.sent).toHaveLength(1);
    const state = await repo.getState(m);
    expect(state.lease?.owner).toBe(name);
    expect(state.retrainStarts).toEqual([shiftAt + 3 * HOUR]);
  });

  it("concurrent invocations of the same slot start at most one run", async () => {
    const m = "concurrent";
    const time = new Date(shiftAt + 3 * HOUR).toISOString();
    const evaluators = Array.from({ length: 4 }, () => deps(m));
    const reports = await Promise.all(evaluators.map((e) => evaluateSlot(e, { time })));
    expect(sfn.executions.size).toBe(1);
    const actions = reports.map((r) => r.models[0]!.action);
    expect(new Set(actions)).toEqual(new Set(["retrain"]));
    expect(reports.filter((r) => !r.models[0]!.reused).length).toBeGreaterThanOrEqual(1);
  });

  it("while a run is active, records the decision and does not start another; reset re-arms", async () => {
    const m = "active";
    const evaluator = deps(m);
    await evaluateSlot(evaluator, { time: new Date(shiftAt + 3 * HOUR).toISOString() });
    expect(sfn.executions.size).toBe(1);
    const next = await evaluateSlot(evaluator, { time: new Date(shiftAt + 4 * HOUR).toISOString() });
    expect(next.models[0]).toMatchObject({ action: "alert", severity: "warn" });
    const recorded = await repo.getDecision(m, shiftAt + 4 * HOUR);
    expect(recorded?.decision.suppressions.map((s) => s.reason)).toEqual(
      expect.arrayContaining(["runActive"]),
    );
    expect(sfn.executions.size).toBe(1);

    const owner = [...sfn.executions.keys()][0]!;
    await repo.resetAfterDeploy({
      modelId: m,
      championVersion: "v2",
      baselineVersion: "v2",
      baseline: {
        version: "v2",
        profile: sim.buckets.get(shiftAt + 4 * HOUR)!.profile,
        createdAt: shiftAt + 5 * HOUR,
        source: "training",
      },
      at: shiftAt + 6 * HOUR,
      leaseOwner: owner,
    });
    const state = await repo.getState(m);
    expect(state).toMatchObject({
      championVersion: "v2",
      baselineVersion: "v2",
      lastDeployAt: shiftAt + 6 * HOUR,
    });
    expect(state.lease).toBeUndefined();
    // Inside the cooldown after the deploy: no new run even though the lease is free.
    const after = await evaluateSlot(evaluator, { time: new Date(shiftAt + 7 * HOUR).toISOString() });
    expect(after.models[0]!.action).not.toBe("retrain");
    const cooled = await repo.getDecision(m, shiftAt + 7 * HOUR);
    expect(cooled?.decision.baselineVersion).toBe("v2");
    expect(sfn.executions.size).toBe(1);
  });

  it("a failed start releases the lease, fails the invocation, and the retry starts the run", async () => {
    const m = "flaky";
    const handler = createEvaluateHandler(deps(m));
    const time = new Date(shiftAt + 3 * HOUR).toISOString();
    sfn.failNext = true;
    await expect(handler({ time }, context)).rejects.toBeInstanceOf(EvaluationFailedError);
    expect((await repo.getState(m)).lease).toBeUndefined();
    const retry = await handler({ time }, context);
    expect(retry.models[0]).toMatchObject({ action: "retrain", reused: true, alreadyStarted: false });
    expect(sfn.executions.size).toBe(1);
    expect((await repo.getState(m)).retrainStarts).toEqual([shiftAt + 3 * HOUR]);
  });

  it("emits every metric with the {service, modelId} dimension set the dashboard reads", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await createEvaluateHandler(deps("metrics"))(
        { time: new Date(shiftAt + 3 * HOUR).toISOString() },
        context,
      );
    } finally {
      spy.mockRestore();
    }
    const emf = lines
      .flatMap((l) => l.split("\n"))
      .filter((l) => l.includes('"_aws"'))
      .map(
        (l) =>
          JSON.parse(l) as {
            _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
            modelId?: string;
          },
      );
    const names = emf.flatMap((e) => e._aws.CloudWatchMetrics.flatMap((c) => c.Metrics.map((m) => m.Name)));
    expect(names).toEqual(
      expect.arrayContaining([
        "Evaluations",
        "DriftScore",
        "Performance",
        "EstimatedPerformance",
        "RetrainDecisions",
      ]),
    );
    for (const e of emf) {
      expect(e._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([["service", "modelId"]]);
      expect(e.modelId).toBe("metrics");
    }
  });
});

describe("a retrain the training window cannot feed", () => {
  // The same degradation, but only 0.2 % of the predictions get a label: a couple of hundred labelled
  // predictions in the window, fewer than the dataset step's split needs (334 at 70/15/15). Too few to
  // calibrate CBPE either, so the rule here retrains on drift: a rule a user may configure, chosen so
  // that the rule holds on both simulations and only the training data differs.
  const driftRule = { ...model, policy: parsePolicy({ ...policyInput, rule: "drift" }) };
  const sparse = new Simulation({
    policy: {},
    labelShare: 0.002,
    world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, spread: 0.15 } : NORMAL_WORLD),
  });
  sparse.generateUntil(shiftAt + DAY);
  const time = new Date(shiftAt + 3 * HOUR).toISOString();
  const evaluate = (id: string, stats: Simulation, retraining: EvaluatedModel["retraining"]) =>
    evaluateSlot(
      {
        models: [{ ...driftRule, id, ...(retraining ? { retraining } : {}) }],
        stats: simulationStats(stats),
        state: repo,
        notifier,
        workflow: sfn,
      },
      { time },
    );

  it.each([
    {
      name: "few labels: alert, no run",
      id: "sparse",
      sim: () => sparse,
      inputDataUri: undefined,
      run: false,
    },
    {
      name: "enough labels: the run starts",
      id: "dense",
      sim: () => sim,
      inputDataUri: undefined,
      run: true,
    },
    {
      name: "few labels but a fixed dataset (inputDataUri): the run starts",
      id: "fixed-data",
      sim: () => sparse,
      inputDataUri: "s3://data/churn/",
      run: true,
    },
  ])("$name", async ({ id, sim: simOf, inputDataUri, run }) => {
    const report = await evaluate(id, simOf(), {
      trainingWindowDays: 30,
      ...(inputDataUri ? { inputDataUri } : {}),
    });
    const decision = (await repo.getDecision(id, Date.parse(time)))!.decision;
    expect(decision.ruleSatisfied).toBe(true);
    expect(report.models[0]!.action).toBe(run ? "retrain" : "alert");
    expect(sfn.calls).toBe(run ? 1 : 0);
    const suppression = decision.suppressions.find((s) => s.reason === "trainingData");
    if (run) {
      expect(suppression).toBeUndefined();
      return;
    }
    expect(suppression?.message).toMatch(
      /^too little labelled data to train on: \d+ labelled predictions in the 30-day training window, about 334 needed \(split 70\/15\/15 by request: train about \d+ < 200, validation about \d+ < 50, holdout about \d+ < 50\); retraining waits for more labels$/,
    );
    // The count is every labelled prediction of the 30-day window (part read for the decision, part not).
    const at = Date.parse(time);
    const labelled = [...sparse.buckets.values()]
      .filter((b) => b.bucketStart >= at - 30 * DAY && b.bucketStart < at)
      .reduce((sum, b) => sum + b.profile.labelled, 0);
    expect(labelled).toBeGreaterThan(0);
    expect(suppression?.message).toContain(`: ${labelled} labelled predictions in the 30-day`);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.message).toContain("retraining waits for more labels");
    // Without the model's training window (no retraining spec given), the same data starts a run.
    const unchecked = await evaluate(`${id}-unchecked`, sparse, undefined);
    expect(unchecked.models[0]!.action).toBe("retrain");
  });
});
