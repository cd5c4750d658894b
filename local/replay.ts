/**
 * `replay`: backtests a trigger policy on a recorded event log through the same code as production:
 * the records go through kinesalite and the ESM stand-in to the REAL ingest handler (dynalite), and
 * the REAL evaluate handler fires on the configured schedule of a simulated clock that follows the
 * events' time. Nothing is trained: a retrain decision is recorded and its lease released.
 *
 * Output: one JSON line per evaluation and a final summary with ingest counts and a digest of the
 * stored statistics. `chaos` redelivers, bisects and throttles; the digest must not change.
 */
import { readFile, writeFile } from "node:fs/promises";
import { type DeploymentConfig, loadConfig } from "../contracts/config";
import { ScheduleTimer, SimulatedClock } from "./clock";
import { ControlPlane, type EvaluationOutcome, releaseOnlyRunner } from "./control-plane";
import { EventLogError, type LineProblem, parseEventLog } from "./event-log";
import { type ChaosOptions, type ChaosStats, LocalPipeline } from "./pipeline";

export interface ReplayOptions {
  readonly eventsPath: string;
  /** Path of a deployment configuration (JSON) or an already validated one. */
  readonly config: string | DeploymentConfig;
  /** Write the decision lines here (JSON lines). */
  readonly outPath?: string;
  /** Fault injection; `true` = default rates with seed 1. */
  readonly chaos?: boolean | ChaosOptions;
  /** Receives each decision line as it is produced. */
  readonly onDecision?: (line: string) => void;
}

export interface ReplaySummary {
  readonly events: string;
  readonly lines: number;
  readonly invalidLines: number;
  /** The first problems, with line numbers (all are counted in `invalidLines`). */
  readonly problems: readonly LineProblem[];
  readonly from: string;
  readonly to: string;
  readonly evaluations: number;
  readonly actions: Readonly<Record<string, number>>;
  readonly ingest: {
    readonly received: number;
    readonly aggregated: number;
    readonly quarantined: number;
    readonly quarantinedByReason: Readonly<Record<string, number>>;
  };
  readonly digest: string;
  readonly statsItems: number;
  readonly chaos?: ChaosStats;
  readonly wallSeconds: number;
}

export interface ReplayResult {
  readonly summary: ReplaySummary;
  readonly decisions: readonly EvaluationOutcome[];
}

const MAX_PROBLEMS_LISTED = 20;

export async function runReplay(options: ReplayOptions): Promise<ReplayResult> {
  const wallStart = performance.now();
  let text: string;
  try {
    text = await readFile(options.eventsPath, "utf8");
  } catch (e) {
    throw new EventLogError(`cannot read events file ${options.eventsPath}: ${(e as Error).message}`);
  }
  const log = parseEventLog(text, options.eventsPath);
  const config = typeof options.config === "string" ? loadConfig(options.config) : options.config;
  const chaos: ChaosOptions | undefined =
    options.chaos === true ? { seed: 1 } : options.chaos === false ? undefined : options.chaos;

  const clock = new SimulatedClock(log.firstMs);
  const pipeline = await LocalPipeline.start({ config, ...(chaos ? { chaos } : {}) });
  try {
    let control: ControlPlane | undefined;
    control = new ControlPlane(
      { config, pipeline, clock },
      releaseOnlyRunner(() => control!),
    );
    const timer = new ScheduleTimer(config.schedule.expression, log.firstMs);
    // The first evaluation after the last event, so that the last events are evaluated too.
    const end = new ScheduleTimer(config.schedule.expression, log.lastMs).peek();
    const decisions: EvaluationOutcome[] = [];
    let i = 0;
    while (clock.now() < end) {
      const next = timer.peek();
      const batch = [];
      while (i < log.records.length && log.records[i]!.t <= next) {
        const r = log.records[i++]!;
        batch.push({ data: r.data, partitionKey: r.partitionKey, arrivalMs: r.t });
      }
      await pipeline.send(batch);
      await pipeline.drain();
      clock.advanceTo(next);
      for (const fire of timer.due(next)) {
        for (const outcome of await control.evaluate(fire)) {
          decisions.push(outcome);
          options.onDecision?.(JSON.stringify(outcome.line));
        }
      }
    }
    if (options.outPath) {
      await writeFile(options.outPath, decisions.map((d) => `${JSON.stringify(d.line)}\n`).join(""));
    }
    const totals = await pipeline.totals();
    const { digest, items } = await pipeline.statsDigest();
    const actions: Record<string, number> = { none: 0, alert: 0, retrain: 0 };
    for (const d of decisions) actions[d.action] = (actions[d.action] ?? 0) + 1;
    return {
      decisions,
      summary: {
        events: options.eventsPath,
        lines: log.lines,
        invalidLines: log.problems.length,
        problems: log.problems.slice(0, MAX_PROBLEMS_LISTED),
        from: new Date(log.firstMs).toISOString(),
        to: new Date(log.lastMs).toISOString(),
        evaluations: decisions.length,
        actions,
        ingest: {
          received: pipeline.put,
          aggregated: totals.aggregated,
          quarantined: totals.quarantined,
          quarantinedByReason: totals.quarantinedByReason,
        },
        digest: `sha256:${digest}`,
        statsItems: items,
        ...(chaos ? { chaos: pipeline.chaosStats } : {}),
        wallSeconds: Math.round((performance.now() - wallStart) / 100) / 10,
      },
    };
  } finally {
    await pipeline.stop();
  }
}
