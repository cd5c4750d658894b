/**
 * Seeded simulation of the validation gate on an accuracy comparison, the situation issue 13 measured:
 * two binary classifiers scored on the same holdout, the champion right on `championAccuracy` of the rows,
 * the two disagreeing about correctness on `discordance` of them, the challenger's accuracy `difference`
 * above the champion's. Each replication draws a fresh holdout and applies both the point-estimate rule
 * the gate used before (challenger accuracy >= champion accuracy: `minImprovement` 0) and the paired gate.
 */
import type { ValidationGate } from "../../contracts/policy";
import type { ScoredOutput } from "../../lambdas/domain/retraining/holdout-evaluation";
import { applyValidationGate } from "../../lambdas/domain/retraining/validation-gate";
import { mulberry32 } from "../../lambdas/domain/stats/mulberry32";

export interface GateSimulation {
  readonly rows: number;
  readonly difference: number;
  readonly discordance: number;
  readonly championAccuracy: number;
  readonly replications: number;
  readonly seed: number;
}

export interface PassRates {
  /** Point estimates: challenger accuracy >= champion accuracy. */
  readonly pointEstimate: number;
  /** The paired gate's whole verdict (holdout size, non-inferiority, agreement). */
  readonly pairedGate: number;
  /** The paired gate's non-inferiority check alone (what the test decides at any holdout size). */
  readonly nonInferiority: number;
  /** The paired gate's verdicts that were `rejected` (on the evidence, not for want of rows). */
  readonly rejected: number;
  /** The paired gate's verdicts that were `insufficientHoldout` (undecided). */
  readonly insufficientHoldout: number;
}

export function simulateGate(gate: ValidationGate, sim: GateSimulation): PassRates {
  const random = mulberry32(sim.seed);
  const challengerOnly = (sim.discordance + sim.difference) / 2;
  const championOnly = (sim.discordance - sim.difference) / 2;
  const bothRight = sim.championAccuracy - championOnly;
  let pointPasses = 0;
  let gatePasses = 0;
  let testPasses = 0;
  let rejections = 0;
  let undecided = 0;
  for (let replication = 0; replication < sim.replications; replication++) {
    const labels: number[] = [];
    const challenger: ScoredOutput[] = [];
    const champion: ScoredOutput[] = [];
    let challengerCorrect = 0;
    let championCorrect = 0;
    for (let row = 0; row < sim.rows; row++) {
      const y = random() < 0.5 ? 1 : 0;
      const u = random();
      const championRight = u < bothRight || (u >= bothRight && u < bothRight + championOnly);
      const challengerRight =
        u < bothRight || (u >= bothRight + championOnly && u < bothRight + championOnly + challengerOnly);
      labels.push(y);
      champion.push({ prediction: championRight ? y : 1 - y });
      challenger.push({ prediction: challengerRight ? y : 1 - y });
      if (championRight) championCorrect++;
      if (challengerRight) challengerCorrect++;
    }
    if (challengerCorrect >= championCorrect) pointPasses++;
    const verdict = applyValidationGate(gate, { task: "binary", labels, challenger, champion });
    if (verdict.passed) gatePasses++;
    if (verdict.outcome === "rejected") rejections++;
    if (verdict.outcome === "insufficientHoldout") undecided++;
    if (verdict.checks.find((c) => c.name === "nonInferiority")?.passed) testPasses++;
  }
  return {
    pointEstimate: pointPasses / sim.replications,
    pairedGate: gatePasses / sim.replications,
    nonInferiority: testPasses / sim.replications,
    rejected: rejections / sim.replications,
    insufficientHoldout: undecided / sim.replications,
  };
}
