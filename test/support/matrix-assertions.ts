/**
 * What the decision matrix asserts of every run (issue 13): at most one false alert per 30 days of hourly
 * evaluation, no retrain before a change, detection within a stated bound, and no suppression deadlock.
 * `matrixRow` measures a run and lists the assertions it breaks (`problems`), so the test and the table
 * script (scripts/decision-matrix.ts) use one definition.
 */
import { parsePolicy } from "../../contracts/policy";
import { DAY_MS, HOUR_MS } from "../../contracts/time";
import type { Decision } from "../../lambdas/domain/decision/decision";
import { trueAccuracy } from "./analytic-world";
import { FIRST_CHAMPION, MATRIX_T0, type RunResult, type Scenario } from "./scenario-matrix";

export const MATRIX_VOLUMES = [1_000, 50_000, 1_000_000];
export const MATRIX_DELAYS = [0, 6, 72];

const DEFAULTS = parsePolicy({});

/** One-sided normal quantile of the performance test (alpha 0.001 by default). */
const Z = 3.090232306167813;

/** Labels a window holds at a daily volume: the 24-h window, widened up to `minLabels` (hours, count). */
function labelWindow(volumePerDay: number): { hours: number; labels: number } {
  const perHour = volumePerDay / 24;
  const hours = Math.min(
    DEFAULTS.maxWindowHours,
    Math.max(DEFAULTS.windowHours, DEFAULTS.signals.performance.minLabels / perHour),
  );
  return { hours, labels: perHour * hours };
}

/**
 * Detection-delay bound (ms) after the change becomes detectable (`detectableAt`), with the default
 * policy: 1.25 x the label delay (labels of a bucket are complete by then in the harness, so its window is
 * mature), the label window's length (24 h, or widened for volume to hold `minLabels`), and persistence
 * (2 of 3 hourly evaluations) plus one evaluation.
 */
export function detectionBound(volumePerDay: number, labelDelayHours: number): number {
  const persistence = DEFAULTS.stability.persistence.n;
  return (1.25 * labelDelayHours + labelWindow(volumePerDay).hours + persistence + 1) * HOUR_MS;
}

export interface MatrixRow {
  readonly falseAlerts: number;
  readonly retrains: number;
  readonly firstAlertDelay?: number;
  readonly firstRetrainDelay?: number;
  readonly bound?: number;
  /** The assertions the run breaks, in words (empty: it holds). */
  readonly problems: readonly string[];
}

/**
 * When a change becomes detectable by the default performance test: the first champion's true accuracy
 * is below the policy's limit (`maxRelativeDrop` under the baseline's) by the test's margin,
 * z(0.999) x the standard error of a difference of two accuracies over a label window at this volume.
 * For an abrupt change that is the change itself; for a gradual one, when it has gone far enough.
 */
function detectableAt(scenario: Scenario, volumePerDay: number, from: number): number {
  const start = trueAccuracy(scenario.world(MATRIX_T0, volumePerDay), FIRST_CHAMPION);
  const dailyAfter = volumePerDay * (scenario.volumeShareAfter ?? 1);
  const { labels } = labelWindow(dailyAfter);
  const margin = Z * Math.sqrt((2 * start * (1 - start)) / labels);
  const limit = start * (1 - DEFAULTS.signals.performance.maxRelativeDrop) - margin;
  for (let t = from; t < MATRIX_T0 + scenario.days * DAY_MS; t += HOUR_MS) {
    if (trueAccuracy(scenario.world(t, volumePerDay), FIRST_CHAMPION) < limit) return t;
  }
  return Number.POSITIVE_INFINITY;
}

const iso = (t: number) => new Date(t).toISOString().slice(0, 16);
const alerted = (d: Decision) => d.action !== "none";

export function matrixRow(scenario: Scenario, result: RunResult): MatrixRow {
  const problems: string[] = [];
  const ds = result.decisions;
  // Retrains before the onset are wrong; detection delays count from when the change is detectable.
  const onset = scenario.onsetAt ?? scenario.changeAt;
  const changeAt =
    scenario.shouldRetrain && onset !== undefined
      ? detectableAt(scenario, result.volumePerDay, onset)
      : onset;
  // When the first change happens (alerts before it are false).
  const first = scenario.firstChangeAt ?? scenario.changeAt;
  // Alerts caused by the change: a transient change's until it has left the evaluation window, any after a
  // change that should alert.
  const expected = (d: Decision): boolean => {
    if (first === undefined || !scenario.shouldAlert || d.evaluatedAt <= first) return false;
    return scenario.transientUntil === undefined || d.evaluatedAt <= scenario.transientUntil;
  };
  const falseAlerts = ds.filter((d) => alerted(d) && !expected(d));
  const allowed = Math.max(1, Math.floor(scenario.days / 30));
  if (falseAlerts.length > allowed)
    problems.push(
      `${falseAlerts.length} false alerts (at most ${allowed}): ${falseAlerts
        .slice(0, 3)
        .map(
          (d) =>
            `${iso(d.evaluatedAt)} ${d.signals
              .filter((s) => s.breached)
              .map((s) => s.signal)
              .join("+")}`,
        )
        .join(", ")}`,
    );
  const retrainTimes = result.retrains;
  const early = retrainTimes.filter((t) => onset === undefined || t <= onset);
  if (early.length > 0) problems.push(`retrain before the change: ${early.map(iso).join(", ")}`);
  if (!scenario.shouldRetrain && retrainTimes.length > 0 && early.length === 0)
    problems.push(`retrained without need: ${retrainTimes.map(iso).join(", ")}`);

  const firstAlert = ds.find((d) => alerted(d) && first !== undefined && d.evaluatedAt > first);
  const firstAlertDelay =
    firstAlert !== undefined && first !== undefined ? firstAlert.evaluatedAt - first : undefined;
  if (scenario.shouldAlert && firstAlertDelay === undefined) problems.push("no alert after the change");
  const within = scenario.reportWithinHours;
  if (within !== undefined && (firstAlertDelay === undefined || firstAlertDelay > within * HOUR_MS))
    problems.push(`change not reported within ${within} hours`);

  const firstRetrain = retrainTimes.find((t) => onset !== undefined && t > onset);
  // Negative when a gradual change was acted on before it reached the limit.
  const firstRetrainDelay =
    firstRetrain !== undefined && changeAt !== undefined ? firstRetrain - changeAt : undefined;
  const bound = scenario.shouldRetrain
    ? detectionBound(result.volumePerDay, result.labelDelayHours)
    : undefined;
  if (scenario.shouldRetrain && Number.isFinite(changeAt ?? Number.NaN)) {
    if (firstRetrainDelay === undefined) problems.push("no retrain after the change");
    else if (firstRetrainDelay > bound!)
      problems.push(
        `retrain ${Math.round(firstRetrainDelay / HOUR_MS)} h after the change (bound ${bound! / HOUR_MS} h)`,
      );
  }

  // No suppression deadlock: the data-quality gate never holds for longer than its escalation span.
  let gatedSince: number | undefined;
  for (const d of ds) {
    const gated = d.suppressions.some((s) => s.reason === "dataQualityGate");
    if (!gated) gatedSince = undefined;
    else {
      gatedSince ??= d.evaluatedAt;
      if (d.evaluatedAt - gatedSince > (DEFAULTS.signals.dataQuality.maxGateHours + 1) * HOUR_MS) {
        problems.push(`data-quality gate held since ${iso(gatedSince)}`);
        break;
      }
    }
  }
  return {
    falseAlerts: falseAlerts.length,
    retrains: retrainTimes.length,
    ...(firstAlertDelay !== undefined ? { firstAlertDelay } : {}),
    ...(firstRetrainDelay !== undefined ? { firstRetrainDelay } : {}),
    ...(bound !== undefined ? { bound } : {}),
    problems,
  };
}
