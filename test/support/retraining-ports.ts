/**
 * In-memory implementations of the retraining use cases' ports (the ObjectStore one is local mode's
 * MemoryObjectStore, local/object-store.ts): the app tests and the state machine runs share them.
 */
import type { ChallengerResources, EndpointInfo, ModelHosting } from "../../lambdas/ports/model-hosting";
import {
  type ChampionRecord,
  LeaseNotHeldError,
  type Promotion,
  type WorkflowStateStore,
} from "../../lambdas/ports/workflow-state-store";

/** WorkflowStateStore in memory: leases with owners and expiry, registry, baselines, trigger resets. */
export class MemoryStateStore implements WorkflowStateStore {
  readonly leases = new Map<string, { owner: string; expiresAt: number }>();
  readonly champions = new Map<string, ChampionRecord>();
  readonly registry: ChampionRecord[] = [];
  readonly baselines = new Map<string, string>();
  readonly resets: string[] = [];
  async confirmLease(modelId: string, owner: string, nowMs: number, holdMs: number): Promise<void> {
    const lease = this.leases.get(modelId);
    if (!lease || lease.owner !== owner || lease.expiresAt <= nowMs) {
      throw new LeaseNotHeldError(`lease on ${modelId} is not held by ${owner}`);
    }
    this.leases.set(modelId, { owner, expiresAt: Math.max(lease.expiresAt, nowMs + holdMs) });
  }
  async releaseLease(modelId: string, owner: string): Promise<boolean> {
    if (this.leases.get(modelId)?.owner !== owner) return false;
    this.leases.delete(modelId);
    return true;
  }
  async getChampion(modelId: string): Promise<ChampionRecord | undefined> {
    return this.champions.get(modelId);
  }
  async promote(p: Promotion): Promise<void> {
    if (this.leases.get(p.champion.modelId)?.owner === p.leaseOwner) this.leases.delete(p.champion.modelId);
    this.champions.set(p.champion.modelId, p.champion);
    this.registry.push(p.champion);
    this.baselines.set(`${p.champion.modelId}#${p.baselineVersion}`, p.baseline);
    this.resets.push(p.champion.modelId);
  }
}

/**
 * ModelHosting over the fake endpoints of the SageMaker fake. `resources` (the fake's models and the
 * endpoint configs it created) lets `deleteChallenger` delete what exists; `deleteError` makes it fail.
 */
export class FakeHosting implements ModelHosting {
  /** Everything deleteChallenger deleted, in order. */
  readonly deleted: string[] = [];
  deleteError: Error | undefined;

  constructor(
    private readonly endpoints: Map<string, EndpointInfo>,
    private readonly resources: { models: Map<string, unknown>; configs: () => string[] } = {
      models: new Map(),
      configs: () => [],
    },
  ) {}

  async describeEndpoint(name: string): Promise<EndpointInfo> {
    return this.endpoints.get(name) ?? { exists: false };
  }

  async deleteChallenger(r: ChallengerResources): Promise<string[]> {
    if (this.deleteError) throw this.deleteError;
    const out: string[] = [];
    if (this.resources.configs().includes(r.endpointConfig) && !this.deleted.includes(r.endpointConfig)) {
      this.deleted.push(r.endpointConfig);
      out.push(`endpoint config ${r.endpointConfig}`);
    }
    if (this.resources.models.delete(r.model)) {
      this.deleted.push(r.model);
      out.push(`model ${r.model}`);
    }
    return out;
  }
}
