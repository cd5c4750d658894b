import { describe, expect, it } from "vitest";
import { LocalArchive } from "../../local/archive";
import { ScheduleExpressionError, ScheduleTimer, SimulatedClock } from "../../local/clock";
import { EndpointError, LocalEndpoint } from "../../local/endpoint";
import { RotatingHyperplane } from "../../local/generators/hyperplane";
import { SeededRandom } from "../../local/prng";
import { TrainingDataError, trainLogisticRegression } from "../../local/trainer";

const HOUR = 3_600_000;
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
    endpoint.register(model);
    endpoint.deploy("v1", 10);
    let correct = 0;
    for (let i = 0; i < 500; i++) {
      const e = gen.sample(0, rng);
      const p = endpoint.invoke(e.features);
      expect(p.score).toBeGreaterThanOrEqual(0);
      expect(p.score).toBeLessThanOrEqual(1);
      if (p.prediction === e.label) correct++;
    }
    expect(correct / 500).toBeGreaterThan(0.9);
    expect(endpoint.deployments).toEqual([{ at: 10, version: "v1", previous: undefined }]);
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
    const archive = new LocalArchive();
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
