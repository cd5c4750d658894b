/**
 * The decision matrix as vitest cases for one volume (one file per volume, so the files run in parallel),
 * evaluated hourly with the default policy, each case asserting `matrixRow`'s definitions
 * (test/support/matrix-assertions.ts).
 *
 * The full matrix (every scenario at label delays 0, 6 h and 72 h: 21 runs of 30 or 60 simulated days
 * per volume, about 10 minutes of CPU per volume) runs with `MATRIX=full`. By default each volume runs a
 * covering subset (`DEFAULT_CASES`): every scenario, every volume and every delay appear at least once,
 * and the suite stays within its time budget.
 */
import { afterAll, describe, expect, it } from "vitest";
import { MATRIX_DELAYS, matrixRow } from "./matrix-assertions";
import {
  ABRUPT_CONCEPT,
  FEATURE_OUTAGE,
  GRADUAL_CONCEPT,
  IGNORED_SHIFT,
  MATRIX_SCENARIOS,
  SLOW_DECLINE,
  STATIONARY,
  VOLUME_DROP_THEN_CONCEPT,
} from "./matrix-scenarios";
import { clearDrawCache, runScenario, type Scenario } from "./scenario-matrix";

/** The default subset: (scenario, label delay) per volume. */
const DEFAULT_CASES: Readonly<Record<number, ReadonlyArray<readonly [Scenario, number]>>> = {
  1000: [
    [STATIONARY, 72],
    [ABRUPT_CONCEPT, 6],
    [FEATURE_OUTAGE, 0],
  ],
  50000: [
    [IGNORED_SHIFT, 6],
    [VOLUME_DROP_THEN_CONCEPT, 72],
    [GRADUAL_CONCEPT, 0],
  ],
  1000000: [
    [STATIONARY, 0],
    [SLOW_DECLINE, 6],
  ],
};

function cases(volumePerDay: number): ReadonlyArray<readonly [Scenario, number]> {
  if (process.env.MATRIX === "full")
    return MATRIX_SCENARIOS.flatMap((s) => MATRIX_DELAYS.map((d) => [s, d] as const));
  return DEFAULT_CASES[volumePerDay] ?? [];
}

export function describeMatrix(volumePerDay: number): void {
  describe(`decision matrix at ${volumePerDay.toLocaleString("en")} predictions a day (default policy)`, () => {
    afterAll(() => clearDrawCache());
    for (const [scenario, labelDelayHours] of cases(volumePerDay)) {
      it(`${scenario.name}, labels after ${labelDelayHours} h`, { timeout: 600_000 }, () => {
        const result = runScenario(scenario, { volumePerDay, labelDelayHours, evaluateEveryHours: 1 });
        const row = matrixRow(scenario, result);
        expect(row.problems).toEqual([]);
        // The run did evaluate hourly over the whole scenario.
        expect(result.decisions.length).toBe(scenario.days * 24);
      });
    }
  });
}
