/**
 * The two ways `replay` runs the production use cases, behind one interface:
 * - `memory` (default, fast): the ingest and evaluate use cases on in-process ports
 *   (local/memory-pipeline.ts); one ingest, one evaluator per compared policy; memory follows the
 *   evaluation window (statistics, index entries and decisions the evaluator can no longer read are freed).
 * - `emulators` (fidelity, local/replay-emulator-engine.ts): kinesalite, the ESM stand-in and the ingest
 *   Lambda handler into dynalite, and the evaluate Lambda handler (local/pipeline.ts,
 *   local/control-plane.ts): the deployed handlers and DynamoDB adapters, with optional fault injection
 *   (`chaos`). One policy at a time.
 *
 * This module imports no Lambda handler: the handlers load Powertools' tracer, whose X-Ray context
 * tracking (cls-hooked) hooks every promise and slows every `await` of the process many times over. The
 * emulator engine (which needs the handlers) is loaded only when asked for.
 */
import { buildModelCatalog } from "../contracts/catalog";
import { HOUR_MS } from "../contracts/time";
import { historyHours } from "../lambdas/domain/decision/decision";
import type { QuarantineRecord } from "../lambdas/ports/stats-repository";
import { type AccuracyPoint, correctOf } from "./change-points";
import type { MemoryModelStateRepository } from "./memory-model-state";
import { MemoryEvaluator, MemoryPipeline, type PolicyOutcome, type StoredTotals } from "./memory-pipeline";
import type { StreamInput } from "./memory-stream";
import type { ChaosStats } from "./pipeline";
import type { PolicyVariant } from "./replay-policies";

/** What the replay loop needs from an engine. */
export interface ReplayEngine {
  readonly kind: "memory" | "emulators";
  /** Puts records on the stream and lets the ingest take them all; returns their sequence numbers. */
  send(records: readonly StreamInput[]): Promise<string[]>;
  /** Fires the evaluator of every policy at `at`. */
  evaluate(at: number): Promise<PolicyOutcome[]>;
  /** After the evaluations at `at`: frees what can no longer be read. */
  afterEvaluation(at: number): Promise<void>;
  /** Records put on the stream. */
  readonly put: number;
  totals(): Promise<StoredTotals>;
  statsDigest(): Promise<{ digest: string; items: number } | undefined>;
  /** Per model, the labelled outcomes of every bucket: correct / total (classification only). */
  accuracy(from: number, to: number): Promise<Map<string, AccuracyPoint[]>>;
  readonly chaos?: ChaosStats;
  stop(): Promise<void>;
}

/** Extra hours of statistics kept beyond what the evaluator is known to read (a safety margin). */
const KEEP_MARGIN_HOURS = 48;

/** The fast path (see the file comment). */
export class MemoryEngine implements ReplayEngine {
  readonly kind = "memory" as const;
  private readonly pipeline: MemoryPipeline;
  private readonly evaluators: MemoryEvaluator[];
  /** Accuracy of buckets dropped from memory, kept for change points and the report. */
  private readonly dropped = new Map<string, AccuracyPoint[]>();

  constructor(
    private readonly variants: readonly PolicyVariant[],
    onQuarantined?: (record: QuarantineRecord) => void,
  ) {
    const base = variants[0]!.config;
    this.pipeline = new MemoryPipeline({ config: base, ...(onQuarantined ? { onQuarantined } : {}) });
    this.evaluators = variants.map(
      (v) => new MemoryEvaluator(v.name, buildModelCatalog(v.config).models, this.pipeline.stats),
    );
  }

  get put(): number {
    return this.pipeline.put;
  }

  /** The model state a compared policy's evaluator reads and writes. */
  stateOf(policy: string): MemoryModelStateRepository {
    const evaluator = this.evaluators.find((e) => e.policy === policy);
    if (!evaluator) throw new Error(`no evaluator for policy ${policy}`);
    return evaluator.state;
  }

  send(records: readonly StreamInput[]): Promise<string[]> {
    return this.pipeline.send(records);
  }

  async evaluate(at: number): Promise<PolicyOutcome[]> {
    const out: PolicyOutcome[] = [];
    for (const e of this.evaluators) out.push(...(await e.evaluate(at)));
    return out;
  }

  /**
   * Hours of buckets the evaluator may read for a model under any compared policy: the label horizon plus
   * the widest window (outcomes), the reference window (baseline bootstrap), the decision history span.
   */
  private keepHours(modelId: string): number {
    let hours = 0;
    for (const v of this.variants) {
      const m = v.config.models.find((x) => x.id === modelId);
      if (!m) continue;
      const p = m.policy;
      hours = Math.max(
        hours,
        m.labelHorizonHours + p.maxWindowHours,
        p.windowHours,
        p.referenceWindowHours,
        historyHours(p),
      );
    }
    return hours + KEEP_MARGIN_HOURS;
  }

  /**
   * Hours of labelled outcomes the evaluator may read beyond `keepHours` (the pipeline keeps the longer of
   * the two): the training window, over which it counts the labels before a retrain (unless the model
   * trains from `inputDataUri`).
   */
  private keepOutcomeHours(modelId: string): number {
    let hours = 0;
    for (const v of this.variants) {
      const m = v.config.models.find((x) => x.id === modelId);
      if (m && m.training.inputDataUri === undefined)
        hours = Math.max(hours, m.training.trainingWindowDays * 24);
    }
    return hours + KEEP_MARGIN_HOURS;
  }

  /** Buckets a policy's model state still points at: a reference-window baseline and its bootstrap window. */
  private pinned(modelId: string, bucketStart: number): boolean {
    return this.evaluators.some((e, i) => {
      const w = e.state.baselineWindow(modelId);
      if (w && bucketStart >= w.from && bucketStart < w.to) return true;
      const model = this.variants[i]!.config.models.find((m) => m.id === modelId);
      const deployAt = e.state.lastDeployAt(modelId);
      return (
        model !== undefined &&
        deployAt !== undefined &&
        bucketStart >= deployAt &&
        bucketStart < deployAt + model.policy.referenceWindowHours * HOUR_MS
      );
    });
  }

  async afterEvaluation(at: number): Promise<void> {
    const streamHours = this.variants[0]!.config.retention.streamHours;
    const onDrop = (modelId: string, point: AccuracyPoint) => {
      let list = this.dropped.get(modelId);
      if (!list) {
        list = [];
        this.dropped.set(modelId, list);
      }
      list.push(point);
    };
    this.pipeline.prune(
      at,
      (modelId) => this.keepHours(modelId),
      (modelId, bucketStart) => this.pinned(modelId, bucketStart),
      streamHours,
      (modelId, outcome) => {
        const c = correctOf(outcome.performance);
        if (c) onDrop(modelId, { t: outcome.bucketStart, ...c });
      },
      (modelId) => this.keepOutcomeHours(modelId),
    );
    for (const e of this.evaluators)
      for (const m of e.models) e.state.pruneDecisions(m.id, at - e.historyHours(m.id) * HOUR_MS);
  }

  async totals(): Promise<StoredTotals> {
    return this.pipeline.totals();
  }

  async statsDigest(): Promise<{ digest: string; items: number } | undefined> {
    return this.pipeline.statsDigest();
  }

  async accuracy(): Promise<Map<string, AccuracyPoint[]>> {
    const out = new Map<string, AccuracyPoint[]>();
    for (const m of this.variants[0]!.config.models) {
      const points = [...(this.dropped.get(m.id) ?? [])];
      for (const o of this.pipeline.stats.heldOutcomes(m.id)) {
        const c = correctOf(o.performance);
        if (c) points.push({ t: o.bucketStart, ...c });
      }
      out.set(
        m.id,
        points.sort((a, b) => a.t - b.t),
      );
    }
    return out;
  }

  async stop(): Promise<void> {}
}
