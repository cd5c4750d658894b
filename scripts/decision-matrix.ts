/**
 * The decision matrix (issue 13): every scenario of test/support/matrix-scenarios.ts at about 1k, 50k and
 * 1M predictions a day and label delays of 0, 6 h and 72 h, evaluated hourly with the DEFAULT policy.
 * Prints the table of docs/policy.md ("Decision matrix"): false alerts, retrains and detection delays.
 * The same runs are asserted in test/scenarios/matrix-*.test.ts.
 *
 *   npx tsx scripts/decision-matrix.ts [volumes=1000,50000,1000000] [delays=0,6,72]
 */
import { HOUR_MS } from "../contracts/time";
import { MATRIX_DELAYS, MATRIX_VOLUMES, matrixRow } from "../test/support/matrix-assertions";
import { MATRIX_SCENARIOS } from "../test/support/matrix-scenarios";
import { clearDrawCache, runScenario } from "../test/support/scenario-matrix";

const volumes = process.argv[2] ? process.argv[2].split(",").map(Number) : MATRIX_VOLUMES;
const delays = process.argv[3] ? process.argv[3].split(",").map(Number) : MATRIX_DELAYS;
const hours = (ms: number | undefined) => (ms === undefined ? "-" : `${Math.round(ms / HOUR_MS)} h`);
console.log(
  "| Scenario | Predictions/day | Label delay | False alerts | Retrains | First alert after change | First retrain after change | Bound |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const volume of volumes) {
  clearDrawCache();
  for (const scenario of MATRIX_SCENARIOS) {
    for (const delay of delays) {
      const result = runScenario(scenario, {
        volumePerDay: volume,
        labelDelayHours: delay,
        evaluateEveryHours: 1,
      });
      const row = matrixRow(scenario, result);
      console.log(
        `| ${scenario.name} | ${volume.toLocaleString("en")} | ${delay} h | ${row.falseAlerts} | ${row.retrains} | ${hours(row.firstAlertDelay)} | ${hours(row.firstRetrainDelay)} | ${row.bound === undefined ? "-" : hours(row.bound)} |` +
          (row.problems.length > 0 ? ` <!-- ${row.problems.join("; ")} -->` : ""),
      );
    }
  }
}
