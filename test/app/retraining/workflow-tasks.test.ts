/**
 * The retraining use cases called directly (no state machine) over the in-memory ports: the user-data
 * dataset path, the baseline stored at promotion, the failure message and challenger cleanup, and the
 * task handler turning throttling into TransientError.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { ValidationGateSchema } from "../../../contracts/policy";
import { DAY_MS } from "../../../contracts/time";
import type { RetrainingDeps, RunPlan } from "../../../lambdas/app/retraining/run-plan";
import { createWorkflowTasks } from "../../../lambdas/app/retraining/workflow-tasks";
import { deserializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { createWorkflowTaskHandler } from "../../../lambdas/handlers/workflow-tasks";
import { MemoryObjectStore } from "../../../local/object-store";
import { FakeHosting, MemoryStateStore } from "../../support/retraining-ports";
import { testModels } from "../../support/workflow-stack";

const T0 = Date.parse("2026-11-27T00:00:00Z");

function plan(overrides: Partial<RunPlan> = {}): RunPlan {
  return {
    runId: "eta-20261127t000000",
    modelId: "eta",
    leaseOwner: "run-1",
    task: "regression",
    features: [{ name: "km", kind: "numeric" }],
    window: { fromMs: T0 - 30 * DAY_MS, toMs: T0, labelsUntilMs: T0 },
    inputDataUri: "s3://user-data/eta/",
    champion: { exists: false },
    endpoint: { name: "eta", exists: false },
    names: {
      trainingJob: "eta-20261127t000000",
      model: "eta-20261127t000000",
      endpointConfig: "eta-20261127t000000",
      challengerTransform: "eta-20261127t000000-c",
      championTransform: "eta-20261127t000000-h",
    },
    s3: {
      datasetUri: "s3://archive/retraining/datasets/eta/eta-20261127t000000/",
      artifactsUri: "s3://archive/retraining/artifacts/eta/eta-20261127t000000/",
      challengerScoresUri: "s3://archive/retraining/artifacts/eta/eta-20261127t000000/scores/challenger/",
      championScoresUri: "s3://archive/retraining/artifacts/eta/eta-20261127t000000/scores/champion/",
    },
    training: {
      image: "img",
      instanceType: "ml.m5.xlarge",
      instanceCount: 1,
      volumeSizeGb: 30,
      maxRuntimeSeconds: 3600,
      hyperparameters: {},
    },
    scoring: { instanceType: "ml.m5.large" },
    deployment: {
      image: "img",
      endpointName: "eta",
      variantName: "AllTraffic",
      instanceType: "ml.m5.large",
      initialInstanceCount: 1,
      deploymentConfig: {},
      rollbackAlarms: { maxErrorRatePercent: 1, maxModelLatencyMs: 1000, evaluationPeriods: 3 },
      pollSeconds: 60,
      maxPolls: 90,
    },
    gate: ValidationGateSchema.parse({ metric: "rmse" }),
    approval: { required: false, timeoutHours: 24 },
    ...overrides,
  };
}

function depsWith(objects: MemoryObjectStore, state = new MemoryStateStore()): RetrainingDeps {
  return {
    models: [],
    state,
    objects,
    hosting: new FakeHosting(new Map()),
    layout: {
      bucket: "archive",
      datasetsPrefix: "retraining/datasets/",
      artifactsPrefix: "retraining/artifacts/",
    },
    now: () => T0,
  };
}

function tasksWith(objects: MemoryObjectStore, state = new MemoryStateStore()) {
  return createWorkflowTasks(depsWith(objects, state));
}

describe("confirmLease: the live endpoint's production variants", () => {
  const HOLD = DAY_MS;
  const confirmWith = (endpoint: string, variantNames: string[] | undefined) => {
    const state = new MemoryStateStore();
    const models = testModels();
    const model = models.find((m) => m.retraining.deployment.endpointName === endpoint)!;
    state.leases.set(model.id, { owner: "run-1", expiresAt: T0 + HOLD });
    const hosting = new FakeHosting(
      new Map([
        [
          endpoint,
          {
            exists: true,
            status: "InService",
            configName: "cfg",
            modelName: "m",
            ...(variantNames ? { variantNames } : {}),
          },
        ],
      ]),
    );
    const tasks = createWorkflowTasks({ ...depsWith(new MemoryObjectStore(), state), models, hosting });
    const run = tasks.confirmLease({
      request: { modelId: model.id, leaseOwner: "run-1" },
      execution: { name: "run-1", startTime: new Date(T0).toISOString() },
    });
    return { run, lease: () => state.leases.get(model.id) };
  };

  it.each([
    ["the configured variant", ["AllTraffic"]],
    ["variants the adapter could not tell", undefined],
  ])("plans the run on %s and extends the lease", async (_what, variantNames) => {
    const { run, lease } = confirmWith("churn-prod", variantNames);
    expect((await run).deployment.variantName).toBe("AllTraffic");
    expect(lease()!.expiresAt).toBeGreaterThan(T0 + HOLD);
  });

  it.each([
    [
      "churn-prod",
      ["Blue"],
      /^endpoint churn-prod serves production variant "Blue" but models\[0\]\.deployment\.variantName is "AllTraffic": set models\[0\]\.deployment\.variantName to "Blue"/,
    ],
    ["eta", ["green"], /models\[1\]\.deployment\.variantName is "AllTraffic"/],
    [
      "churn-prod",
      ["AllTraffic", "shadow"],
      /has 2 production variants \("AllTraffic", "shadow"\).*would drop the others/,
    ],
  ])(
    "endpoint %s with variants %j: WorkflowInputError naming the field, lease not extended",
    async (endpoint, variantNames, message) => {
      const { run, lease } = confirmWith(endpoint, variantNames);
      await expect(run).rejects.toMatchObject({
        name: "WorkflowInputError",
        message: expect.stringMatching(message),
      });
      expect(lease()).toEqual({ owner: "run-1", expiresAt: T0 + HOLD });
    },
  );
});

describe("prepareDataset", () => {
  it("reads plain training rows from the user's data location", async () => {
    const objects = new MemoryObjectStore();
    const rows = Array.from({ length: 600 }, (_, i) => JSON.stringify({ features: { km: i }, label: i * 2 }));
    objects.putSync("s3://user-data/eta/part-1.jsonl", `${rows.join("\n")}\n`);
    const out = await tasksWith(objects).prepareDataset({ run: plan() });
    expect(out.source).toBe("inputDataUri");
    expect(out.counts.total).toBe(600);
    const train = (await objects.getText(`${out.trainUri}data.jsonl`)).trim().split("\n");
    expect(train).toHaveLength(out.counts.train);
    expect(JSON.parse(train[0]!)).toEqual({ features: expect.any(Object), label: expect.any(Number) });
    const holdout = (await objects.getText(`${out.holdoutFeaturesUri}features.jsonl`)).trim().split("\n");
    expect(JSON.parse(holdout[0]!)).not.toHaveProperty("label");
  });

  it.each([
    // rmse at the default 5 % margin needs 589 holdout rows: 15 % of 3,000 is 450.
    [
      "with a champion: raised from 15 % until the paired test is powered",
      true,
      0.22,
      /^holdout share raised from 15% to 22% so that the paired rmse test is powered \(rows \d+ >= 589\)$/,
    ],
    ["first model (no paired test): the default 15 %", false, 0.15, undefined],
  ])("sizes the holdout share %s", async (_name, championExists, share, note) => {
    const objects = new MemoryObjectStore();
    const rows = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ features: { km: i }, label: i % 7 }),
    );
    objects.putSync("s3://user-data/eta/part-1.jsonl", `${rows.join("\n")}\n`);
    const champion = championExists
      ? { exists: true, version: "v1", modelName: "eta-v1" }
      : { exists: false };
    const out = await tasksWith(objects).prepareDataset({ run: plan({ champion }) });
    expect(out.holdoutShare).toBeCloseTo(share, 10);
    expect(out.holdoutPlan).toEqual(note === undefined ? undefined : expect.stringMatching(note));
    if (championExists) expect(out.counts.holdout).toBeGreaterThanOrEqual(589);
    expect(out.counts.holdout / out.counts.total).toBeCloseTo(share, 1);
    const manifest = JSON.parse(await objects.getText(`${plan().s3.datasetUri}manifest.json`));
    expect(manifest.fractions.holdout).toBeCloseTo(share, 10);
  });

  it("keeps the default share when even the largest one train and validation allow is short", async () => {
    const objects = new MemoryObjectStore();
    const rows = Array.from({ length: 500 }, (_, i) => JSON.stringify({ features: { km: i }, label: i % 7 }));
    objects.putSync("s3://user-data/eta/part-1.jsonl", `${rows.join("\n")}\n`);
    const champion = { exists: true, version: "v1", modelName: "eta-v1" };
    const out = await tasksWith(objects).prepareDataset({ run: plan({ champion }) });
    expect(out.holdoutShare).toBe(0.15);
    expect(out.counts.validation).toBeGreaterThanOrEqual(50);
    // 500 rows: validation keeps its 50 rows up to a holdout share of about 0.3, which holds ~140 of 589.
    expect(out.holdoutPlan).toMatch(
      /^holdout share kept at 15%: even (2\d|3\d)% \(the most it may take while train and validation keep their minimum rows\) is expected to fall short of the paired rmse test's power: rows \d+ < 589/,
    );
  });

  it("refuses before training a holdout whose rare class the gate would be blind to", async () => {
    const objects = new MemoryObjectStore();
    const rows = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ features: { km: i }, label: i < 3 ? 1 : 0 }),
    );
    objects.putSync("s3://user-data/eta/part-1.jsonl", `${rows.join("\n")}\n`);
    const run = plan({
      task: "binary",
      champion: { exists: true, version: "v1", modelName: "eta-v1" },
      gate: ValidationGateSchema.parse({}),
    });
    await expect(tasksWith(objects).prepareDataset({ run })).rejects.toMatchObject({
      name: "InsufficientDataError",
      message: expect.stringMatching(
        /holdout too small for the validation gate's paired accuracy test: positive rows \d < 5 \(a class below margin x rows/,
      ),
    });
  });

  it("fails with InsufficientDataError naming the counts", async () => {
    const objects = new MemoryObjectStore();
    objects.putSync("s3://user-data/eta/a.jsonl", `${JSON.stringify({ features: { km: 1 }, label: 2 })}\n`);
    await expect(tasksWith(objects).prepareDataset({ run: plan() })).rejects.toMatchObject({
      name: "InsufficientDataError",
      message: expect.stringMatching(
        /too little labelled data to retrain: train \d+ < 200.*labelled rows in window: 1/,
      ),
    });
  });
});

describe("confirmLease: where a run keeps its objects", () => {
  it("plans datasets and artifacts in the retraining bucket and reads events from the archive", async () => {
    const objects = new MemoryObjectStore();
    const state = new MemoryStateStore();
    state.leases.set("churn", { owner: "run-1", expiresAt: T0 + DAY_MS });
    const tasks = createWorkflowTasks({
      ...depsWith(objects, state),
      models: testModels(),
      layout: {
        bucket: "archive",
        retrainingBucket: "retraining",
        datasetsPrefix: "retraining/datasets/",
        artifactsPrefix: "retraining/artifacts/",
      },
    });
    const run = await tasks.confirmLease({
      request: { modelId: "churn", decisionTime: new Date(T0).toISOString() },
      execution: { name: "run-1", startTime: new Date(T0).toISOString() },
    });
    for (const uri of Object.values(run.s3)) expect(uri).toMatch(/^s3:\/\/retraining\/retraining\//);
    expect(run.s3.datasetUri).toMatch(/^s3:\/\/retraining\/retraining\/datasets\/churn\//);
    expect(run.s3.artifactsUri).toMatch(/^s3:\/\/retraining\/retraining\/artifacts\/churn\//);
    // The dataset preparation lists the archive's day prefixes, not the retraining bucket.
    const listed: string[] = [];
    const list = objects.list.bind(objects);
    objects.list = async (uri: string) => {
      listed.push(uri);
      return list(uri);
    };
    await tasks.prepareDataset({ run }).catch(() => undefined);
    expect(listed.length).toBeGreaterThan(0);
    for (const uri of listed) expect(uri).toMatch(/^s3:\/\/archive\/churn\/\d{4}\/\d{2}\/\d{2}\/$/);
  });
});

describe("baseline stored at promotion", () => {
  it.each([
    ["features of every prepared row", true],
    ["features of the holdout only, for a dataset prepared without features-profile.json", false],
  ])("%s; outputs and performance of the challenger's holdout", async (_, withFeaturesProfile) => {
    const objects = new MemoryObjectStore();
    // km is missing on every tenth row, zone never: feature counts must cover missing values too.
    const rows = Array.from({ length: 600 }, (_, i) =>
      JSON.stringify({
        requestId: `r${i}`,
        features: i % 10 === 0 ? { zone: `z${i % 3}` } : { km: i, zone: `z${i % 3}` },
        label: i * 2,
      }),
    );
    objects.putSync("s3://user-data/eta/part-1.jsonl", `${rows.join("\n")}\n`);
    const state = new MemoryStateStore();
    state.leases.set("eta", { owner: "run-1", expiresAt: T0 + DAY_MS });
    const tasks = tasksWith(objects, state);
    const run = plan({
      features: [
        { name: "km", kind: "numeric" },
        { name: "zone", kind: "categorical" },
      ],
    });
    const prepared = await tasks.prepareDataset({ run });
    const { featuresProfileUri, ...legacy } = prepared;
    const dataset = withFeaturesProfile ? prepared : legacy;
    const holdoutLines = (await objects.getText(`${prepared.holdoutFeaturesUri}features.jsonl`))
      .trim()
      .split("\n");
    const scored = holdoutLines.map((l) => {
      const km = (JSON.parse(l) as { features: { km?: number } }).features.km;
      return String(km === undefined ? 0 : km * 2);
    });
    objects.putSync(`${run.s3.challengerScoresUri}features.jsonl.out`, `${scored.join("\n")}\n`);
    const evaluation = await tasks.evaluateChallenger({
      run,
      dataset,
      scores: { challenger: { outputUri: run.s3.challengerScoresUri }, champion: { skipped: true } },
    });
    await tasks.promote({
      run,
      training: { jobName: run.names.trainingJob, modelArtifacts: `${run.s3.artifactsUri}model.tar.gz` },
      evaluation,
    });

    const baseline = deserializeProfile(state.baselines.get(`eta#${run.runId}`)!);
    const { train, validation, holdout, total } = prepared.counts;
    expect(train + validation + holdout).toBe(600);
    expect(total).toBe(600);
    expect(featuresProfileUri).toBe(`${run.s3.datasetUri}features-profile.json`);
    const featureRows = withFeaturesProfile ? total : holdout;
    const km = baseline.features.km!;
    const zone = baseline.features.zone!;
    expect(zone.count).toBe(featureRows);
    expect(zone.missing).toBe(0);
    expect(km.count + km.missing).toBe(featureRows);
    if (withFeaturesProfile) expect(km.missing).toBe(60);
    expect(baseline.performance.n).toBe(holdout);
    expect(baseline.labelled).toBe(holdout);
    expect(baseline.prediction.count).toBe(holdout);
    expect(baseline.count).toBe(holdout);
  });
});

describe("fail", () => {
  it.each([
    [
      "training",
      "States.TaskFailed",
      '{"FailureReason":"AlgorithmError: OOM"}',
      /AlgorithmError: OOM/,
      "run-1",
      true,
    ],
    ["validation", "ValidationRejected", "gate rejected: improvement", /gate rejected/, "run-1", true],
    // Refused at ConfirmLease after the evaluator took the lease for this run: released.
    ["lease", "EndpointBusyError", "endpoint eta is Updating", /is Updating/, "run-1", true],
    // Another run holds the lease: the owner-conditional release leaves it alone.
    ["lease", "LeaseNotHeldError", "lease held by run-2", /lease held by run-2/, "run-2", false],
  ])(
    "stage %s (%s): names error and cause, releases only its own lease",
    async (stage, error, cause, pattern, holder, released) => {
      const state = new MemoryStateStore();
      state.leases.set("eta", { owner: holder, expiresAt: T0 + DAY_MS });
      const out = await tasksWith(new MemoryObjectStore(), state).fail({
        state: {
          modelId: "eta",
          ...(stage === "lease" ? {} : { run: plan() }),
          failure: { Error: error, Cause: cause, stage },
        },
        executionName: "run-1",
      });
      expect(out.subject).toBe(`[retrain-triggers] retraining of eta failed at ${stage}`);
      expect(out.message).toMatch(pattern);
      expect(out.message).toContain(`Error: ${error}`);
      expect(out.leaseReleased).toBe(released);
      expect(state.leases.get("eta")?.owner).toBe(released ? undefined : holder);
    },
  );
});

describe("fail: challenger cleanup", () => {
  const failWith = async (stage: string, hosting: FakeHosting) => {
    const state = new MemoryStateStore();
    state.leases.set("eta", { owner: "run-1", expiresAt: T0 + DAY_MS });
    const tasks = createWorkflowTasks({
      models: [],
      state,
      objects: new MemoryObjectStore(),
      hosting,
      layout: { bucket: "archive", datasetsPrefix: "d/", artifactsPrefix: "a/" },
      now: () => T0,
    });
    const out = await tasks.fail({
      state: { modelId: "eta", run: plan(), failure: { Error: "X", Cause: "y", stage } },
      executionName: "run-1",
    });
    return { out, released: !state.leases.has("eta") };
  };
  const run = plan();
  const challenger = () =>
    new FakeHosting(new Map([["eta", { exists: true, status: "InService", configName: "eta-old" }]]), {
      models: new Map([[run.names.model, "model"]]),
      configs: () => [run.names.endpointConfig],
    });

  it.each([
    ["validation", true],
    ["approval", true],
    ["deployment", true], // the endpoint is InService on another config: rolled back
    ["promotion", false], // the endpoint serves the challenger
    ["lease", false], // nothing was created
  ])("stage %s: deleted %s", async (stage, deleted) => {
    const hosting = challenger();
    const { out, released } = await failWith(stage, hosting);
    expect(hosting.deleted.length > 0).toBe(deleted);
    if (deleted) expect(out.message).toContain("Challenger cleaned up: deleted endpoint config");
    if (stage === "promotion") expect(out.message).toMatch(/kept: the endpoint serves them/);
    expect(released).toBe(true);
  });

  it("keeps the challenger while the endpoint is not back InService on another config", async () => {
    const hosting = new FakeHosting(
      new Map([["eta", { exists: true, status: "Failed", configName: run.names.endpointConfig }]]),
      { models: new Map([[run.names.model, "model"]]), configs: () => [run.names.endpointConfig] },
    );
    const { out } = await failWith("deployment", hosting);
    expect(hosting.deleted).toEqual([]);
    expect(out.message).toMatch(/kept: endpoint eta is Failed on /);
  });

  it("a failed cleanup is reported and does not hide the run's failure", async () => {
    const hosting = challenger();
    hosting.deleteError = Object.assign(new Error("denied"), { name: "AccessDeniedException" });
    const { out, released } = await failWith("validation", hosting);
    expect(out.subject).toContain("failed at validation");
    expect(out.message).toMatch(/kept: cleanup failed \(AccessDeniedException: denied\)/);
    expect(released).toBe(true);
  });
});

describe("transient errors", () => {
  it("re-throws throttling from a dependency as TransientError for the state machine's retrier", async () => {
    const objects = new MemoryObjectStore();
    objects.list = async () => {
      throw Object.assign(new Error("Please reduce your request rate."), { name: "SlowDown" });
    };
    const handler = createWorkflowTaskHandler({
      ...depsWith(objects),
      tools: { logger: new Logger({ logLevel: "SILENT" }) },
    });
    await expect(handler({ action: "prepareDataset", run: plan() }, {} as Context)).rejects.toMatchObject({
      name: "TransientError",
      message: "SlowDown: Please reduce your request rate.",
    });
  });
});
