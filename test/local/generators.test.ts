import { describe, expect, it } from "vitest";
import { DAY_MS as DAY, HOUR_MS } from "../../contracts/time";
import { ConceptDriftStream, newConceptProbability } from "../../local/generators/drift";
import { malformedPayload, WithMissingFeature } from "../../local/generators/extras";
import { RotatingHyperplane } from "../../local/generators/hyperplane";
import { SeaGenerator } from "../../local/generators/sea";
import { dailyCycle } from "../../local/generators/seasonality";
import { SeededRandom } from "../../local/prng";
import { createScenario, SCENARIOS, UnknownScenarioError } from "../../local/scenarios";
import { predictionEvent } from "../support/events";

describe("SeededRandom", () => {
  it("is reproducible for a seed and differs across seeds", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });

  it("draws uniforms in [0, 1) with mean near 1/2 and normals with sd near 1", () => {
    const r = new SeededRandom(1);
    const u = Array.from({ length: 20_000 }, () => r.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(u.reduce((s, x) => s + x, 0) / u.length).toBeCloseTo(0.5, 1);
    const z = Array.from({ length: 20_000 }, () => r.normal());
    const sd = Math.sqrt(z.reduce((s, x) => s + x * x, 0) / z.length);
    expect(sd).toBeCloseTo(1, 1);
  });
});

describe("concept-drift generators", () => {
  it.each([
    { threshold: 8, f1: 5, f2: 4, label: 1 },
    { threshold: 9.5, f1: 5, f2: 4, label: 0 },
  ])("SEA threshold $threshold labels f1+f2=$f1+$f2 as $label (no noise)", ({ threshold, f1, f2, label }) => {
    const sea = new SeaGenerator({ threshold: () => threshold, noise: 0 });
    const rng = new SeededRandom(3);
    for (let i = 0; i < 500; i++) {
      const e = sea.sample(0, rng);
      const sum = (e.features.f1 as number) + (e.features.f2 as number);
      expect(e.label).toBe(sum > threshold ? 1 : 0);
    }
    expect(f1 + f2 > threshold ? 1 : 0).toBe(label);
  });

  it("rotating hyperplane moves its weights only during the rotation", () => {
    const h = new RotatingHyperplane({
      weights: [0.5, 0.5, 0.5],
      rotation: { from: DAY, to: 3 * DAY, magnitudePerDay: 0.1, driftFeatures: 2 },
    });
    expect(h.weightsAt(0)).toEqual([0.5, 0.5, 0.5]);
    expect(h.weightsAt(2 * DAY)).toEqual([0.6, 0.4, 0.5]);
    expect(h.weightsAt(10 * DAY).map((w) => Number(w.toFixed(6)))).toEqual([0.7, 0.3, 0.5]);
  });

  it.each([
    { width: 0, t: -1, p: 0 },
    { width: 0, t: 0, p: 1 },
    { width: 10, t: 0, p: 0.5 },
  ])("new-concept probability width=$width t=$t is $p", ({ width, t, p }) => {
    expect(newConceptProbability(t, { position: 0, width })).toBeCloseTo(p, 6);
  });

  it("an abrupt drift stream switches concept at its position", () => {
    const stream = new ConceptDriftStream(
      new SeaGenerator({ threshold: () => 0, noise: 0 }),
      new SeaGenerator({ threshold: () => 100, noise: 0 }),
      { position: DAY, width: 0 },
    );
    const rng = new SeededRandom(5);
    expect(stream.sample(DAY - 1, rng).label).toBe(1);
    expect(stream.sample(DAY, rng).label).toBe(0);
  });

  it("a missing-feature incident nulls the feature only inside its window", () => {
    const g = new WithMissingFeature(new SeaGenerator(), { feature: "f1", from: DAY, to: 2 * DAY, rate: 1 });
    const rng = new SeededRandom(9);
    expect(g.sample(0, rng).features.f1).not.toBeNull();
    expect(g.sample(DAY, rng).features.f1).toBeNull();
    expect(g.sample(2 * DAY, rng).features.f1).not.toBeNull();
  });

  it("malformed payloads are never a valid schema-v1 prediction", () => {
    const rng = new SeededRandom(2);
    const valid = predictionEvent({ modelId: "m", requestId: "r", timestamp: 1 });
    for (let i = 0; i < 50; i++) {
      const text = malformedPayload(valid, rng);
      expect(text).not.toBe(JSON.stringify(valid));
    }
  });

  it("daily cycle has mean 1 over a day", () => {
    const xs = Array.from({ length: 24 }, (_, h) => dailyCycle(h * HOUR_MS, 0.5));
    expect(xs.reduce((s, x) => s + x, 0) / 24).toBeCloseTo(1, 9);
  });
});

describe("scenarios", () => {
  it.each(Object.keys(SCENARIOS))("%s has at least 30 days by default and reproducible samples", (name) => {
    const a = createScenario(name);
    const b = createScenario(name);
    expect(a.days).toBeGreaterThanOrEqual(30);
    const ra = new SeededRandom(a.seed);
    const rb = new SeededRandom(b.seed);
    expect(a.generator.sample(a.start, ra)).toEqual(b.generator.sample(b.start, rb));
    expect(a.features.map((f) => f.name).sort()).toEqual([...a.generator.features].sort());
  });

  it("rejects an unknown scenario naming the valid ones", () => {
    expect(() => createScenario("nope")).toThrow(UnknownScenarioError);
    expect(() => createScenario("nope")).toThrow(/drift, stationary-seasonal/);
  });
});
