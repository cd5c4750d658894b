import { describe, expect, it } from "vitest";
import { HOUR_MS as HOUR } from "../../contracts/time";
import { LocalArchive } from "../../local/archive";
import { ScheduleExpressionError, ScheduleTimer, SimulatedClock } from "../../local/clock";
import { EndpointError, LocalEndpoint } from "../../local/endpoint";
import { RotatingHyperplane } from "../../local/generators/hyperplane";
import { MemoryObjectStore } from "../../local/object-store";
import { SeededRandom } from "../../local/prng";
import { LocalSageMaker, LocalSageMakerError } from "../../local/sagemaker";
import { TrainingDataError, trainLogisticRegression } from "../../local/trainer";

const specs = ["x1", "x2", "x3"].map((name) => ({ name, kind: "numeric" as const }));

describe("local trainer and endpoint (simulated SageMaker)", () => {
  it("learns a hyperplane concept well above chance and serves it after deploy", () => {
    const gen = new RotatingHyperplane({ weights: [0.9, 0.1, 0.5], noise: 0 });
    const rng = new SeededRandom(1);
    const rows = Array.from({ length: 1500 }, () => gen.sample(0, rng));
    const model = trainLogisticRegression(rows, specs, { version: "v1", trainedAt: 0 });
    expect(model.trainAccuracy).toBeGreaterThan(0.9);

    const endpoint = new LocalEndpoint("churn");
    expect(() => endpoint.invoke({ x1: 0.5 })).toThrow(EndpointError);
    endpoint.deploy(model, 10, "cfg-1");
    let correct = 0;
    for (let i = 0; i < 500; i++) {
      const e = gen.sample(0, rng);
      const p = endpoint.invoke(e.features);
      expect(p.score).toBeGreaterThanOrEqual(0);
      expect(p.score).toBeLessThanOrEqual(1);
      if (p.prediction === e.label) correct++;
    }
    expect(correct / 500).toBeGreaterThan(0.9);
    expect(endpoint.deployments).toEqual([
      { at: 10, version: "v1", previous: undefined, configName: "cfg-1" },
    ]);
  });

  it.each([
    { rows: [], why: /at least 10/ },
    { rows: Array.from({ length: 20 }, () => ({ features: { x1: 1 }, label: 1 })), why: /single class/ },
    {
      rows: Array.from({ length: 20 }, (_, i) => ({ features: { x1: i }, label: "yes" })),
      why: /binary label/,
    },
  ])("refuses unusable training data ($why)", ({ rows, why }) => {
    expect(() => trainLogisticRegression(rows, specs, { version: "v", trainedAt: 0 })).toThrow(
      TrainingDataError,
    );
    expect(() => trainLogisticRegression(rows, specs, { version: "v", trainedAt: 0 })).toThrow(why);
  });
});

describe("LocalSageMaker (simulated SageMaker APIs the workflow overrides call)", () => {
  it("trains from the train channel, scores a holdout and swaps the endpoint", async () => {
    const objects = new MemoryObjectStore();
    const gen = new RotatingHyperplane({ weights: [0.2, 0.9, 0.4], noise: 0 });
    const rng = new SeededRandom(4);
    const train = Array.from({ length: 600 }, () => gen.sample(0, rng));
    objects.putSync("s3://b/ds/train/data.jsonl", `${train.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const holdout = Array.from({ length: 50 }, () => gen.sample(0, rng));
    objects.putSync(
      "s3://b/ds/holdout/features.jsonl",
      holdout.map((r) => JSON.stringify({ features: r.features })).join("\n"),
    );
    let now = 1000;
    const sm = new LocalSageMaker(
      objects,
      () => specs,
      () => now,
    );
    expect(await sm.describeEndpoint("ep")).toEqual({ exists: false });

    const job = await sm.createTrainingJob({
      TrainingJobName: "run-1",
      InputDataConfig: [
        { ChannelName: "train", DataSource: { S3DataSource: { S3Uri: "s3://b/ds/train/" } } },
      ],
      OutputDataConfig: { S3OutputPath: "s3://b/artifacts/" },
      Tags: [{ Key: "retrain-triggers:model", Value: "m" }],
    });
    expect(job.TrainingJobStatus).toBe("Completed");
    await sm.createModel({
      ModelName: "run-1",
      PrimaryContainer: {
        ModelDataUrl: (job.ModelArtifacts as { S3ModelArtifacts: string }).S3ModelArtifacts,
      },
    });
    await sm.createTransformJob({
      TransformJobName: "run-1-c",
      ModelName: "run-1",
      TransformInput: { DataSource: { S3DataSource: { S3Uri: "s3://b/ds/holdout/" } } },
      TransformOutput: { S3OutputPath: "s3://b/scores/" },
    });
    const scored = objects.getSync("s3://b/scores/features.jsonl.out").trim().split("\n");
    expect(scored).toHaveLength(50);
    const correct = scored.filter((l, i) => JSON.parse(l).prediction === holdout[i]!.label).length;
    expect(correct).toBeGreaterThan(40);

    await sm.createEndpointConfig({
      EndpointConfigName: "cfg-1",
      ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "run-1" }],
    });
    now = 2000;
    await sm.createEndpoint({ EndpointName: "ep", EndpointConfigName: "cfg-1" });
    expect(await sm.describeEndpoint("ep")).toEqual({
      exists: true,
      status: "InService",
      configName: "cfg-1",
      variantNames: ["AllTraffic"],
    });
    expect(sm.endpoint("ep").version).toBe("run-1");
    await expect(sm.updateEndpoint({ EndpointName: "ep", EndpointConfigName: "nope" })).rejects.toThrow(
      LocalSageMakerError,
    );
    // As SageMaker's blue/green update: a config with another variant name is refused.
    await sm.createEndpointConfig({
      EndpointConfigName: "cfg-blue",
      ProductionVariants: [{ VariantName: "Blue", ModelName: "run-1" }],
    });
    await expect(sm.updateEndpoint({ EndpointName: "ep", EndpointConfigName: "cfg-blue" })).rejects.toThrow(
      /serves variant "AllTraffic"; a blue\/green update must keep it/,
    );
    expect(sm.endpoint("ep").configName).toBe("cfg-1");
  });
});

describe("simulated clock and schedules", () => {
  it.each([
    { expr: "rate(6 hours)", fires: [6, 12, 18, 24] },
    { expr: "rate(1 day)", fires: [24] },
    { expr: "cron(30 0/12 * * ? *)", fires: [0.5, 12.5] },
  ])("$expr fires at hours $fires in the first day", ({ expr, fires }) => {
    const timer = new ScheduleTimer(expr, 0);
    expect(timer.due(24 * HOUR)).toEqual(fires.map((h) => h * HOUR));
    expect(timer.due(24 * HOUR)).toEqual([]);
  });

  it.each(["every 5 minutes", "rate(0 hours)", "rate(2 fortnights)", "cron(0 1 * *)"])(
    "rejects %s",
    (expr) => {
      expect(() => new ScheduleTimer(expr, 0)).toThrow(ScheduleExpressionError);
    },
  );

  it("never goes back in time", () => {
    const clock = new SimulatedClock(100);
    clock.advanceTo(200);
    expect(clock.nowFn()).toBe(200);
    expect(() => clock.advanceTo(150)).toThrow(RangeError);
  });
});

describe("local archive (Firehose -> S3 stand-in)", () => {
  it("lays records out by model and arrival day and joins labels for training", () => {
    const archive = new LocalArchive(new MemoryObjectStore(), "archive");
    const t = Date.UTC(2026, 0, 5, 13);
    archive.deliver(
      [
        JSON.stringify({
          type: "prediction",
          modelId: "m",
          requestId: "a",
          timestamp: t,
          features: { x1: 1 },
          prediction: 1,
        }),
        JSON.stringify({
          type: "prediction",
          modelId: "m",
          requestId: "b",
          timestamp: t,
          features: { x1: 2 },
          prediction: 0,
        }),
        "{not json",
      ],
      t,
    );
    archive.deliver(
      [JSON.stringify({ type: "label", modelId: "m", requestId: "a", timestamp: t + HOUR, label: 0 })],
      t + 2 * HOUR,
    );
    expect(archive.list("m/2026/01/05/")).toEqual([
      "m/2026/01/05/m-2026-01-05-13-0.jsonl",
      "m/2026/01/05/m-2026-01-05-15-0.jsonl",
    ]);
    expect(archive.list("errors/")).toHaveLength(1);
    expect(archive.labelledExamples("m", t, t + 1)).toEqual([{ features: { x1: 1 }, label: 0 }]);
    expect(archive.labelledExamples("m", t + 1, t + 2)).toEqual([]);
  });
});
