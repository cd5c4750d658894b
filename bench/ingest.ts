/**
 * Ingest benchmark: one 10,000-record Kinesis batch of predictions with 50 features.
 * - CPU: the ingest (validation, grouping, profiling, merge, serialization, metrics counting) with
 *   in-memory stores versus the decode floor (base64 + UTF-8 + JSON.parse of the same records), as a
 *   ratio of medians measured in this process. Target <= 2.0.
 * - DynamoDB: the real handler and adapters against dynalite through a counting client: requests and
 *   capacity units (ReturnConsumedCapacity) per 1,000 events, and requests per batch versus the number of
 *   (model, bucket) groups, split by purpose (statistics, prediction index, label markers, quarantine); then
 *   the same for a batch of the labels of those predictions (joined through the index, one marker each).
 * - Peak memory (max RSS of the process, and heap growth during one ingest).
 * Run: `npm run bench -- ingest` (this module only exports `run`).
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context, KinesisStreamEvent } from "aws-lambda";
import { type ProfileSpec, profileSpecOf } from "../contracts/model";
import { keys } from "../lambdas/adapters/dynamodb-keys";
import { keyId } from "../lambdas/adapters/dynamodb-stats-batching";
import { createIngestBatch, type IngestStores } from "../lambdas/app/ingest/ingest-batch";
import {
  classifyBatch,
  groupBatch,
  groupContribution,
  type IncomingRecord,
  type IngestGroup,
  indexPredictions,
  resolveBatch,
  type StoredPrediction,
} from "../lambdas/domain/ingest/batch";
import type { IngestModel } from "../lambdas/domain/ingest/event-validation";
import { compileModels } from "../lambdas/domain/ingest/event-validation";
import { deserializeProfile, serializeProfile } from "../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../lambdas/domain/stats/profile-merge";
import { createIngestHandler, dynamoDbIngestStores } from "../lambdas/handlers/ingest";
import type { GroupApplyResult, PredictionRecord, QuarantineRecord } from "../lambdas/ports/stats-repository";
import { startEmulators } from "../local/emulators";
import { lambdaKinesisRecord } from "../local/kinesis-record";
import { mulberry32 as prng } from "../local/prng";
import { cpuNowMs, median } from "./timing";

const RECORDS = 10_000;
const FEATURES = 50;
const NUMERIC = 40;
/** Measured batches after one warm-up; the CPU ratio is the median of the per-batch ratios. */
const REPEATS = 15;
/** Batches for the per-phase breakdown. */
const PHASE_REPEATS = 7;
const SHARD = "shardId-000000000000";

const model: IngestModel = {
  id: "bench",
  task: "binary",
  features: Array.from({ length: FEATURES }, (_, i) => ({
    name: `f${i}`,
    kind: i < NUMERIC ? ("numeric" as const) : ("categorical" as const),
  })),
  labelHorizonHours: 24,
  bucketMinutes: 60,
  predictionIndex: true,
};

/** A batch of predictions spread over the 3 hours before `nowMs` (3-4 hourly buckets). */
export function makeEvent(nowMs: number, seed: number, firstSeq = 1_000_000): KinesisStreamEvent {
  const rand = prng(seed);
  return batchOf(nowMs, firstSeq, (i) => {
    const features: Record<string, number | string | null> = {};
    for (let f = 0; f < FEATURES; f++) {
      features[`f${f}`] =
        f < NUMERIC ? (rand() < 0.02 ? null : Math.round(rand() * 1e6) / 1e3) : `c${Math.floor(rand() * 12)}`;
    }
    return {
      schemaVersion: 1,
      type: "prediction",
      modelId: "bench",
      requestId: `s${seed}-${i}`,
      timestamp: Math.round(nowMs - rand() * 3 * 3_600_000),
      features,
      prediction: rand() < 0.3 ? 1 : 0,
      score: Math.round(rand() * 1e4) / 1e4,
    };
  });
}

/** A batch of labels (no inline prediction) for the predictions of `makeEvent(nowMs, seed)`. */
function makeLabelEvent(nowMs: number, seed: number, firstSeq: number): KinesisStreamEvent {
  const rand = prng(seed * 31 + 7);
  return batchOf(nowMs, firstSeq, (i) => ({
    schemaVersion: 1,
    type: "label",
    modelId: "bench",
    requestId: `s${seed}-${i}`,
    timestamp: Math.round(nowMs - 1000),
    label: rand() < 0.3 ? 1 : 0,
  }));
}

/** `RECORDS` events from one shard, consecutive sequence numbers from `firstSeq`, all arriving at `nowMs`. */
function batchOf(nowMs: number, firstSeq: number, eventAt: (i: number) => object): KinesisStreamEvent {
  return {
    Records: Array.from({ length: RECORDS }, (_, i) =>
      lambdaKinesisRecord({
        shardId: SHARD,
        sequenceNumber: String(firstSeq + i),
        partitionKey: "bench",
        data: Buffer.from(JSON.stringify(eventAt(i))).toString("base64"),
        arrivalMs: nowMs,
      }),
    ),
  };
}

/** Stores doing the same CPU work as the DynamoDB adapters (merge + serialize), without I/O. */
export function inMemoryStores(): IngestStores {
  const items = new Map<string, { profile: string; seq: string }>();
  return {
    stats: {
      async applyGroups(
        shardId: string,
        groups: readonly IngestGroup[],
        specs: ReadonlyMap<string, ProfileSpec>,
      ) {
        return groups.map((group): GroupApplyResult => {
          const k = keys.stats(group.modelId, group.bucketStart, shardId);
          const id = keyId(k.pk, k.sk);
          const current = items.get(id);
          const c = groupContribution(group, specs.get(group.modelId)!, current?.seq);
          if (!c) return { group, status: "skipped", attempts: 0 };
          const profile = current ? mergeProfiles(deserializeProfile(current.profile), c.profile) : c.profile;
          items.set(id, { profile: serializeProfile(profile), seq: c.lastSeq });
          return { group, status: "applied", attempts: 1 };
        });
      },
    },
    predictions: {
      async find(): Promise<StoredPrediction[]> {
        return [];
      },
      async save(_p: readonly PredictionRecord[]) {
        return { failed: [] };
      },
      async findLabels() {
        return [];
      },
      async saveLabels() {
        return { failed: [] };
      },
    },
    quarantine: {
      async save(_q: readonly QuarantineRecord[]) {
        return { failed: [] };
      },
      async listDay() {
        return [];
      },
    },
  };
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

function decodeFloor(event: KinesisStreamEvent): number {
  let n = 0;
  for (const r of event.Records) {
    const v = JSON.parse(Buffer.from(r.kinesis.data, "base64").toString("utf8")) as { features: object };
    if (v.features) n++;
  }
  return n;
}

interface Counts {
  requests: Record<string, number>;
  byPurpose: Record<string, number>;
  writeUnitsByPurpose: Record<string, number>;
  readUnits: number;
  writeUnits: number;
}

/** Wrap a client so every request and its consumed capacity is counted. */
function counting(client: DynamoDBClient): { client: DynamoDBClient; counts: Counts; reset(): void } {
  const counts: Counts = {
    requests: {},
    byPurpose: {},
    writeUnitsByPurpose: {},
    readUnits: 0,
    writeUnits: 0,
  };
  const wrapped = Object.create(client) as DynamoDBClient;
  wrapped.send = (async (command: { constructor: { name: string }; input: unknown }) => {
    const name = command.constructor.name.replace(/Command$/, "");
    counts.requests[name] = (counts.requests[name] ?? 0) + 1;
    const text = JSON.stringify(command.input);
    const purpose = text.includes("#STATS")
      ? "statistics"
      : text.includes('"sk":{"S":"L"}')
        ? "labelMarkers"
        : text.includes("#PRED#")
          ? "predictionIndex"
          : "quarantine";
    counts.byPurpose[purpose] = (counts.byPurpose[purpose] ?? 0) + 1;
    const out = (await client.send(command as never)) as { ConsumedCapacity?: unknown };
    const consumed = ([] as Array<{ CapacityUnits?: number }>).concat(
      (out.ConsumedCapacity ?? []) as Array<{ CapacityUnits?: number }>,
    );
    const units = consumed.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
    if (/Put|Write|Update|Delete/.test(name)) {
      counts.writeUnits += units;
      counts.writeUnitsByPurpose[purpose] = (counts.writeUnitsByPurpose[purpose] ?? 0) + units;
    } else counts.readUnits += units;
    return out;
  }) as DynamoDBClient["send"];
  return {
    client: wrapped,
    counts,
    reset() {
      counts.requests = {};
      counts.byPurpose = {};
      counts.writeUnitsByPurpose = {};
      counts.readUnits = 0;
      counts.writeUnits = 0;
    },
  };
}

export async function run(): Promise<Record<string, unknown>> {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const nowMs = Date.now();
  const logger = new Logger({ serviceName: "ingest", logLevel: "ERROR" });
  const metrics = new Metrics({ namespace: "RetrainTriggers", serviceName: "ingest" });
  const context = {} as Context;

  // CPU: handler (in-memory stores, a fresh store per run so every run does the full work) vs decode floor.
  // Each batch is generated just before it is measured (not all up front): the heap then holds one batch, as
  // in a Lambda container, and the handler's garbage collection cost is not hidden in a large heap.
  const recordBytes = Buffer.from(makeEvent(nowMs, 0).Records[0]!.kinesis.data, "base64").length;
  const floor: number[] = [];
  const handlerCpu: number[] = [];
  let heapGrowthMb = 0;
  let groups = 0;
  for (let i = 0; i <= REPEATS; i++) {
    const event = makeEvent(nowMs, i + 1);
    let t = cpuNowMs();
    decodeFloor(event);
    const f = cpuNowMs() - t;
    const ingestBatch = createIngestBatch({ models: [model], stores: inMemoryStores(), log: logger });
    const handler = createIngestHandler({
      models: [model],
      stores: inMemoryStores(),
      tools: { logger, metrics },
    });
    const heapBefore = process.memoryUsage().heapUsed;
    t = cpuNowMs();
    await handler(event, context);
    const h = cpuNowMs() - t;
    heapGrowthMb = Math.max(heapGrowthMb, (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20);
    if (i === 0) {
      groups = (await ingestBatch(event)).groups;
      continue; // warm-up
    }
    floor.push(f);
    handlerCpu.push(h);
  }
  const floorMs = median(floor);
  const handlerMs = median(handlerCpu);
  // Under a noisy shared machine the ratio of each back-to-back pair is steadier than a ratio of medians.
  const cpuRatio = median(handlerCpu.map((h, i) => h / floor[i]!));

  // Where the handler's CPU goes: the pure phases, each as a multiple of the decode floor.
  const compiled = compileModels([model]);
  const spec = profileSpecOf(model);
  const phases: Record<string, number[]> = {
    validate: [],
    resolveAndGroup: [],
    buildProfiles: [],
    serialize: [],
  };
  for (let i = 1; i <= PHASE_REPEATS; i++) {
    const event = makeEvent(nowMs, i);
    const f0 = cpuNowMs();
    decodeFloor(event);
    const f = cpuNowMs() - f0;
    const incoming: IncomingRecord[] = event.Records.map((r) => ({
      sequenceNumber: r.kinesis.sequenceNumber,
      arrivalMs: r.kinesis.approximateArrivalTimestamp * 1000,
      data: r.kinesis.data,
    }));
    let t = cpuNowMs();
    const classified = classifyBatch(incoming, compiled);
    phases.validate!.push((cpuNowMs() - t) / f);
    t = cpuNowMs();
    const grouped = groupBatch(resolveBatch(classified, SHARD, indexPredictions([]), compiled), compiled);
    phases.resolveAndGroup!.push((cpuNowMs() - t) / f);
    t = cpuNowMs();
    const contributions = grouped.map((g) => groupContribution(g, spec)!);
    phases.buildProfiles!.push((cpuNowMs() - t) / f);
    t = cpuNowMs();
    for (const c of contributions) serializeProfile(c.profile);
    phases.serialize!.push((cpuNowMs() - t) / f);
  }
  const phaseRatios = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(median(v))]));

  // DynamoDB requests and capacity against dynalite.
  const emu = await startEmulators({ createStream: false });
  let dynamo: Record<string, unknown>;
  try {
    const counter = counting(emu.createDynamoDbClient());
    const handler = createIngestHandler({
      models: [model],
      stores: dynamoDbIngestStores(counter.client, emu.tableName),
      tools: { logger, metrics },
    });
    const event = makeEvent(nowMs, 99, 5_000_000);
    let t = performance.now();
    const first = (await handler(event, context)) as { batchItemFailures: unknown[] };
    const firstWallMs = performance.now() - t;
    const fresh = structuredClone(counter.counts);
    counter.reset();
    t = performance.now();
    await handler(event, context);
    const redeliveryWallMs = performance.now() - t;
    const redelivery = structuredClone(counter.counts);
    // Then the labels of those predictions (no inline prediction: each is joined through the index).
    counter.reset();
    const labelReport = (await handler(makeLabelEvent(nowMs, 99, 6_000_000), context)) as {
      batchItemFailures: unknown[];
    };
    const labels = structuredClone(counter.counts);
    const total = (c: Counts) => Object.values(c.requests).reduce((a, b) => a + b, 0);
    const per1000 = (x: number) => round((x / RECORDS) * 1000);
    dynamo = {
      failures: first.batchItemFailures.length,
      groups,
      requestsPerBatch: total(fresh),
      requestsByCommand: fresh.requests,
      requestsByPurpose: fresh.byPurpose,
      statisticsRequestsPerBatch: fresh.byPurpose.statistics ?? 0,
      statisticsRequestsPerGroup: round((fresh.byPurpose.statistics ?? 0) / groups),
      requestsPer1000Events: per1000(total(fresh)),
      writeUnitsPer1000Events: per1000(fresh.writeUnits),
      readUnitsPer1000Events: per1000(fresh.readUnits),
      writeUnitsByPurpose: Object.fromEntries(
        Object.entries(fresh.writeUnitsByPurpose).map(([k, v]) => [k, round(v)]),
      ),
      statisticsWriteUnitsPerGroup: round((fresh.writeUnitsByPurpose.statistics ?? 0) / groups),
      redeliveryRequests: total(redelivery),
      redeliveryWriteUnits: round(redelivery.writeUnits),
      wallMsAgainstDynalite: round(firstWallMs, 0),
      redeliveryWallMsAgainstDynalite: round(redeliveryWallMs, 0),
      labelBatch: {
        failures: labelReport.batchItemFailures.length,
        requestsByPurpose: labels.byPurpose,
        requestsPer1000Labels: per1000(total(labels)),
        writeUnitsPer1000Labels: per1000(labels.writeUnits),
        readUnitsPer1000Labels: per1000(labels.readUnits),
        writeUnitsByPurpose: Object.fromEntries(
          Object.entries(labels.writeUnitsByPurpose).map(([k, v]) => [k, round(v)]),
        ),
      },
    };
  } finally {
    await emu.stop();
  }

  return {
    records: RECORDS,
    features: FEATURES,
    recordBytes,
    repeats: REPEATS,
    decodeFloorCpuMs: round(floorMs, 1),
    handlerCpuMs: round(handlerMs, 1),
    cpuRatio: round(cpuRatio),
    cpuRatioTarget: 1.5,
    phaseCpuOverFloor: phaseRatios,
    handlerUsPerRecord: round((handlerMs * 1000) / RECORDS),
    dynamodb: dynamo,
    peakRssMb: round(process.resourceUsage().maxRSS / 1024, 0),
    heapGrowthPerBatchMb: round(heapGrowthMb, 1),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await run(), null, 2));
}
