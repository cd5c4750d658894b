/**
 * LOCAL STAND-IN for the model-state items of the DynamoDB table (`ModelStateRepository`), in process: the
 * trigger state, the single-flight lease, decision records with their history entries, and baselines. The
 * fast path of `replay` runs the evaluate use cases on it, one repository per compared policy.
 *
 * Same semantics as `DynamoDbModelStateRepository`: the lease is taken only if absent, expired or already
 * ours and released only by its owner; a decision is recorded once per (model, evaluation time); a retrain
 * start is appended once per time; at most the 100 most recent starts are read back. Decisions, history
 * entries and label ledgers go through JSON like the stored items (so `Infinity` reads back as `null`,
 * exactly as from DynamoDB); profiles are kept as objects (the codec's round trip is the identity).
 *
 * `pruneDecisions` drops decision records older than the evaluator's history reads need, so memory follows
 * the history window, not the length of the replayed log.
 */
import { LeaseConflictError } from "../lambdas/adapters/dynamodb-model-state-repository";
import { type Decision, toHistoryEntry } from "../lambdas/domain/decision/decision";
import { EMPTY_LEDGER, type LabelLedger } from "../lambdas/domain/decision/label-ledger";
import type { HistoryEntry } from "../lambdas/domain/decision/stability";
import type {
  AcquireLeaseResult,
  DecisionRecord,
  Lease,
  ModelState,
  ModelStateRepository,
  ResetAfterDeploy,
  StoredBaseline,
} from "../lambdas/ports/model-state-repository";

const MAX_RETRAIN_STARTS = 100;

/** The stored form of a decision record: what the DynamoDB item holds, as JSON text. */
interface StoredDecision {
  readonly decision: string;
  readonly history?: string;
  notified: boolean;
  readonly executionName?: string;
}

interface StateItem {
  championVersion?: string;
  championTrainedAt?: number;
  baselineVersion?: string;
  lastRetrainAt?: number;
  lastDeployAt?: number;
  retrainStarts: number[];
  labelLedger: string;
  lease?: Lease;
  lastDecision?: { evaluatedAt: number; action: string; severity: string };
}

interface ModelItems {
  state: StateItem | undefined;
  /** Decision records by evaluation time (insertion order = time order in a replay). */
  readonly decisions: Map<number, StoredDecision>;
  readonly history: Map<number, string>;
  readonly baselines: Map<string, StoredBaseline>;
  readonly champions: Map<string, Readonly<Record<string, unknown>>>;
}

const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class MemoryModelStateRepository implements ModelStateRepository {
  private readonly models = new Map<string, ModelItems>();

  private itemsOf(modelId: string): ModelItems {
    let m = this.models.get(modelId);
    if (!m) {
      m = {
        state: undefined,
        decisions: new Map(),
        history: new Map(),
        baselines: new Map(),
        champions: new Map(),
      };
      this.models.set(modelId, m);
    }
    return m;
  }

  private stateItem(modelId: string): StateItem {
    const m = this.itemsOf(modelId);
    m.state ??= { retrainStarts: [], labelLedger: JSON.stringify(EMPTY_LEDGER) };
    return m.state;
  }

  async getState(modelId: string): Promise<ModelState> {
    const s = this.models.get(modelId)?.state;
    if (!s) return { modelId, retrainStarts: [], labelLedger: EMPTY_LEDGER };
    const state: Record<string, unknown> = {
      modelId,
      championVersion: s.championVersion,
      championTrainedAt: s.championTrainedAt,
      baselineVersion: s.baselineVersion,
      lastRetrainAt: s.lastRetrainAt,
      lastDeployAt: s.lastDeployAt,
      retrainStarts: s.retrainStarts.slice(-MAX_RETRAIN_STARTS),
      labelLedger: JSON.parse(s.labelLedger) as LabelLedger,
      lease: s.lease ? { ...s.lease } : undefined,
      lastDecision: s.lastDecision ? { ...s.lastDecision } : undefined,
    };
    for (const k of Object.keys(state)) if (state[k] === undefined) delete state[k];
    return state as unknown as ModelState;
  }

  async acquireLease(
    modelId: string,
    owner: string,
    now: number,
    ttlMs: number,
  ): Promise<AcquireLeaseResult> {
    const s = this.stateItem(modelId);
    const held = s.lease;
    if (held && held.expiresAt > now && held.owner !== owner) return { acquired: false, lease: { ...held } };
    // if_not_exists(leaseAcquiredAt): a re-acquisition by the owner keeps the first acquisition time.
    s.lease = { owner, acquiredAt: held?.acquiredAt ?? now, expiresAt: now + ttlMs };
    return { acquired: true, lease: { ...s.lease } };
  }

  async releaseLease(modelId: string, owner: string): Promise<boolean> {
    const s = this.models.get(modelId)?.state;
    if (!s?.lease || s.lease.owner !== owner) return false;
    s.lease = undefined;
    return true;
  }

  async recordDecision(
    record: DecisionRecord,
    _ttlDays: number,
  ): Promise<{ recorded: boolean; existing?: DecisionRecord }> {
    const d = record.decision;
    const m = this.itemsOf(d.modelId);
    const existing = m.decisions.get(d.evaluatedAt);
    if (existing) return { recorded: false, existing: toRecord(existing) };
    m.decisions.set(d.evaluatedAt, {
      decision: JSON.stringify(d),
      notified: record.notified,
      ...(record.executionName ? { executionName: record.executionName } : {}),
    });
    await this.recordHistory(d, _ttlDays);
    return { recorded: true };
  }

  async recordHistory(decision: Decision, _ttlDays: number): Promise<void> {
    this.itemsOf(decision.modelId).history.set(
      decision.evaluatedAt,
      JSON.stringify(toHistoryEntry(decision)),
    );
  }

  async getDecision(modelId: string, evaluatedAt: number): Promise<DecisionRecord | undefined> {
    const stored = this.models.get(modelId)?.decisions.get(evaluatedAt);
    return stored ? toRecord(stored) : undefined;
  }

  async markNotified(modelId: string, evaluatedAt: number): Promise<void> {
    const stored = this.models.get(modelId)?.decisions.get(evaluatedAt);
    // The adapter's update is conditional on the item existing (attribute_exists(pk)).
    if (!stored) throw new Error(`no decision of ${modelId} at ${new Date(evaluatedAt).toISOString()}`);
    stored.notified = true;
  }

  async listHistory(modelId: string, fromMs: number, toMs: number): Promise<HistoryEntry[]> {
    const m = this.models.get(modelId);
    if (!m) return [];
    return [...m.history.entries()]
      .filter(([t]) => t >= fromMs && t < toMs)
      .sort((a, b) => a[0] - b[0])
      .map(([, h]) => JSON.parse(h) as HistoryEntry);
  }

  async listDecisions(
    modelId: string,
    fromMs: number,
    toMs: number,
    limit?: number,
  ): Promise<DecisionRecord[]> {
    const m = this.models.get(modelId);
    if (!m) return [];
    const out = [...m.decisions.entries()]
      .filter(([t]) => t >= fromMs && t < toMs)
      .sort((a, b) => b[0] - a[0])
      .map(([, d]) => toRecord(d));
    return limit === undefined ? out : out.slice(0, limit);
  }

  async getBaseline(modelId: string, version: string): Promise<StoredBaseline | undefined> {
    const b = this.models.get(modelId)?.baselines.get(version);
    return b ? { ...b } : undefined;
  }

  async putBaseline(modelId: string, baseline: StoredBaseline): Promise<void> {
    const stored: Record<string, unknown> = { ...baseline };
    for (const k of Object.keys(stored)) if (stored[k] === undefined) delete stored[k];
    this.itemsOf(modelId).baselines.set(baseline.version, stored as unknown as StoredBaseline);
  }

  async setBaselineVersion(modelId: string, version: string): Promise<void> {
    this.stateItem(modelId).baselineVersion = version;
  }

  async saveEvaluation(
    modelId: string,
    update: {
      readonly labelLedger: LabelLedger;
      readonly decision: Decision;
      readonly retrainStartedAt?: number;
    },
  ): Promise<void> {
    const s = this.stateItem(modelId);
    const t = update.retrainStartedAt;
    if (t !== undefined && s.lastRetrainAt !== t) {
      s.lastRetrainAt = t;
      s.retrainStarts.push(t);
    }
    const d = update.decision;
    s.labelLedger = JSON.stringify(update.labelLedger);
    s.lastDecision = { evaluatedAt: d.evaluatedAt, action: d.action, severity: d.severity };
  }

  async resetAfterDeploy(reset: ResetAfterDeploy): Promise<void> {
    const s = this.stateItem(reset.modelId);
    if (
      reset.leaseOwner !== undefined &&
      s.lease &&
      s.lease.owner !== reset.leaseOwner &&
      s.lease.expiresAt > reset.at
    )
      throw new LeaseConflictError(
        `model ${reset.modelId}: another run holds the lease; refusing to reset the trigger state for ${reset.leaseOwner}`,
      );
    if (reset.baseline)
      await this.putBaseline(reset.modelId, { ...reset.baseline, version: reset.baselineVersion });
    if (reset.champion)
      this.itemsOf(reset.modelId).champions.set(reset.championVersion, roundTrip(reset.champion));
    s.championVersion = reset.championVersion;
    s.championTrainedAt = reset.championTrainedAt ?? reset.at;
    s.baselineVersion = reset.baselineVersion;
    s.lastDeployAt = reset.at;
    s.labelLedger = JSON.stringify(EMPTY_LEDGER);
    s.lease = undefined;
  }

  /** The reference window of the model's current baseline, if it is one (the evaluator re-reads its outcomes). */
  baselineWindow(modelId: string): { from: number; to: number } | undefined {
    const m = this.models.get(modelId);
    const version = m?.state?.baselineVersion;
    const b = version === undefined ? undefined : m?.baselines.get(version);
    if (b?.source !== "reference-window" || !b.hours) return undefined;
    const from = b.from ?? (version?.startsWith("ref-") ? Date.parse(version.slice(4)) : Number.NaN);
    return Number.isFinite(from) ? { from, to: from + b.hours * 3_600_000 } : undefined;
  }

  /** When the model's champion was last deployed (its reference window starts then). */
  lastDeployAt(modelId: string): number | undefined {
    return this.models.get(modelId)?.state?.lastDeployAt;
  }

  /** Drops decision records and history entries evaluated before `beforeMs` (kept: the current baseline). */
  pruneDecisions(modelId: string, beforeMs: number): void {
    const m = this.models.get(modelId);
    if (!m) return;
    for (const t of m.decisions.keys()) if (t < beforeMs) m.decisions.delete(t);
    for (const t of m.history.keys()) if (t < beforeMs) m.history.delete(t);
    const current = m.state?.baselineVersion;
    for (const v of m.baselines.keys()) if (v !== current) m.baselines.delete(v);
  }
}

function toRecord(stored: StoredDecision): DecisionRecord {
  return {
    decision: JSON.parse(stored.decision) as Decision,
    notified: stored.notified,
    ...(stored.executionName ? { executionName: stored.executionName } : {}),
  };
}
