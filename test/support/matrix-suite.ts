/**
 * The decision matrix as vitest cases for one volume (one file per volume, so the files run in parallel):
 * every scenario at label delays 0, 6 h and 72 h, evaluated hourly with the default policy, each case
 * asserting `matrixRow`'s definitions (test/support/matrix-assertions.ts).
 */
import { afterAll, describe, expect, it } from "vitest";
import { MATRIX_DELAYS, matrixRow } from "./matrix-assertions";
import { MATRIX_SCENARIOS } from "./matrix-scenarios";
import { clearDrawCache, runScenario } from "./scenario-matrix";

export function describeMatrix(volumePerDay: number): void {
  describe(`decision matrix at ${volumePerDay.toLocaleString("en")} predictions a day (default policy)`, () => {
    afterAll(() => clearDrawCache());
    for (const scenario of MATRIX_SCENARIOS) {
      for (const labelDelayHours of MATRIX_DELAYS) {
        it(`${scenario.name}, labels after ${labelDelayHours} h`, () => {
          const result = runScenario(scenario, { volumePerDay, labelDelayHours, evaluateEveryHours: 1 });
          const row = matrixRow(scenario, result);
          expect(row.problems).toEqual([]);
          // The run did evaluate hourly over the whole scenario.
          expect(result.decisions.length).toBe(scenario.days * 24);
        });
      }
    }
  });
}
