/**
 * The fidelity engine of `replay` (see local/replay-engines.ts): the deployed Lambda handlers and DynamoDB
 * adapters on kinesalite and dynalite, with optional fault injection. Loaded on demand by local/replay.ts.
 */
import type { DeploymentConfig } from "../contracts/config";
import { HOUR_MS } from "../contracts/time";
import { DynamoDbStatsRepository } from "../lambdas/adapters/dynamodb-stats-repository";
import type { QuarantineRecord } from "../lambdas/ports/stats-repository";
import { type AccuracyPoint, correctOf } from "./change-points";
import type { SimulatedClock } from "./clock";
import { ControlPlane, releaseOnlyRunner } from "./control-plane";
import type { PolicyOutcome, StoredTotals } from "./memory-pipeline";
import type { StreamInput } from "./memory-stream";
import { type ChaosOptions, type ChaosStats, LocalPipeline } from "./pipeline";
import type { ReplayEngine } from "./replay-engines";
import type { PolicyVariant } from "./replay-policies";

/** The fidelity path (see the file comment). */
export class EmulatorEngine implements ReplayEngine {
  readonly kind = "emulators" as const;

  private constructor(
    private readonly config: DeploymentConfig,
    private readonly policy: string,
    private readonly pipeline: LocalPipeline,
    private readonly control: ControlPlane,
    private readonly clock: SimulatedClock,
    private readonly withChaos: boolean,
  ) {}

  static async start(
    variant: PolicyVariant,
    clock: SimulatedClock,
    options: { chaos?: ChaosOptions; onQuarantined?: (record: QuarantineRecord) => void },
  ): Promise<EmulatorEngine> {
    const config = variant.config;
    const pipeline = await LocalPipeline.start({
      config,
      ...(options.chaos ? { chaos: options.chaos } : {}),
      ...(options.onQuarantined ? { onQuarantined: options.onQuarantined } : {}),
    });
    let control: ControlPlane | undefined;
    control = new ControlPlane(
      { config, pipeline, clock },
      releaseOnlyRunner(() => control!),
    );
    return new EmulatorEngine(config, variant.name, pipeline, control, clock, options.chaos !== undefined);
  }

  get put(): number {
    return this.pipeline.put;
  }

  get chaos(): ChaosStats | undefined {
    return this.withChaos ? this.pipeline.chaosStats : undefined;
  }

  async send(records: readonly StreamInput[]): Promise<string[]> {
    const seqs = await this.pipeline.send(records);
    await this.pipeline.drain();
    return seqs;
  }

  async evaluate(at: number): Promise<PolicyOutcome[]> {
    if (at > this.clock.now()) this.clock.advanceTo(at);
    try {
      return (await this.control.evaluate(at)).map((outcome) => ({ policy: this.policy, outcome }));
    } catch (error) {
      // The handler fails the invocation when a model failed, after every model ran: keep the others.
      const out: PolicyOutcome[] = [];
      for (const m of this.config.models) {
        const record = await this.control.state.getDecision(m.id, at);
        if (!record)
          out.push({ policy: this.policy, error: { modelId: m.id, message: (error as Error).message } });
      }
      return out;
    }
  }

  async afterEvaluation(): Promise<void> {}

  async totals(): Promise<StoredTotals> {
    const t = await this.pipeline.totals();
    return {
      bucketReceived: t.bucketReceived,
      aggregated: t.aggregated,
      quarantined: t.quarantined,
      quarantinedByReason: t.quarantinedByReason,
    };
  }

  async statsDigest(): Promise<{ digest: string; items: number }> {
    const d = await this.pipeline.statsDigest();
    return { digest: d.digest, items: d.items };
  }

  async accuracy(from: number, to: number): Promise<Map<string, AccuracyPoint[]>> {
    const stats = new DynamoDbStatsRepository({
      client: this.pipeline.emulators.dynamodb,
      tableName: this.pipeline.emulators.tableName,
    });
    const out = new Map<string, AccuracyPoint[]>();
    // Event times lie within the ingest's retention and skew of the arrival range.
    const margin = (this.config.ingest.maxEventAgeDays + 1) * 24 * HOUR_MS;
    for (const m of this.config.models) {
      const points: AccuracyPoint[] = [];
      for (const o of await stats.readOutcomes(m.id, from - margin, to + margin)) {
        const c = correctOf(o.performance);
        if (c) points.push({ t: o.bucketStart, ...c });
      }
      out.set(m.id, points);
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.pipeline.stop();
  }
}
