/**
 * The model-state operations the retraining workflow performs: confirm and release the single-flight
 * lease the evaluator took, read the champion, and promote a challenger (registry item, new baseline,
 * reset trigger state) in one step. Implemented over the EVALUATOR's ModelStateRepository and the
 * `CHAMPION#<version>` registry items; in memory for tests and local mode.
 */

/** A registry entry: which model serves, where it came from, how it scored on the holdout. */
export interface ChampionRecord {
  readonly modelId: string;
  readonly version: string;
  /** SageMaker model name (used to score the champion on the next run's holdout). */
  readonly modelName: string;
  readonly endpointName: string;
  readonly endpointConfigName?: string;
  readonly modelArtifacts?: string;
  readonly trainingJobName?: string;
  /** SageMaker Model Registry version, when model packages are enabled. */
  readonly modelPackageArn?: string;
  readonly metrics?: Readonly<Record<string, number>>;
  /** Epoch ms of the promotion. */
  readonly promotedAt: number;
}

export interface Promotion {
  readonly champion: ChampionRecord;
  /** The run's lease owner: the promotion releases the lease and is refused under another owner's lease. */
  readonly leaseOwner: string;
  /** Version of the baseline stored with this promotion (the champion's version). */
  readonly baselineVersion: string;
  /** Serialized baseline profile (profile.ts `serializeProfile`). */
  readonly baseline: string;
}

/** The lease is not held by this run (expired, taken over, or never acquired). */
export class LeaseNotHeldError extends Error {
  override readonly name = "LeaseNotHeldError";
}

export interface WorkflowStateStore {
  /**
   * Confirms that `owner` holds an unexpired lease and extends it to `nowMs + holdMs` (never shortens
   * it; `holdMs` 0 only confirms), so that a long run (training, approval, bake time) is not overtaken by
   * the evaluator when the original lease expires.
   * @throws LeaseNotHeldError when `owner` does not hold an unexpired lease on the model.
   */
  confirmLease(modelId: string, owner: string, nowMs: number, holdMs: number): Promise<void>;
  /** Releases the lease if `owner` holds it; returns whether it did. Never releases another owner's lease. */
  releaseLease(modelId: string, owner: string): Promise<boolean>;
  /** The serving champion's version (its registry details may be absent for a champion deployed by hand). */
  getChampion(modelId: string): Promise<Pick<ChampionRecord, "version"> | undefined>;
  /** Records the champion, stores the baseline, resets trigger state, releases the lease. Idempotent. */
  promote(promotion: Promotion): Promise<void>;
}
