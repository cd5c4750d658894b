/**
 * `replay`: backtests trigger policies on recorded event logs through the production use cases on a
 * simulated clock that follows the events' time. Nothing is trained unless `train: "local"`
 * (local/replay-counterfactual.ts): by default a retrain decision is recorded and its lease released.
 *
 * Two engines run the same use cases (local/replay-engines.ts): `memory` (default, fast: the ingest and
 * evaluate use cases on in-process ports; several policies evaluated over one ingest) and `emulators`
 * (fidelity: kinesalite, the ESM stand-in and the Lambda handlers into dynalite; optional `chaos`).
 *
 * Input is streamed (local/event-log.ts, local/log-spill.ts): files of any size, gzip, several files or
 * directories; memory holds one hour of the log plus what the evaluator can still read. Every line is
 * accounted for: aggregated, or quarantined with the production reason code and its file and line
 * (lines = aggregated + quarantined). The clock spans the log's real range (local/time-range.ts), so a
 * stray timestamp cannot stretch it.
 *
 * Output: one JSON line per evaluation (streamed as it is made), a final summary, and per compared policy
 * alerts, retrains, suppressions and the delay to the first action after each change point.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { buildModelCatalog } from "../contracts/catalog";
import { type DeploymentConfig, loadConfig } from "../contracts/config";
import type { QuarantineRecord } from "../lambdas/ports/stats-repository";
import { type ChangeMark, comparePolicies, type EvaluationMark, type PolicyRow } from "./backtest";
import { type AccuracyPoint, detectChangePoints } from "./change-points";
import { ScheduleTimer, SimulatedClock } from "./clock";
import type { EvaluationOutcome } from "./evaluation-outcome";
import { listInputs } from "./event-log";
import { LogSpill, type ReplayRecord } from "./log-spill";
import type { ChaosOptions, ChaosStats } from "./pipeline";
import {
  type CounterfactualOptions,
  type CounterfactualRetrain,
  CounterfactualTrainer,
  type ServedAccuracy,
} from "./replay-counterfactual";
import { MemoryEngine, type ReplayEngine } from "./replay-engines";
import { type PolicySweep, policyVariants } from "./replay-policies";

export type EngineKind = "memory" | "emulators";

/** Where the replay is, for a progress display. */
export interface ReplayProgress {
  /** `read`: first pass over the input (bytes); `replay`: records put on the stream (of `total` lines). */
  readonly phase: "read" | "replay";
  readonly done: number;
  readonly total: number;
  /** Simulated time, epoch ms (replay phase). */
  readonly at?: number;
}

export interface ReplayOptions {
  /** Event log files or directories (JSON lines, plain or gzip). */
  readonly eventsPath: string | readonly string[];
  /** Path of a deployment configuration (JSON) or an already validated one. */
  readonly config: string | DeploymentConfig;
  /** @default "memory" ("emulators" when `chaos` is set) */
  readonly engine?: EngineKind;
  /** Policy files to compare with the configuration's own policy (memory engine). */
  readonly policies?: readonly string[];
  /** A sweep over one policy field, compared in the same pass (memory engine). */
  readonly sweep?: PolicySweep;
  /** Change points to measure reaction delays against; found from the labels' accuracy when absent. */
  readonly changePoints?: ReadonlyArray<{ readonly at: number; readonly modelId?: string }>;
  /** Write the decision lines here (JSON lines, written as they are made). */
  readonly outPath?: string;
  /** Write every quarantined line here (JSON lines: file, line, reason, detail). */
  readonly quarantineOutPath?: string;
  /** Fault injection (emulators engine); `true` = default rates with seed 1. */
  readonly chaos?: boolean | ChaosOptions;
  /** Receives each decision line as it is produced. */
  readonly onDecision?: (line: string) => void;
  readonly onProgress?: (progress: ReplayProgress) => void;
  /**
   * Keep every decision in the result (for a report). Off, only their counts and the marks of the
   * per-policy table are kept, so that memory does not grow with the log. @default true
   */
  readonly keepDecisions?: boolean;
  /** Where the spill of the first pass goes. @default os.tmpdir() */
  readonly tmpDir?: string;
  /**
   * `local`: counterfactual retraining (local/replay-counterfactual.ts; memory engine): a retrain decision
   * trains the local trainer on the log's labelled events, and a model that passes the validation gate
   * serves the log's later predictions. Each compared policy then serves its own models, so each has its
   * own ingest of the log (one pass over the input, an ingest per policy).
   */
  readonly train?: "local";
  readonly counterfactual?: CounterfactualOptions;
}

/** A line that did not become statistics, with the production reason code. */
export interface LineProblem {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  readonly detail: string;
}

export interface ReplaySummary {
  readonly engine: EngineKind;
  readonly events: readonly string[];
  /** Non-empty lines read. */
  readonly lines: number;
  /** The first quarantined lines, with file and line number (all are counted in `ingest.quarantined`). */
  readonly problems: readonly LineProblem[];
  /** The simulated clock's range: the log's real range (strays excluded). */
  readonly from: string;
  readonly to: string;
  /** Lines whose event time lies outside the range (they arrive at its edge; the ingest judges them). */
  readonly strayLines: number;
  /** Lines without a usable timestamp (they arrive with the line before them). */
  readonly untimedLines: number;
  readonly evaluations: number;
  readonly actions: Readonly<Record<string, number>>;
  /** Evaluations that failed for a model (the other models still ran). */
  readonly evaluationErrors: number;
  readonly ingest: {
    /** Records put on the stream. */
    readonly received: number;
    readonly aggregated: number;
    /** All quarantined lines: by the ingest, and lines too large to be a stream record. */
    readonly quarantined: number;
    readonly quarantinedByReason: Readonly<Record<string, number>>;
    /** Lines that could not be put on the stream at all (larger than a Kinesis record). */
    readonly neverSent: number;
  };
  /** lines = aggregated + quarantined. */
  readonly conserved: boolean;
  /** sha256 of the stored statistics (absent once the memory engine dropped buckets out of every window). */
  readonly digest?: string;
  readonly statsItems?: number;
  readonly policies: readonly PolicyRow[];
  readonly changePoints: readonly ChangeMark[];
  readonly chaos?: ChaosStats;
  /** With `train: "local"`: each counterfactual retrain, and the labelled accuracy of each served version. */
  readonly counterfactual?: {
    readonly retrains: ReadonlyArray<CounterfactualRetrain & { readonly policy: string }>;
    readonly served: ReadonlyArray<ServedAccuracy & { readonly policy: string }>;
    /** Models the local trainer cannot retrain (not binary): their retrain decisions are only recorded. */
    readonly unsupported: readonly string[];
  };
  readonly wallSeconds: number;
  /** CPU time of the process (user + system) during the replay, seconds. */
  readonly cpuSeconds: number;
  /** Process peak resident memory, MiB. */
  readonly peakRssMiB: number;
}

/** One evaluation of one model under one policy. */
export interface PolicyDecision extends EvaluationOutcome {
  readonly policy: string;
}

export interface ReplayResult {
  readonly summary: ReplaySummary;
  /** Every decision, unless `keepDecisions` was off (then empty). */
  readonly decisions: readonly PolicyDecision[];
  /** Per model, the labelled accuracy of every bucket (classification models), for the report. */
  readonly accuracy: ReadonlyMap<string, readonly AccuracyPoint[]>;
}

const MAX_PROBLEMS_LISTED = 20;
/** Records put on the stream per send (the same on both engines, so that they deliver the same batches). */
export const SEND_CHUNK = 5000;

export async function runReplay(options: ReplayOptions): Promise<ReplayResult> {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const config = typeof options.config === "string" ? loadConfig(options.config) : options.config;
  const chaos: ChaosOptions | undefined =
    options.chaos === true ? { seed: 1 } : options.chaos === false ? undefined : options.chaos;
  const engineKind: EngineKind = options.engine ?? (chaos ? "emulators" : "memory");
  const variants = policyVariants(config, options.policies ?? [], options.sweep);
  if (engineKind === "emulators" && variants.length > 1)
    throw new ReplayOptionsError(
      "--emulators replays one policy; compare policies (--policy, --sweep) on the default in-memory path",
    );
  if (engineKind === "memory" && chaos)
    throw new ReplayOptionsError("--chaos injects faults into the emulators: use it with --emulators");
  if (options.train === "local" && engineKind !== "memory")
    throw new ReplayOptionsError("--train local runs on the default in-memory path, not with --emulators");

  const inputs = await listInputs(
    typeof options.eventsPath === "string" ? [options.eventsPath] : options.eventsPath,
  );
  const totalBytes = inputs.reduce((s, i) => s + i.size, 0);
  let readBytes = 0;
  const spill = await LogSpill.build(inputs, {
    ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
    ...(options.onProgress
      ? {
          onBytes: (n: number) => {
            readBytes += n;
            options.onProgress!({ phase: "read", done: readBytes, total: totalBytes });
          },
        }
      : {}),
  });

  const out = options.outPath ? createWriteStream(options.outPath) : undefined;
  const quarantineOut = options.quarantineOutPath ? createWriteStream(options.quarantineOutPath) : undefined;
  const problems: LineProblem[] = [];
  const listProblem = (p: LineProblem) => {
    if (problems.length < MAX_PROBLEMS_LISTED) problems.push(p);
    quarantineOut?.write(`${JSON.stringify(p)}\n`);
  };
  for (const v of spill.verdicts)
    listProblem({ file: inputs[v.file]!.name, line: v.line, reason: v.reason, detail: v.detail });

  // Quarantined records of the chunk being sent, matched to their lines once the chunk is delivered.
  let chunkQuarantined: QuarantineRecord[] = [];
  const onQuarantined = (r: QuarantineRecord) => chunkQuarantined.push(r);
  // The emulators deliver at least once (chaos redelivers): list each record once.
  const listedSeqs = engineKind === "emulators" ? new Set<string>() : undefined;

  const { from, to, strays } = spill.range;
  const clock = new SimulatedClock(from);
  const compared = variants.length > 1;
  const catalog = options.train === "local" ? buildModelCatalog(config).models : [];
  // One lane per ingest: all policies on one engine, or with --train local one engine and one
  // counterfactual trainer per policy (each serves its own models). The first lane's ingest is the one
  // whose quarantine is listed, counted and digested.
  const lanes: Lane[] =
    options.train === "local"
      ? variants.map((v, i) => ({
          engine: new MemoryEngine([v], i === 0 ? onQuarantined : undefined),
          counterfactual: new CounterfactualTrainer(catalog, options.counterfactual),
          policy: v.name,
        }))
      : [
          {
            engine:
              engineKind === "memory"
                ? new MemoryEngine(variants, onQuarantined)
                : await (await import("./replay-emulator-engine")).EmulatorEngine.start(variants[0]!, clock, {
                    ...(chaos ? { chaos } : {}),
                    onQuarantined,
                  }),
          },
        ];
  const engine = lanes[0]!.engine;
  const decisions: PolicyDecision[] = [];
  const keepDecisions = options.keepDecisions ?? true;
  const marks = new Map<string, EvaluationMark[]>(variants.map((v) => [v.name, []]));
  const actions: Record<string, number> = { none: 0, alert: 0, retrain: 0 };
  let evaluations = 0;
  let evaluationErrors = 0;
  try {
    const sendChunk = async (chunk: ReplayRecord[]) => {
      if (chunk.length === 0) return;
      chunkQuarantined = [];
      // Every lane's records in input order (a counterfactual trainer joins labels as they pass).
      const sent = lanes.map((lane) =>
        lane.counterfactual ? chunk.map((r) => lane.counterfactual!.transform(r)) : chunk,
      );
      for (let i = 1; i < lanes.length; i++) await lanes[i]!.engine.send(sent[i]!);
      const seqs = await engine.send(sent[0]!);
      if (chunkQuarantined.length > 0) {
        const bySeq = new Map<string, ReplayRecord>();
        for (let k = 0; k < seqs.length; k++) bySeq.set(seqs[k]!, chunk[k]!);
        for (const q of chunkQuarantined) {
          const r = bySeq.get(q.sequenceNumber);
          if (!r) continue;
          if (listedSeqs) {
            if (listedSeqs.has(q.sequenceNumber)) continue;
            listedSeqs.add(q.sequenceNumber);
          }
          listProblem({ file: inputs[r.file]!.name, line: r.line, reason: q.reason, detail: q.detail });
        }
      }
      options.onProgress?.({ phase: "replay", done: engine.put, total: spill.lines, at: clock.now() });
    };
    const evaluateAt = async (at: number) => {
      if (at > clock.now()) clock.advanceTo(at);
      for (const lane of lanes) await evaluateLane(lane, at);
    };
    const evaluateLane = async ({ engine, counterfactual }: Lane, at: number) => {
      for (const o of await engine.evaluate(at)) {
        if (o.error || !o.outcome) {
          evaluationErrors++;
          continue;
        }
        const decision: PolicyDecision = { ...o.outcome, policy: o.policy };
        if (keepDecisions) decisions.push(decision);
        evaluations++;
        actions[decision.action] = (actions[decision.action] ?? 0) + 1;
        marks.get(decision.policy)!.push({
          t: decision.evaluatedAt,
          modelId: decision.modelId,
          action: decision.action,
          suppressions: ((decision.line.suppressions ?? []) as Array<{ reason: string }>).map(
            (x) => x.reason,
          ),
        });
        const line = JSON.stringify(compared ? { policy: o.policy, ...o.outcome.line } : o.outcome.line);
        out?.write(`${line}\n`);
        options.onDecision?.(line);
        if (counterfactual && decision.action === "retrain" && engine instanceof MemoryEngine)
          await counterfactual.retrain(
            decision.modelId,
            decision.evaluatedAt,
            engine.stateOf(decision.policy),
          );
      }
      await engine.afterEvaluation(at);
    };

    const timer = new ScheduleTimer(config.schedule.expression, from);
    // The first evaluation after the last event, so that the last events are evaluated too.
    const end = new ScheduleTimer(config.schedule.expression, to).peek();
    let chunk: ReplayRecord[] = [];
    for await (const group of spill.recordGroups())
      for (const r of group) {
        while (r.arrivalMs > timer.peek()) {
          await sendChunk(chunk);
          chunk = [];
          const next = timer.peek();
          for (const fire of timer.due(next)) await evaluateAt(fire);
        }
        chunk.push(r);
        if (chunk.length >= SEND_CHUNK) {
          await sendChunk(chunk);
          chunk = [];
        }
      }
    await sendChunk(chunk);
    while (timer.peek() <= end) for (const fire of timer.due(timer.peek())) await evaluateAt(fire);

    const totals = await engine.totals();
    // Every lane's ingest took every line (their counts differ from the first's only by design: none).
    let conserved = true;
    for (const lane of lanes) {
      const t = await lane.engine.totals();
      conserved &&= spill.lines === t.aggregated + t.quarantined + spill.verdicts.length;
    }
    const digest = await engine.statsDigest();
    const byReason: Record<string, number> = { ...totals.quarantinedByReason };
    for (const v of spill.verdicts) byReason[v.reason] = (byReason[v.reason] ?? 0) + 1;
    const quarantined = totals.quarantined + spill.verdicts.length;

    const accuracy = await engine.accuracy(from, to);
    const changePoints = changeMarks(config, options.changePoints, accuracy);
    return {
      decisions,
      accuracy,
      summary: {
        engine: engineKind,
        events: inputs.map((i) => i.name),
        lines: spill.lines,
        problems,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        strayLines: strays,
        untimedLines: spill.untimedLines,
        evaluations,
        actions,
        evaluationErrors,
        ingest: {
          received: engine.put,
          aggregated: totals.aggregated,
          quarantined,
          quarantinedByReason: byReason,
          neverSent: spill.verdicts.length,
        },
        conserved,
        ...(digest ? { digest: `sha256:${digest.digest}`, statsItems: digest.items } : {}),
        policies: comparePolicies(marks, changePoints),
        changePoints,
        ...(engine.chaos ? { chaos: engine.chaos } : {}),
        ...(options.train === "local" ? { counterfactual: counterfactualSummary(lanes, catalog) } : {}),
        wallSeconds: Math.round((performance.now() - wallStart) / 100) / 10,
        cpuSeconds: cpuSecondsSince(cpuStart),
        peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      },
    };
  } finally {
    for (const lane of lanes) await lane.engine.stop();
    await spill.close();
    await Promise.all([closeStream(out), closeStream(quarantineOut)]);
  }
}

/** One ingest of the log and the evaluators on it (see `runReplay`). */
interface Lane {
  readonly engine: ReplayEngine;
  /** With --train local: the trainer whose models this lane's ingest is served, and its policy. */
  readonly counterfactual?: CounterfactualTrainer;
  readonly policy?: string;
}

/** Every lane's retrains and served versions, each named by its policy. */
function counterfactualSummary(
  lanes: readonly Lane[],
  catalog: Parameters<typeof CounterfactualTrainer.unsupported>[0],
): NonNullable<ReplaySummary["counterfactual"]> {
  const byLane = lanes.map((l) => ({ policy: l.policy!, ...l.counterfactual!.summary() }));
  return {
    retrains: byLane.flatMap((l) => l.retrains.map((r) => ({ ...r, policy: l.policy }))),
    served: byLane.flatMap((l) => l.served.map((v) => ({ ...v, policy: l.policy }))),
    unsupported: CounterfactualTrainer.unsupported(catalog),
  };
}

/** A combination of options replay cannot run (exit code 2, like a bad file). */
export class ReplayOptionsError extends Error {
  override readonly name = "ReplayOptionsError";
}

/** Given change points (for one model, or every model), else those found in each model's labelled accuracy. */
function changeMarks(
  config: DeploymentConfig,
  given: ReplayOptions["changePoints"],
  accuracy: ReadonlyMap<string, readonly AccuracyPoint[]>,
): ChangeMark[] {
  if (given && given.length > 0)
    return given.flatMap((c) =>
      (c.modelId ? [c.modelId] : config.models.map((m) => m.id)).map((modelId) => ({
        modelId,
        at: c.at,
        source: "given" as const,
      })),
    );
  const out: ChangeMark[] = [];
  for (const [modelId, points] of accuracy)
    for (const c of detectChangePoints(points))
      out.push({ modelId, at: c.at, source: "labels", before: round3(c.before), after: round3(c.after) });
  return out;
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return Math.round((d.user + d.system) / 1e4) / 100;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function closeStream(s: WriteStream | undefined): Promise<void> {
  if (!s) return Promise.resolve();
  return new Promise((resolve, reject) => s.end((e?: Error | null) => (e ? reject(e) : resolve())));
}
