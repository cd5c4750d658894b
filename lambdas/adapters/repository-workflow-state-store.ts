/**
 * WorkflowStateStore over the evaluator's ModelStateRepository (DynamoDB in production, the same
 * repository over dynalite in local mode): the workflow and the evaluator share one lease, one state item
 * and one baseline store, so they cannot disagree about who runs a retrain or which baseline is current.
 */
import { deserializeProfile } from "../domain/stats/profile-codec";
import type { ModelStateRepository } from "../ports/model-state-repository";
import { LeaseNotHeldError, type Promotion, type WorkflowStateStore } from "../ports/workflow-state-store";

export class RepositoryWorkflowStateStore implements WorkflowStateStore {
  constructor(private readonly repository: ModelStateRepository) {}

  async confirmLease(modelId: string, owner: string, nowMs: number, holdMs: number): Promise<void> {
    const { lease } = await this.repository.getState(modelId);
    if (!lease || lease.owner !== owner || lease.expiresAt <= nowMs) {
      const holder = lease
        ? `held by ${lease.owner} until ${new Date(lease.expiresAt).toISOString()}`
        : "not held";
      throw new LeaseNotHeldError(`lease on model ${modelId} is ${holder}, not by ${owner}`);
    }
    // Re-acquiring our own lease only moves its expiry; a concurrent takeover makes this fail instead.
    const extended = await this.repository.acquireLease(
      modelId,
      owner,
      nowMs,
      Math.max(holdMs, lease.expiresAt - nowMs),
    );
    if (!extended.acquired)
      throw new LeaseNotHeldError(`lease on model ${modelId} was taken by ${extended.lease?.owner}`);
  }

  releaseLease(modelId: string, owner: string): Promise<boolean> {
    return this.repository.releaseLease(modelId, owner);
  }

  async getChampion(modelId: string): Promise<{ version: string } | undefined> {
    const state = await this.repository.getState(modelId);
    return state.championVersion ? { version: state.championVersion } : undefined;
  }

  async promote(p: Promotion): Promise<void> {
    const c = p.champion;
    await this.repository.resetAfterDeploy({
      modelId: c.modelId,
      championVersion: c.version,
      championTrainedAt: c.promotedAt,
      baselineVersion: p.baselineVersion,
      baseline: {
        version: p.baselineVersion,
        profile: deserializeProfile(p.baseline),
        createdAt: c.promotedAt,
        source: "training",
      },
      champion: {
        modelName: c.modelName,
        endpointName: c.endpointName,
        ...(c.endpointConfigName ? { endpointConfigName: c.endpointConfigName } : {}),
        ...(c.modelArtifacts ? { modelArtifacts: c.modelArtifacts } : {}),
        ...(c.trainingJobName ? { trainingJobName: c.trainingJobName } : {}),
        ...(c.modelPackageArn ? { modelPackageArn: c.modelPackageArn } : {}),
        ...(c.metrics ? { metrics: c.metrics } : {}),
      },
      at: c.promotedAt,
      leaseOwner: p.leaseOwner,
    });
  }
}
