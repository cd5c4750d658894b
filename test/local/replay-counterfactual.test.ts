/**
 * `replay --train local` (local/replay-counterfactual.ts): what the serving stage does to each line, and a
 * retrain judged by the production validation gate. The end-to-end comparison with a plain replay is in
 * test/integration/replay-counterfactual.test.ts.
 */
import { describe, expect, it } from "vitest";
import { buildModelCatalog } from "../../contracts/catalog";
import { HOUR_MS } from "../../contracts/time";
import type { ReplayRecord } from "../../local/log-spill";
import { MemoryModelStateRepository } from "../../local/memory-model-state";
import { CounterfactualTrainer } from "../../local/replay-counterfactual";
import { scenarioConfig } from "../../local/scenario-config";
import { createScenario } from "../../local/scenarios";

const config = scenarioConfig(createScenario("drift"));
const models = buildModelCatalog(config).models;
const model = models[0]!;
const T0 = Date.parse("2026-03-02T00:00:00.000Z");

let ord = 0;
const record = (data: string, base64 = false): ReplayRecord => ({
  ord: ord++,
  file: 0,
  line: ord,
  arrivalMs: T0,
  partitionKey: model.id,
  data,
  base64,
});
const features = (i: number) =>
  Object.fromEntries(
    model.features.map((f, k) => [f.name, f.kind === "numeric" ? ((i * (k + 3)) % 97) / 97 : `c${i % 3}`]),
  );
const prediction = (i: number, t: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    schemaVersion: 1,
    type: "prediction",
    modelId: model.id,
    requestId: `r${i}`,
    timestamp: new Date(t).toISOString(),
    features: features(i),
    prediction: 0,
    score: 0.1,
    ...extra,
  });
/** The true label: a threshold on the first numeric feature the logged model (always 0) ignores. */
const truth = (i: number) => (((i * 3) % 97) / 97 > 0.5 ? 1 : 0) as 0 | 1;
const label = (i: number, t: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    schemaVersion: 1,
    type: "label",
    modelId: model.id,
    requestId: `r${i}`,
    timestamp: new Date(t).toISOString(),
    label: truth(i),
    ...extra,
  });

describe("the serving stage", () => {
  it.each([
    ["not JSON", "{oops"],
    ["a JSON array", "[1,2]"],
    ["another schema version", prediction(1, T0).replace('"schemaVersion":1', '"schemaVersion":2')],
    ["an unknown model", prediction(1, T0).replace(`"modelId":"${model.id}"`, '"modelId":"other"')],
    ["a label without its prediction", label(99_999, T0)],
  ])("passes %s through untouched", (_name, data) => {
    const cf = new CounterfactualTrainer(models);
    const r = record(data);
    expect(cf.transform(r)).toBe(r);
  });

  it("leaves a record that is not UTF-8 (base64) as it is", () => {
    const cf = new CounterfactualTrainer(models);
    const r = record(Buffer.from([0xff, 0xfe]).toString("base64"), true);
    expect(cf.transform(r)).toBe(r);
  });

  it("before any retrain: every line unchanged; after a deploy: predictions re-scored, label copies follow", async () => {
    const cf = new CounterfactualTrainer(models);
    // Two days of traffic, labelled an hour later, all predicted 0 by the logged model.
    for (let i = 0; i < 4000; i++) {
      const t = T0 + i * 40_000;
      const p = record(prediction(i, t));
      expect(cf.transform(p)).toBe(p);
      const l = record(label(i, t + HOUR_MS));
      expect(cf.transform(l)).toBe(l);
    }
    const state = new MemoryModelStateRepository();
    const at = T0 + 4000 * 40_000 + 2 * HOUR_MS;
    const retrain = await cf.retrain(model.id, at, state);
    expect(retrain).toMatchObject({ modelId: model.id, outcome: "deployed" });
    expect(retrain.challenger!).toBeGreaterThan(retrain.champion! + 0.2);
    expect(retrain.holdoutRows).toBeGreaterThan(500);
    // The workflow's reset: new champion, its training baseline, cooldown from `at`.
    const s = await state.getState(model.id);
    expect(s).toMatchObject({
      championVersion: retrain.version,
      baselineVersion: retrain.version,
      lastDeployAt: at,
    });
    expect((await state.getBaseline(model.id, retrain.version))?.source).toBe("training");

    let correct = 0;
    for (let i = 5000; i < 5400; i++) {
      const t = at + (i - 5000) * 40_000;
      const p = JSON.parse(cf.transform(record(prediction(i, t, { modelVersion: "v0" }))).data);
      expect(p.modelVersion).toBe(retrain.version);
      if (p.prediction === truth(i)) correct++;
      const l = JSON.parse(cf.transform(record(label(i, t + HOUR_MS, { prediction: 0 }))).data);
      expect(l.prediction).toBe(p.prediction);
    }
    expect(correct / 400).toBeGreaterThan(0.9);
    const served = cf.summary().served;
    expect(served.find((v) => v.version === "logged")?.accuracy).toBeLessThan(0.6);
    expect(served.find((v) => v.version === retrain.version)?.accuracy).toBeGreaterThan(0.9);
  });

  it("a challenger worse than the model that served the rows is rejected by the gate and not served", async () => {
    const cf = new CounterfactualTrainer(models);
    // The logged model knows every label, a tenth of which no feature explains.
    for (let i = 0; i < 3000; i++) {
      const t = T0 + i * 40_000;
      const y = i % 10 === 0 ? 1 - truth(i) : truth(i);
      cf.transform(record(prediction(i, t, { prediction: y, score: y === 1 ? 0.9 : 0.1 })));
      cf.transform(record(label(i, t + HOUR_MS, { label: y })));
    }
    const state = new MemoryModelStateRepository();
    const retrain = await cf.retrain(model.id, T0 + 3000 * 40_000 + 2 * HOUR_MS, state);
    expect(retrain.outcome).toBe("rejected");
    expect(retrain.champion).toBe(1);
    expect(retrain.challenger!).toBeLessThan(0.95);
    expect((await state.getState(model.id)).lastDeployAt).toBeUndefined();
    const p = record(prediction(9999, T0 + 4000 * 40_000));
    expect(cf.transform(p)).toBe(p);
  });

  it("a retrain without enough labelled rows fails and serves nothing new", async () => {
    const cf = new CounterfactualTrainer(models);
    for (let i = 0; i < 5; i++) {
      cf.transform(record(prediction(i, T0 + i)));
      cf.transform(record(label(i, T0 + i + 1)));
    }
    const retrain = await cf.retrain(model.id, T0 + HOUR_MS, new MemoryModelStateRepository());
    expect(retrain).toMatchObject({ outcome: "failed", trainingRows: 4, holdoutRows: 1 });
    expect(retrain.detail).toMatch(/at least 10 labelled examples/);
    const p = record(prediction(9, T0 + 2 * HOUR_MS));
    expect(cf.transform(p)).toBe(p);
  });
});
