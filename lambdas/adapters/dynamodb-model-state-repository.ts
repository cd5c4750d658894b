/**
 * ModelStateRepository on the single DynamoDB table. Every write that guards an invariant is a
 * conditional write, so concurrent or retried evaluations and workflow tasks cannot break it:
 * - the lease (attributes on the state item) is taken only if absent, expired or already ours, and
 *   released only by its owner;
 * - a decision is stored once per model and evaluation time (a retry finds the first one);
 * - a retrain start is appended once per evaluation time.
 *
 * Items (see dynamodb-keys.ts): state `MODEL#<id>`/`STATE`; decisions `MODEL#<id>#DECISION`/`<iso>`
 * with a compact history entry next to each under `H#<iso>` (history reads then cost a few hundred
 * bytes per evaluation instead of the full record); baselines `MODEL#<id>#BASELINE`/`<version>`;
 * champion registry `MODEL#<id>`/`CHAMPION#<version>`. DynamoDB has no transactions in the local
 * emulator, so resetAfterDeploy writes the baseline and champion items first (idempotent puts) and
 * the state item last: the state update is the commit point.
 */

import { gunzipSync, gzipSync } from "node:zlib";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { DAY_MS } from "../../contracts/time";
import { type Decision, toHistoryEntry } from "../domain/decision/decision";
import { EMPTY_LEDGER, type LabelLedger } from "../domain/decision/label-ledger";
import type { HistoryEntry } from "../domain/decision/stability";
import { deserializeProfile, serializeProfile } from "../domain/stats/profile-codec";
import type {
  AcquireLeaseResult,
  DecisionRecord,
  Lease,
  ModelState,
  ModelStateRepository,
  ResetAfterDeploy,
  StoredBaseline,
} from "../ports/model-state-repository";
import { keys, TTL_ATTRIBUTE } from "./dynamodb-keys";

/** Only the most recent retrain starts matter for a budget; older ones are ignored when read. */
const MAX_RETRAIN_STARTS = 100;
const HISTORY_PREFIX = "H#";

/** Another run holds the model's lease. */
export class LeaseConflictError extends Error {
  override readonly name = "LeaseConflictError";
}

export interface DynamoDbModelStateRepositoryOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Called with the consumed capacity of every request (benchmarks, metrics). */
  readonly onConsumedCapacity?: (operation: string, readUnits: number, writeUnits: number) => void;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function isConditionalFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string } | undefined)?.name === "ConditionalCheckFailedException"
  );
}

/** Parsed baselines a repository keeps: one per model of a typical catalog, with room for new versions. */
const BASELINE_CACHE_SIZE = 64;

export class DynamoDbModelStateRepository implements ModelStateRepository {
  /** Parsed baselines by model and version, least recently used first (see `getBaseline`). */
  private readonly baselines = new Map<string, StoredBaseline>();
  constructor(private readonly options: DynamoDbModelStateRepositoryOptions) {}

  private get client(): DynamoDBClient {
    return this.options.client;
  }

  private get table(): string {
    return this.options.tableName;
  }

  private track(
    operation: string,
    consumed: { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number } | undefined,
  ): void {
    if (!consumed || !this.options.onConsumedCapacity) return;
    const read = consumed.ReadCapacityUnits ?? 0;
    const write = consumed.WriteCapacityUnits ?? 0;
    const total = consumed.CapacityUnits ?? 0;
    this.options.onConsumedCapacity(operation, read || (write ? 0 : total), write);
  }

  async getState(modelId: string): Promise<ModelState> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(keys.state(modelId)),
        ConsistentRead: true,
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    this.track("getState", out.ConsumedCapacity);
    return out.Item
      ? toState(modelId, unmarshall(out.Item))
      : { modelId, retrainStarts: [], labelLedger: EMPTY_LEDGER };
  }

  async acquireLease(
    modelId: string,
    owner: string,
    now: number,
    ttlMs: number,
  ): Promise<AcquireLeaseResult> {
    const lease: Lease = { owner, acquiredAt: now, expiresAt: now + ttlMs };
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(keys.state(modelId)),
          UpdateExpression:
            "SET leaseOwner = :owner, leaseAcquiredAt = if_not_exists(leaseAcquiredAt, :now), leaseExpiresAt = :exp",
          ConditionExpression:
            "attribute_not_exists(leaseOwner) OR leaseExpiresAt <= :now OR leaseOwner = :owner",
          ExpressionAttributeValues: marshall({ ":owner": owner, ":now": now, ":exp": lease.expiresAt }),
          ReturnValues: "ALL_NEW",
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      this.track("acquireLease", out.ConsumedCapacity);
      const stored = out.Attributes ? toState(modelId, unmarshall(out.Attributes)).lease : undefined;
      return { acquired: true, lease: stored ?? lease };
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      const state = await this.getState(modelId);
      return state.lease ? { acquired: false, lease: state.lease } : { acquired: false };
    }
  }

  async releaseLease(modelId: string, owner: string): Promise<boolean> {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(keys.state(modelId)),
          UpdateExpression: "REMOVE leaseOwner, leaseAcquiredAt, leaseExpiresAt",
          ConditionExpression: "leaseOwner = :owner",
          ExpressionAttributeValues: marshall({ ":owner": owner }),
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      this.track("releaseLease", out.ConsumedCapacity);
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async recordDecision(
    record: DecisionRecord,
    ttlDays: number,
  ): Promise<{ recorded: boolean; existing?: DecisionRecord }> {
    const d = record.decision;
    const key = keys.decision(d.modelId, d.evaluatedAt);
    const ttl = Math.floor((d.evaluatedAt + ttlDays * DAY_MS) / 1000);
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(
            {
              ...key,
              decision: gzipSync(JSON.stringify(d)),
              action: d.action,
              severity: d.severity,
              evaluatedAt: d.evaluatedAt,
              notified: record.notified,
              ...(record.executionName ? { executionName: record.executionName } : {}),
              [TTL_ATTRIBUTE]: ttl,
            },
            { removeUndefinedValues: true },
          ),
          ConditionExpression: "attribute_not_exists(pk)",
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      this.track("recordDecision", out.ConsumedCapacity);
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      const existing = await this.getDecision(d.modelId, d.evaluatedAt);
      return existing ? { recorded: false, existing } : { recorded: false };
    }
    await this.recordHistory(d, ttlDays);
    return { recorded: true };
  }

  /** The compact history entry next to the decision (`H#<iso>`): an unconditional, idempotent put. */
  async recordHistory(d: Decision, ttlDays: number): Promise<void> {
    const key = keys.decision(d.modelId, d.evaluatedAt);
    const entry: HistoryEntry = toHistoryEntry(d);
    const out = await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          pk: key.pk,
          sk: `${HISTORY_PREFIX}${key.sk}`,
          h: JSON.stringify(entry),
          [TTL_ATTRIBUTE]: Math.floor((d.evaluatedAt + ttlDays * DAY_MS) / 1000),
        }),
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    this.track("recordHistory", out.ConsumedCapacity);
  }

  async getDecision(modelId: string, evaluatedAt: number): Promise<DecisionRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(keys.decision(modelId, evaluatedAt)),
        ConsistentRead: true,
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    this.track("getDecision", out.ConsumedCapacity);
    return out.Item ? toDecisionRecord(unmarshall(out.Item)) : undefined;
  }

  async markNotified(modelId: string, evaluatedAt: number): Promise<void> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(keys.decision(modelId, evaluatedAt)),
        UpdateExpression: "SET notified = :t",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: marshall({ ":t": true }),
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    this.track("markNotified", out.ConsumedCapacity);
  }

  private async query(
    operation: string,
    pk: string,
    from: string,
    to: string,
    newestFirst: boolean,
    limit?: number,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
          ExpressionAttributeValues: marshall({ ":pk": pk, ":from": from, ":to": to }),
          ScanIndexForward: !newestFirst,
          ExclusiveStartKey: startKey,
          ...(limit !== undefined ? { Limit: limit - items.length } : {}),
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      this.track(operation, out.ConsumedCapacity);
      for (const item of out.Items ?? []) items.push(unmarshall(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey && (limit === undefined || items.length < limit));
    return items;
  }

  async listHistory(modelId: string, fromMs: number, toMs: number): Promise<HistoryEntry[]> {
    const pk = keys.decisionPartition(modelId);
    const items = await this.query(
      "listHistory",
      pk,
      `${HISTORY_PREFIX}${iso(fromMs)}`,
      `${HISTORY_PREFIX}${iso(toMs - 1)}`,
      false,
    );
    return items.map((i) => JSON.parse(String(i.h)) as HistoryEntry);
  }

  async listDecisions(
    modelId: string,
    fromMs: number,
    toMs: number,
    limit?: number,
  ): Promise<DecisionRecord[]> {
    const items = await this.query(
      "listDecisions",
      keys.decisionPartition(modelId),
      iso(fromMs),
      iso(toMs - 1),
      true,
      limit,
    );
    return items.map(toDecisionRecord);
  }

  /**
   * A baseline, parsed once per repository (the handlers build theirs once per warm Lambda container): a
   * cached copy is used while the item's `createdAt` is unchanged (one GetItem projecting only it; a
   * version written again elsewhere, e.g. a re-baseline of the same start, gets a new `createdAt`, and
   * this repository's own `putBaseline` drops its copy). Reusing the parsed profile across invocations also lets
   * the evaluator's per-summary caches (drift noise moments, CBPE calibration) hit. Callers must not
   * mutate the profile (the evaluator never does).
   */
  async getBaseline(modelId: string, version: string): Promise<StoredBaseline | undefined> {
    const key = `${modelId}\u0000${version}`;
    const cached = this.baselines.get(key);
    if (cached !== undefined) {
      const head = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: marshall(keys.baseline(modelId, version)),
          ProjectionExpression: "createdAt",
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      this.track("getBaseline", head.ConsumedCapacity);
      this.baselines.delete(key);
      if (!head.Item) return undefined;
      if (Number(unmarshall(head.Item).createdAt) === cached.createdAt) {
        this.baselines.set(key, cached);
        return cached;
      }
    }
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(keys.baseline(modelId, version)),
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    this.track("getBaseline", out.ConsumedCapacity);
    if (!out.Item) return undefined;
    const item = unmarshall(out.Item);
    const baseline: StoredBaseline = {
      version,
      profile: deserializeProfile(String(item.profile)),
      createdAt: Number(item.createdAt),
      source: item.source === "reference-window" ? "reference-window" : "training",
      ...(item.hours !== undefined ? { hours: Number(item.hours) } : {}),
      ...(item.from !== undefined ? { from: Number(item.from) } : {}),
    };
    this.baselines.set(key, baseline);
    if (this.baselines.size > BASELINE_CACHE_SIZE) this.baselines.delete(this.baselines.keys().next().value!);
    return baseline;
  }

  async putBaseline(modelId: string, baseline: StoredBaseline): Promise<void> {
    this.baselines.delete(`${modelId}\u0000${baseline.version}`);
    const out = await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          {
            ...keys.baseline(modelId, baseline.version),
            profile: serializeProfile(baseline.profile),
            createdAt: baseline.createdAt,
            source: baseline.source,
            hours: baseline.hours,
            from: baseline.from,
          },
          { removeUndefinedValues: true },
        ),
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    this.track("putBaseline", out.ConsumedCapacity);
  }

  async setBaselineVersion(modelId: string, version: string): Promise<void> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(keys.state(modelId)),
        UpdateExpression: "SET baselineVersion = :v",
        ExpressionAttributeValues: marshall({ ":v": version }),
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    this.track("setBaselineVersion", out.ConsumedCapacity);
  }

  async saveEvaluation(
    modelId: string,
    update: {
      readonly labelLedger: LabelLedger;
      readonly decision: Decision;
      readonly retrainStartedAt?: number;
    },
  ): Promise<void> {
    if (update.retrainStartedAt !== undefined) {
      try {
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: marshall(keys.state(modelId)),
            UpdateExpression:
              "SET lastRetrainAt = :t, retrainStarts = list_append(if_not_exists(retrainStarts, :empty), :one)",
            ConditionExpression: "attribute_not_exists(lastRetrainAt) OR lastRetrainAt <> :t",
            ExpressionAttributeValues: marshall({
              ":t": update.retrainStartedAt,
              ":empty": [],
              ":one": [update.retrainStartedAt],
            }),
            ReturnConsumedCapacity: "TOTAL",
          }),
        );
        this.track("markRetrainStarted", out.ConsumedCapacity);
      } catch (error) {
        if (!isConditionalFailure(error)) throw error;
      }
    }
    const d = update.decision;
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(keys.state(modelId)),
        UpdateExpression: "SET labelLedger = :ledger, lastDecision = :last",
        ExpressionAttributeValues: marshall({
          ":ledger": JSON.stringify(update.labelLedger),
          ":last": { evaluatedAt: d.evaluatedAt, action: d.action, severity: d.severity },
        }),
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    this.track("saveEvaluation", out.ConsumedCapacity);
  }

  async resetAfterDeploy(reset: ResetAfterDeploy): Promise<void> {
    if (reset.baseline)
      await this.putBaseline(reset.modelId, { ...reset.baseline, version: reset.baselineVersion });
    if (reset.champion) {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(
            {
              ...reset.champion,
              ...keys.champion(reset.modelId, reset.championVersion),
              modelId: reset.modelId,
              version: reset.championVersion,
              promotedAt: reset.at,
            },
            { removeUndefinedValues: true, convertClassInstanceToMap: true },
          ),
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      this.track("putChampion", out.ConsumedCapacity);
    }
    const values: Record<string, unknown> = {
      ":v": reset.championVersion,
      ":trained": reset.championTrainedAt ?? reset.at,
      ":b": reset.baselineVersion,
      ":at": reset.at,
      ":ledger": JSON.stringify(EMPTY_LEDGER),
    };
    if (reset.leaseOwner !== undefined) values[":owner"] = reset.leaseOwner;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(keys.state(reset.modelId)),
          UpdateExpression:
            "SET championVersion = :v, championTrainedAt = :trained, baselineVersion = :b, lastDeployAt = :at, labelLedger = :ledger REMOVE leaseOwner, leaseAcquiredAt, leaseExpiresAt",
          ...(reset.leaseOwner !== undefined
            ? {
                ConditionExpression:
                  "attribute_not_exists(leaseOwner) OR leaseOwner = :owner OR leaseExpiresAt <= :at",
              }
            : {}),
          ExpressionAttributeValues: marshall(values),
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      this.track("resetAfterDeploy", out.ConsumedCapacity);
    } catch (error) {
      if (isConditionalFailure(error))
        throw new LeaseConflictError(
          `model ${reset.modelId}: another run holds the lease; refusing to reset the trigger state for ${reset.leaseOwner}`,
        );
      throw error;
    }
  }
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function toState(modelId: string, item: Record<string, unknown>): ModelState {
  const starts = Array.isArray(item.retrainStarts)
    ? (item.retrainStarts as unknown[])
        .map(Number)
        .filter((t) => Number.isFinite(t))
        .slice(-MAX_RETRAIN_STARTS)
    : [];
  let labelLedger: LabelLedger = EMPTY_LEDGER;
  if (typeof item.labelLedger === "string") labelLedger = JSON.parse(item.labelLedger) as LabelLedger;
  const owner = typeof item.leaseOwner === "string" ? item.leaseOwner : undefined;
  const last = item.lastDecision as { evaluatedAt: number; action: string; severity: string } | undefined;
  const state: Record<string, unknown> = {
    modelId,
    championVersion: typeof item.championVersion === "string" ? item.championVersion : undefined,
    championTrainedAt: num(item.championTrainedAt),
    baselineVersion: typeof item.baselineVersion === "string" ? item.baselineVersion : undefined,
    lastRetrainAt: num(item.lastRetrainAt),
    lastDeployAt: num(item.lastDeployAt),
    retrainStarts: starts,
    labelLedger,
    lease:
      owner === undefined
        ? undefined
        : { owner, acquiredAt: num(item.leaseAcquiredAt) ?? 0, expiresAt: num(item.leaseExpiresAt) ?? 0 },
    lastDecision: last,
  };
  for (const k of Object.keys(state)) if (state[k] === undefined) delete state[k];
  return state as unknown as ModelState;
}

/** Decision records are stored gzipped (binary): per-feature evidence of a 50-feature model is ~30 KB of JSON. */
function decodeDecision(value: unknown): Decision {
  const text = value instanceof Uint8Array ? gunzipSync(value).toString("utf8") : String(value);
  return JSON.parse(text) as Decision;
}

function toDecisionRecord(item: Record<string, unknown>): DecisionRecord {
  return {
    decision: decodeDecision(item.decision),
    notified: item.notified === true,
    ...(typeof item.executionName === "string" ? { executionName: item.executionName } : {}),
  };
}
