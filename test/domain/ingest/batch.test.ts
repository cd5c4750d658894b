import { describe, expect, it } from "vitest";
import { profileSpecOf } from "../../../contracts/model";
import { DAY_MS, HOUR_MS as HOUR, MINUTE_MS } from "../../../contracts/time";
import {
  accountBatch,
  bucketStartOf,
  classifyBatch,
  groupBatch,
  groupContribution,
  type IncomingRecord,
  indexPredictions,
  labelLookups,
  predictionLookups,
  resolveBatch,
  type StoredLabel,
  type StoredPrediction,
} from "../../../lambdas/domain/ingest/batch";
import { compileModels } from "../../../lambdas/domain/ingest/event-validation";
import { emptyProfile } from "../../../lambdas/domain/stats/profile";
import { serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { addOutcome, addPrediction } from "../../../lambdas/domain/stats/profile-update";
import { eventData, labelEvent, predictionEvent, SHARD_ID } from "../../support/events";
import { ingestModel } from "../../support/models";
import { T0 } from "../../support/time";

const spec = ingestModel();
const models = compileModels([spec, { ...spec, id: "fraud" }]);

let nextSeq = 100;
const record = (event: object | string, arrivalMs = T0 + 2 * HOUR): IncomingRecord => ({
  sequenceNumber: String(nextSeq++),
  arrivalMs,
  data: eventData(event),
});
const prediction = (requestId: string, timestamp: number, over: Record<string, unknown> = {}) =>
  record(
    predictionEvent({ requestId, timestamp, features: { tenure: 3, plan: "pro" }, score: 0.7, ...over }),
  );
const label = (requestId: string, timestamp: number, over: Record<string, unknown> = {}) =>
  record(labelEvent({ requestId, timestamp, ...over }), Math.max(T0 + 2 * HOUR, timestamp));

const resolve = (records: IncomingRecord[], stored: StoredPrediction[] = []) =>
  resolveBatch(classifyBatch(records, models), SHARD_ID, indexPredictions(stored), models);
const fates = (records: IncomingRecord[], stored: StoredPrediction[] = []) =>
  resolve(records, stored).map((r) =>
    r.disposition.kind === "quarantine" ? r.disposition.reason : r.disposition.kind,
  );
const padded = (sequenceNumber: string) => sequenceNumber.padStart(64, "0");
const storedLabel = (requestId: string, over: Partial<StoredLabel> = {}): StoredLabel => ({
  modelId: "churn",
  requestId,
  shardId: SHARD_ID,
  seq: padded("1"),
  ...over,
});
const storedPrediction = (requestId: string, over: Partial<StoredPrediction> = {}): StoredPrediction => ({
  modelId: "churn",
  requestId,
  prediction: 0,
  score: 0.2,
  timestamp: T0,
  shardId: SHARD_ID,
  seq: `${"0".repeat(62)}01`,
  ...over,
});

describe("bucketStartOf", () => {
  it.each([
    [T0, 60, T0],
    [T0 + 59 * MINUTE_MS, 60, T0],
    [T0 + 61 * MINUTE_MS, 60, T0 + HOUR],
    [T0 + 7 * MINUTE_MS, 5, T0 + 5 * MINUTE_MS],
  ])("%i with %i-minute buckets -> %i", (t, minutes, expected) => {
    expect(bucketStartOf(t, minutes)).toBe(expected);
  });
});

describe("resolveBatch: storage-dependent verdicts", () => {
  it.each<[string, () => IncomingRecord[], StoredPrediction[], string[]]>([
    [
      "duplicate requestId in one batch",
      () => [prediction("a", T0), prediction("a", T0)],
      [],
      ["prediction", "duplicate-request-id"],
    ],
    [
      "duplicate of a stored prediction (other shard)",
      () => [prediction("a", T0)],
      [storedPrediction("a", { shardId: "shardId-9" })],
      ["duplicate-request-id"],
    ],
    [
      "own earlier write seen on redelivery is not a duplicate",
      () => [prediction("a", T0)],
      [storedPrediction("a", { seq: "9".repeat(64) })],
      ["prediction"],
    ],
    [
      "label joined with a stored prediction",
      () => [label("a", T0 + HOUR)],
      [storedPrediction("a")],
      ["outcome"],
    ],
    [
      "label joined with an earlier prediction of the batch",
      () => [prediction("a", T0), label("a", T0 + HOUR)],
      [],
      ["prediction", "outcome"],
    ],
    [
      "label before its prediction in the stream",
      () => [label("a", T0 + HOUR), prediction("a", T0)],
      [],
      ["label-without-prediction", "prediction"],
    ],
    ["label with no prediction anywhere", () => [label("zzz", T0 + HOUR)], [], ["label-without-prediction"]],
    [
      "label after the horizon",
      () => [label("a", T0 + 25 * HOUR)],
      [storedPrediction("a")],
      ["label-without-prediction"],
    ],
    [
      "stored prediction written by a later record of the shard is ignored",
      () => [label("a", T0 + HOUR)],
      [storedPrediction("a", { seq: "9".repeat(64) })],
      ["label-without-prediction"],
    ],
    [
      "label carrying prediction and time needs no lookup",
      () => [label("b", T0 + HOUR, { prediction: 1, score: 0.9, predictionTimestamp: T0 })],
      [],
      ["outcome"],
    ],
  ])("%s", (_what, records, stored, expected) => {
    expect(fates(records(), stored)).toEqual(expected);
  });

  it("marks a prediction already indexed by this very record (redelivery) so it is not written again", () => {
    const records = [prediction("a", T0), prediction("b", T0)];
    const first = records[0]!;
    const own = storedPrediction("a", { seq: first.sequenceNumber.padStart(64, "0") });
    const indexed = resolve(records, [own]).map(
      (r) => r.disposition.kind === "prediction" && r.disposition.indexed === true,
    );
    expect(indexed).toEqual([true, false]);
  });

  it.each<[string, () => IncomingRecord[], (first: IncomingRecord) => StoredLabel[], string[]]>([
    [
      "a label resent in the same batch counts once",
      () => [label("a", T0 + HOUR), label("a", T0 + HOUR)],
      () => [],
      ["outcome", "duplicate-request-id"],
    ],
    [
      "a label already counted by an earlier record (marker) is a duplicate",
      () => [label("a", T0 + HOUR)],
      () => [storedLabel("a", { seq: padded("1") })],
      ["duplicate-request-id"],
    ],
    [
      "a label already counted on another shard is a duplicate",
      () => [label("a", T0 + HOUR)],
      () => [storedLabel("a", { shardId: "shardId-9", seq: "9".repeat(64) })],
      ["duplicate-request-id"],
    ],
    [
      "a marker written by a later record of the shard (failed attempt) is ignored",
      () => [label("a", T0 + HOUR)],
      () => [storedLabel("a", { seq: "9".repeat(64) })],
      ["outcome"],
    ],
    [
      "the label's own marker (redelivery) is not a duplicate",
      () => [label("a", T0 + HOUR)],
      (first) => [storedLabel("a", { seq: padded(first.sequenceNumber) })],
      ["outcome"],
    ],
    [
      "a rejected label does not block a later one",
      () => [label("a", T0 + 30 * HOUR), label("a", T0 + HOUR)],
      () => [],
      ["label-without-prediction", "outcome"],
    ],
  ])("label markers: %s", (_what, records, markers, expected) => {
    const batch = records();
    const resolved = resolveBatch(
      classifyBatch(batch, models),
      SHARD_ID,
      indexPredictions([storedPrediction("a")]),
      models,
      indexPredictions(markers(batch[0]!)),
    );
    expect(
      resolved.map((r) => (r.disposition.kind === "quarantine" ? r.disposition.reason : r.disposition.kind)),
    ).toEqual(expected);
  });

  it("a duplicate's detail names the record it duplicates, found in the batch or in storage (after a retry)", () => {
    const [p1, p2, l1, l2] = [
      prediction("d", T0),
      prediction("d", T0),
      label("d", T0 + HOUR),
      label("d", T0 + HOUR),
    ];
    const detail = (r: { disposition: { kind: string; detail?: string } }) => r.disposition.detail;
    const whole = resolve([p1!, p2!, l1!, l2!]);
    const storedFirst = storedPrediction("d", { seq: padded(p1!.sequenceNumber) });
    // A retry from the second prediction: the first prediction and the first label are in storage.
    const retried = resolveBatch(
      classifyBatch([p2!, l2!], models),
      SHARD_ID,
      indexPredictions([storedFirst]),
      models,
      indexPredictions([storedLabel("d", { seq: padded(l1!.sequenceNumber) })]),
    );
    expect(detail(whole[1]!)).toBe(`requestId already predicted by ${SHARD_ID}/${p1!.sequenceNumber}`);
    expect(detail(whole[3]!)).toBe(`label already counted by ${SHARD_ID}/${l1!.sequenceNumber}`);
    expect(retried.map(detail)).toEqual([detail(whole[1]!), detail(whole[3]!)]);
  });

  it("marks a label whose own marker is stored (redelivery) so it is not written again", () => {
    const records = [label("a", T0 + HOUR), label("b", T0 + HOUR)];
    const own = storedLabel("a", { seq: padded(records[0]!.sequenceNumber) });
    const resolved = resolveBatch(
      classifyBatch(records, models),
      SHARD_ID,
      indexPredictions([storedPrediction("a"), storedPrediction("b")]),
      models,
      indexPredictions([own]),
    );
    expect(resolved.map((r) => r.disposition.kind === "outcome" && r.disposition.marked === true)).toEqual([
      true,
      false,
    ]);
  });

  it("a model without the prediction index is never looked up; its labels join within the batch only", () => {
    const noIndex = compileModels([{ ...spec, predictionIndex: false }]);
    const records = [
      prediction("a", T0),
      label("a", T0 + HOUR),
      label("z", T0 + HOUR),
      label("c", T0 + HOUR, { prediction: 1, predictionTimestamp: T0 }),
    ];
    const classified = classifyBatch(records, noIndex);
    expect(predictionLookups(classified, noIndex)).toEqual([]);
    expect(labelLookups(classified, noIndex)).toEqual([]);
    const resolved = resolveBatch(classified, SHARD_ID, new Map(), noIndex);
    expect(resolved.map((r) => r.disposition.kind)).toEqual([
      "prediction",
      "outcome",
      "quarantine",
      "outcome",
    ]);
    expect(resolved[2]!.disposition).toMatchObject({
      reason: "label-without-prediction",
      detail: expect.stringContaining("prediction index is off"),
    });
  });

  it("looks up predictions and labels without inline prediction, once per key", () => {
    const records = [
      prediction("a", T0),
      prediction("a", T0),
      label("b", T0),
      label("c", T0, { prediction: 1, predictionTimestamp: T0 }),
    ];
    expect(predictionLookups(classifyBatch(records, models))).toEqual([
      { modelId: "churn", requestId: "a" },
      { modelId: "churn", requestId: "b" },
    ]);
    expect(labelLookups(classifyBatch([...records, label("b", T0)], models))).toEqual([
      { modelId: "churn", requestId: "b" },
      { modelId: "churn", requestId: "c" },
    ]);
  });
});

describe("groupBatch and groupContribution", () => {
  it("groups by model and event-time bucket; a label goes to its prediction's bucket", () => {
    const records = [
      prediction("a", T0 + 5 * MINUTE_MS),
      prediction("b", T0 + HOUR + 1),
      prediction("c", T0 + 10, { modelId: "fraud" }),
      label("a", T0 + 2 * HOUR),
      prediction("d", T0, { features: { tenure: "x" } }),
      record("not json"),
    ];
    const groups = groupBatch(resolve(records), models);
    const shape = groups.map((g) => [
      g.modelId,
      (g.bucketStart - T0) / HOUR,
      g.entries.map((e) => e.disposition.kind),
    ]);
    expect(shape).toEqual([
      ["churn", 0, ["prediction", "outcome", "quarantine"]],
      ["churn", 1, ["prediction"]],
      ["fraud", 0, ["prediction"]],
    ]);
  });

  it("equals a direct profile computation and skips records at or below the watermark", () => {
    const records = [
      prediction("a", T0),
      prediction("b", T0, { features: { tenure: 9, plan: null } }),
      label("a", T0 + 1),
    ];
    const [group] = groupBatch(resolve(records), models);
    const expected = emptyProfile(profileSpecOf(spec));
    addPrediction(expected, { features: { tenure: 3, plan: "pro" }, prediction: 1, score: 0.7 });
    addPrediction(expected, { features: { tenure: 9, plan: null }, prediction: 1, score: 0.7 });
    addOutcome(expected, { prediction: 1, score: 0.7, label: 1 });
    const full = groupContribution(group!, profileSpecOf(spec));
    expect(serializeProfile(full!.profile)).toBe(serializeProfile(expected));
    expect(full).toMatchObject({ received: 3, applied: 3, lastSeq: group!.entries[2]!.seq });

    const rest = groupContribution(group!, profileSpecOf(spec), group!.entries[1]!.seq);
    expect(rest).toMatchObject({ received: 1, applied: 1 });
    expect(rest!.profile.labelled).toBe(1);
    expect(rest!.profile.count).toBe(0);
    expect(groupContribution(group!, profileSpecOf(spec), group!.entries[2]!.seq)).toBeUndefined();
  });

  it("a record rejected halfway through its features leaves nothing in the next valid record's row", () => {
    const records = [
      // Written tenure = 50 and plan = "gold" before the unknown feature rejected it.
      prediction("x", T0, { features: { tenure: 50, plan: "gold", region: "eu" } }),
      prediction("y", T0, { features: { tenure: 60, plan: "gold" }, score: 2 }),
      prediction("a", T0, { features: {} }),
      prediction("b", T0, { features: { plan: null } }),
      prediction("c", T0, { features: { tenure: null } }),
    ];
    const [group] = groupBatch(resolve(records), models);
    const expected = emptyProfile(profileSpecOf(spec));
    const listed: Array<Record<string, null>> = [{}, { plan: null }, { tenure: null }];
    for (const features of listed) addPrediction(expected, { features, prediction: 1, score: 0.7 });
    const c = groupContribution(group!, profileSpecOf(spec));
    expect(c!.profile.features.tenure).toMatchObject({ count: 0, missing: 3 });
    expect(c!.profile.features.plan).toMatchObject({ count: 0, missing: 3 });
    expect(serializeProfile(c!.profile)).toBe(serializeProfile(expected));
  });

  it("counts attributed quarantine verdicts per reason", () => {
    const records = [prediction("a", T0, { features: { region: "eu" } }), prediction("b", T0, { score: 3 })];
    const [group] = groupBatch(resolve(records), models);
    expect(groupContribution(group!, profileSpecOf(spec))).toMatchObject({
      received: 2,
      quarantined: { "unknown-feature": 1, "invalid-prediction": 1 },
    });
  });
});

describe("accountBatch: conservation", () => {
  it("records in = aggregated + quarantined, and every attributed record is in exactly one group", () => {
    const records = [
      prediction("a", T0),
      prediction("a", T0),
      label("a", T0 + 1),
      label("q", T0 + 1),
      record("[1]"),
      record({ schemaVersion: 1, type: "prediction", modelId: "nope" }),
      prediction("b", T0 + 3 * HOUR),
      prediction("c", T0 - 90 * DAY_MS),
    ];
    const resolved = resolve(records);
    const acc = accountBatch(resolved);
    expect(acc).toEqual({
      records: 8,
      predictions: 1,
      outcomes: 1,
      quarantined: 6,
      byReason: {
        "duplicate-request-id": 1,
        "label-without-prediction": 1,
        "not-an-object": 1,
        "unknown-model": 1,
        "timestamp-in-future": 1,
        "timestamp-too-old": 1,
      },
      unattributed: 2,
    });
    expect(acc.predictions + acc.outcomes + acc.quarantined).toBe(acc.records);
    const grouped = groupBatch(resolved, models).reduce((n, g) => n + g.entries.length, 0);
    expect(grouped + acc.unattributed).toBe(acc.records);
  });
});
