/**
 * Per-model trigger state, decision records, baselines and the single-flight lease, as the evaluator
 * and the retraining workflow see them. One port so that both sides agree on the lease semantics:
 * acquire if absent, expired or already ours; release only by the owner; a deploy resets everything
 * a retrain decision depends on in one call.
 */
import type { Decision } from "../domain/decision/decision";
import type { LabelLedger } from "../domain/decision/label-ledger";
import type { HistoryEntry } from "../domain/decision/stability";
import type { Profile } from "../domain/stats/profile";

/** Who runs the retraining for a model right now, and until when the claim holds. */
export interface Lease {
  /** Owner id: the workflow's deterministic execution name. */
  readonly owner: string;
  readonly acquiredAt: number;
  /** After this instant (epoch ms) anyone may take the lease over (a crashed run must not block forever). */
  readonly expiresAt: number;
}

/** The trigger state of one model (item `MODEL#<id>` / `STATE`). */
export interface ModelState {
  readonly modelId: string;
  readonly championVersion?: string;
  /** When the serving champion was trained (epoch ms): model age, schedule, label counting. */
  readonly championTrainedAt?: number;
  /** Version of the baseline profile evaluations compare with (item `MODEL#<id>#BASELINE` / version). */
  readonly baselineVersion?: string;
  readonly lastRetrainAt?: number;
  readonly lastDeployAt?: number;
  /** Start times of recent retrains (budget), the most recent 100. */
  readonly retrainStarts: readonly number[];
  readonly labelLedger: LabelLedger;
  readonly lease?: Lease;
  readonly lastDecision?: {
    readonly evaluatedAt: number;
    readonly action: string;
    readonly severity: string;
  };
}

/** A stored baseline profile. */
export interface StoredBaseline {
  readonly version: string;
  readonly profile: Profile;
  readonly createdAt: number;
  /** `training`: the training data of a champion; `reference-window`: live traffic after a deploy. */
  readonly source: "training" | "reference-window";
  /** Hours of live traffic a reference-window baseline covers (gives a reference event rate). */
  readonly hours?: number;
  /** Start of a reference-window baseline's traffic (epoch ms); its labels keep arriving after it is stored. */
  readonly from?: number;
}

/** A decision as stored, with delivery bookkeeping. */
export interface DecisionRecord {
  readonly decision: Decision;
  /** Workflow execution started for a retrain decision. */
  readonly executionName?: string;
  /** The SNS alert went out (a retried evaluation re-sends only when it did not). */
  readonly notified: boolean;
}

export interface AcquireLeaseResult {
  readonly acquired: boolean;
  /** The lease now in force: ours when acquired, the holder's otherwise. */
  readonly lease?: Lease;
}

export interface ResetAfterDeploy {
  readonly modelId: string;
  readonly championVersion: string;
  /** When the new champion was trained (epoch ms); default `at`. */
  readonly championTrainedAt?: number;
  readonly baselineVersion: string;
  /** Baseline to store under `baselineVersion` (e.g. the training data's profile); omit if already stored. */
  readonly baseline?: StoredBaseline;
  /** Registry attributes stored in `MODEL#<id>` / `CHAMPION#<version>` (model name, metrics, ...). */
  readonly champion?: Readonly<Record<string, unknown>>;
  /** Deploy time: starts the cooldown. */
  readonly at: number;
  /** The run's lease owner: the reset is refused if another owner holds the lease. */
  readonly leaseOwner?: string;
}

export interface ModelStateRepository {
  /** The model's state; an empty state (no champion, no lease) when none was stored yet. */
  getState(modelId: string): Promise<ModelState>;
  /** Take the lease if it is absent, expired, or already held by `owner` (idempotent for retries). */
  acquireLease(modelId: string, owner: string, now: number, ttlMs: number): Promise<AcquireLeaseResult>;
  /** Release the lease if `owner` holds it; returns whether it did. Never releases another owner's lease. */
  releaseLease(modelId: string, owner: string): Promise<boolean>;
  /**
   * Store a decision once (keyed by model and evaluation time) with its history entry; returns the record
   * already stored, if any (then the history entry may be missing: see {@link recordHistory}).
   */
  recordDecision(
    record: DecisionRecord,
    ttlDays: number,
  ): Promise<{ recorded: boolean; existing?: DecisionRecord }>;
  /**
   * (Re)write a recorded decision's history entry (idempotent: a function of the decision). A retried
   * evaluation calls it, since the first attempt may have stopped between the decision and its entry, and
   * persistence and adaptive thresholds read the history.
   */
  recordHistory(decision: Decision, ttlDays: number): Promise<void>;
  getDecision(modelId: string, evaluatedAt: number): Promise<DecisionRecord | undefined>;
  markNotified(modelId: string, evaluatedAt: number): Promise<void>;
  /** Compact history of decisions evaluated in [fromMs, toMs) for persistence and adaptive limits. */
  listHistory(modelId: string, fromMs: number, toMs: number): Promise<HistoryEntry[]>;
  /** Full decision records in [fromMs, toMs), newest first, at most `limit`. */
  listDecisions(modelId: string, fromMs: number, toMs: number, limit?: number): Promise<DecisionRecord[]>;
  getBaseline(modelId: string, version: string): Promise<StoredBaseline | undefined>;
  putBaseline(modelId: string, baseline: StoredBaseline): Promise<void>;
  /** Point the state at a baseline (used when the evaluator bootstraps one from a reference window). */
  setBaselineVersion(modelId: string, version: string): Promise<void>;
  /** After an evaluation: label ledger and last decision; for a retrain, the start (idempotent per time). */
  saveEvaluation(
    modelId: string,
    update: {
      readonly labelLedger: LabelLedger;
      readonly decision: Decision;
      readonly retrainStartedAt?: number;
    },
  ): Promise<void>;
  /**
   * What the workflow calls after a successful deploy: new champion and baseline pointer, label
   * counters cleared, cooldown started (lastDeployAt), lease released. Idempotent.
   */
  resetAfterDeploy(reset: ResetAfterDeploy): Promise<void>;
}
