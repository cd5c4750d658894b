/**
 * The fast path of `replay`: the REAL ingest use case (lambdas/app/ingest/ingest-batch.ts) and the REAL
 * evaluate use case (lambdas/app/evaluate/evaluate-slot.ts and what it calls) on in-process ports
 * (local/memory-stats.ts, local/memory-model-state.ts) instead of DynamoDB, behind an in-process stream
 * that shards and batches records like Kinesis and the event source mapping (local/memory-stream.ts).
 * Nothing of the decision logic is copied: the use cases are called as the Lambda handlers call them,
 * without the middy/Powertools wrapping (logs and metrics are off in local mode anyway).
 *
 * One pipeline ingests the log once; several evaluators (one per compared policy, each with its own model
 * state) read the same statistics.
 */
import { createHash } from "node:crypto";
import { buildModelCatalog } from "../contracts/catalog";
import type { DeploymentConfig } from "../contracts/config";
import { DAY_MS, HOUR_MS } from "../contracts/time";
import { keys } from "../lambdas/adapters/dynamodb-keys";
import { evaluateSlot } from "../lambdas/app/evaluate/evaluate-slot";
import type { EvaluatedModel, EvaluatorDeps } from "../lambdas/app/evaluate/evaluator";
import { createIngestBatch } from "../lambdas/app/ingest/ingest-batch";
import { historyHours, type OutcomeBucket } from "../lambdas/domain/decision/decision";
import { invariantView } from "../lambdas/domain/stats/profile-equivalence";
import type { QuarantineRecord } from "../lambdas/ports/stats-repository";
import { canonicalJson } from "./canonical-json";
import { type EvaluationOutcome, outcomeOf, QueueingWorkflowStarter } from "./evaluation-outcome";
import { MemoryModelStateRepository } from "./memory-model-state";
import { MemoryPredictionIndex, MemoryQuarantineStore, MemoryStatsRepository } from "./memory-stats";
import { MemoryStream, type StreamInput } from "./memory-stream";

export interface MemoryPipelineOptions {
  readonly config: DeploymentConfig;
  /** Receives each quarantined record once. */
  readonly onQuarantined?: (record: QuarantineRecord) => void;
}

/** Counts from what is stored (exactly once), as `LocalPipeline.totals` reads them from the table. */
export interface StoredTotals {
  readonly bucketReceived: number;
  readonly aggregated: number;
  readonly quarantined: number;
  readonly quarantinedByReason: Readonly<Record<string, number>>;
}

/** Ingest side: stream stand-in + ingest use case + in-memory ingest stores. */
export class MemoryPipeline {
  readonly stats = new MemoryStatsRepository();
  readonly index = new MemoryPredictionIndex();
  readonly quarantine: MemoryQuarantineStore;
  readonly stream: MemoryStream;
  /** Buckets dropped from memory so far (0: the digest covers every bucket). */
  prunedBuckets = 0;

  constructor(readonly options: MemoryPipelineOptions) {
    const { config } = options;
    this.quarantine = new MemoryQuarantineStore(
      options.onQuarantined ? { onRecord: options.onQuarantined } : {},
    );
    const ingest = createIngestBatch({
      models: buildModelCatalog(config).models,
      stores: { stats: this.stats, predictions: this.index, quarantine: this.quarantine },
      // The deployed Lambda's limits, against simulated arrival times (as local/pipeline.ts).
      limits: {
        maxRecordBytes: config.ingest.maxRecordBytes,
        maxFutureSkewMs: config.ingest.maxFutureSkewSeconds * 1000,
        retentionMs: config.ingest.maxEventAgeDays * DAY_MS,
      },
      clock: () => 0,
    });
    this.stream = new MemoryStream({
      shardCount: config.ingest.shardCount,
      batchSize: config.ingest.batchSize,
      ingest: async (event) => (await ingest(event)).response,
    });
  }

  /** Puts the records on the stream and delivers them; returns their sequence numbers. */
  async send(records: readonly StreamInput[]): Promise<string[]> {
    const seqs = this.stream.send(records);
    await this.stream.drain();
    return seqs;
  }

  /** Records put on the stream. */
  get put(): number {
    return this.stream.put;
  }

  totals(): StoredTotals {
    const b = this.stats.totals();
    const q = this.quarantine.totals();
    const bucketQuarantined = Object.values(b.quarantined).reduce((s, n) => s + n, 0);
    return {
      bucketReceived: b.received,
      aggregated: b.received - bucketQuarantined,
      quarantined: q.quarantined,
      quarantinedByReason: q.byReason,
    };
  }

  /**
   * The digest `LocalPipeline.statsDigest` computes over the table, over the same items (undefined once
   * buckets were dropped from memory: it would not cover them).
   */
  statsDigest(): { digest: string; items: number } | undefined {
    if (this.prunedBuckets > 0) return undefined;
    const items = [...this.stats.items()].map((i) => {
      const k = keys.stats(i.modelId, i.bucketStart, i.shardId);
      // Reduced to what every batch split leaves equal (invariantView), as LocalPipeline.statsDigest does.
      // No codec round trip: it is the identity on every field of that view (exact float64s, counts).
      const profile = invariantView(i.profile);
      return { pk: k.pk, sk: k.sk, received: i.received, quarantined: i.quarantined, profile };
    });
    items.sort((a, b) => (a.pk === b.pk ? (a.sk < b.sk ? -1 : 1) : a.pk < b.pk ? -1 : 1));
    return { digest: createHash("sha256").update(canonicalJson(items)).digest("hex"), items: items.length };
  }

  /**
   * Frees what no later read can need: prediction-index entries past their TTL, quarantine identities
   * older than the stream's retention, and the statistics of buckets older than `keepHours` before `now`
   * except those `keep` names (their labelled outcomes go after `keepOutcomeHours`). `beforePrune` sees
   * each bucket before it goes (e.g. to keep its accuracy for the report).
   */
  prune(
    now: number,
    keepHours: (modelId: string) => number,
    keep: (modelId: string, bucketStart: number) => boolean,
    streamHours: number,
    beforePrune?: (modelId: string, outcome: OutcomeBucket) => void,
    keepOutcomeHours: (modelId: string) => number = keepHours,
  ): void {
    this.index.prune(now);
    this.quarantine.prune(now - streamHours * HOUR_MS);
    for (const m of this.options.config.models)
      this.prunedBuckets += this.stats.pruneBuckets(
        m.id,
        now - keepHours(m.id) * HOUR_MS,
        (b) => keep(m.id, b),
        beforePrune ? (o) => beforePrune(m.id, o) : undefined,
        now - Math.max(keepHours(m.id), keepOutcomeHours(m.id)) * HOUR_MS,
      );
  }
}

/** What one evaluation of one model under one policy produced. */
export interface PolicyOutcome {
  readonly policy: string;
  readonly outcome?: EvaluationOutcome;
  /** The model's evaluation failed (the others still ran). */
  readonly error?: { readonly modelId: string; readonly message: string };
}

/** A notifier that counts (replay does not keep every alert's text). */
class CountingNotifier {
  sent = 0;
  async publish(): Promise<{ messageId?: string }> {
    this.sent++;
    return { messageId: `replay-${this.sent}` };
  }
}

/** Evaluate side for one policy: the evaluate use case on its own model state, over shared statistics. */
export class MemoryEvaluator {
  readonly state = new MemoryModelStateRepository();
  readonly notifier = new CountingNotifier();
  private readonly starter = new QueueingWorkflowStarter();
  private readonly deps: EvaluatorDeps;
  private now = 0;
  /** The drift metric named in outcomes (as the emulator path's control plane names it). */
  private readonly driftMetric: string;

  constructor(
    readonly policy: string,
    readonly models: readonly EvaluatedModel[],
    stats: MemoryStatsRepository,
  ) {
    this.deps = {
      models,
      stats,
      state: this.state,
      notifier: this.notifier,
      workflow: this.starter,
      clock: () => this.now,
    };
    this.driftMetric = models[0]?.policy.signals.drift.numericMethod ?? "drift";
  }

  /** Runs the evaluator's schedule slot at `at`; a retrain's run is recorded and its lease released. */
  async evaluate(at: number): Promise<PolicyOutcome[]> {
    this.now = at;
    const report = await evaluateSlot(this.deps, { time: new Date(at).toISOString() });
    const out: PolicyOutcome[] = [];
    for (const m of report.models) {
      if (m.error !== undefined) {
        out.push({ policy: this.policy, error: { modelId: m.modelId, message: m.error } });
        continue;
      }
      const record = await this.state.getDecision(m.modelId, at);
      if (record) out.push({ policy: this.policy, outcome: outcomeOf(record.decision, this.driftMetric) });
    }
    while (this.starter.queue.length > 0) {
      const start = this.starter.queue.shift()!;
      await this.state.releaseLease(
        String(start.input.modelId),
        String(start.input.leaseOwner ?? start.name),
      );
    }
    return out;
  }

  /** Hours of decision history the evaluator reads back for `modelId`. */
  historyHours(modelId: string): number {
    const model = this.models.find((m) => m.id === modelId);
    return model ? historyHours(model.policy) : 0;
  }
}
