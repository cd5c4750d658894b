import { describe, expect, it } from "vitest";
import { parsePolicy } from "../../../contracts/policy";
import {
  aggregateDriftVerdict,
  type DriftMeasures,
  featureDriftVerdict,
} from "../../../lambdas/domain/decision/signals/drift";
import { predictionDriftVerdict } from "../../../lambdas/domain/decision/signals/prediction-drift";
import { compareProfiles } from "../../../lambdas/domain/stats/drift";
import { emptyProfile } from "../../../lambdas/domain/stats/profile";
import { addPrediction } from "../../../lambdas/domain/stats/profile-update";

const policy = parsePolicy({});
const cfg = policy.signals.drift; // psi 0.2 by default

/** Measures with large samples (the noise floor far below the threshold) and a PSI error bound. */
const measures = (psi: number, bound?: number): DriftMeasures => ({
  type: "numeric",
  n: { reference: 100_000, current: 100_000 },
  psi,
  ...(bound === undefined ? {} : { bounds: { psi: bound } }),
});

describe("drift verdicts carry the summaries' error bound (issue 12, item 4)", () => {
  it.each([
    { name: "clearly above", psi: 0.35, bound: 0.01, breached: true, uncertain: undefined },
    { name: "above, within the bound", psi: 0.205, bound: 0.01, breached: false, uncertain: 0.01 },
    { name: "below, within the bound", psi: 0.195, bound: 0.01, breached: false, uncertain: 0.01 },
    { name: "clearly below", psi: 0.1, bound: 0.01, breached: false, uncertain: undefined },
    { name: "exact summaries (bound 0)", psi: 0.205, bound: 0, breached: true, uncertain: undefined },
    {
      name: "unknown bound (legacy profile)",
      psi: 0.205,
      bound: Number.NaN,
      breached: true,
      uncertain: undefined,
    },
    { name: "no bound given", psi: 0.205, bound: undefined, breached: true, uncertain: undefined },
  ])("$name", ({ psi, bound, breached, uncertain }) => {
    const v = featureDriftVerdict(cfg, "age", measures(psi, bound));
    expect(v.skipped).toBeUndefined();
    expect(v.breached).toBe(breached);
    expect(v.uncertain).toBe(uncertain);
    if (uncertain !== undefined) {
      expect(v.message).toContain("uncertain");
      expect(v.message).toContain("+- 0.01");
      expect(v.strength).toBeLessThan(1);
    }
    if (bound !== undefined) expect(v.evidence.errorBound).toBe(Number.isNaN(bound) ? null : bound);
  });

  it("an uncertain feature is judged but not counted as drifted, and is named in the evidence", () => {
    const features = [
      featureDriftVerdict(cfg, "a", measures(0.205, 0.01)),
      featureDriftVerdict(cfg, "b", measures(0.5, 0.01)),
      featureDriftVerdict(cfg, "c", measures(0.01, 0.01)),
    ];
    const v = aggregateDriftVerdict({ ...cfg, weighting: "uniform" }, features, {});
    expect(v.value).toBeCloseTo(1 / 3, 12);
    expect(v.evidence).toMatchObject({ judged: 3, drifted: ["b"], uncertain: ["a"] });
  });

  it("prediction drift: the bound of the output that speaks for the model", () => {
    const config = { ...policy.signals.predictionDrift, method: "psi" as const };
    const v = predictionDriftVerdict(config, { score: measures(config.threshold + 0.001, 0.01) });
    expect(v).toMatchObject({ breached: false, uncertain: 0.01 });
    const w = predictionDriftVerdict(config, { score: measures(config.threshold + 0.1, 0.01) });
    expect(w).toMatchObject({ breached: true });
    expect(w.uncertain).toBeUndefined();
  });

  it("stats/drift.ts results feed the verdict with their bounds", () => {
    const spec = { task: "regression" as const, features: { x: "numeric" as const } };
    const ref = emptyProfile(spec);
    const cur = emptyProfile(spec);
    for (let i = 0; i < 50_000; i++) {
      addPrediction(ref, { features: { x: Math.sin(i) * 100 }, prediction: 0 });
      addPrediction(cur, { features: { x: Math.sin(i) * 100 + 40 }, prediction: 0 });
    }
    const d = compareProfiles(ref, cur).x!;
    if (d.type !== "numeric") throw new Error("numeric drift expected");
    expect(d.bounds.psi).toBeGreaterThan(0);
    const v = featureDriftVerdict(cfg, "x", d);
    expect(v.evidence.errorBound).toBe(d.bounds.psi);
    expect(v.breached).toBe(d.psi - d.bounds.psi > Math.max(0.2, Number(v.evidence.noiseFloor)));
  });
});
