import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../../contracts/time";
import {
  compileModels,
  DEFAULT_VALIDATION_LIMITS,
  parseTimestamp,
  QUARANTINE_REASONS,
  type QuarantineReason,
  validateRecord,
  validateRecordInto,
} from "../../../lambdas/domain/ingest/event-validation";
import { FeatureColumns } from "../../../lambdas/domain/stats/feature-columns";
import { eventData, labelEvent, predictionEvent } from "../../support/events";
import { ingestModel } from "../../support/models";
import { T0 } from "../../support/time";

/** Records arrive at T0; the default label event is observed then. */
const ARRIVAL = T0;
const churn = ingestModel({ labelHorizonHours: 72 });
const models = compileModels([churn, { ...churn, id: "price", task: "regression" }]);

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const json = (v: unknown) => b64(JSON.stringify(v));
const prediction = (over: Record<string, unknown> = {}) =>
  eventData(
    predictionEvent({
      timestamp: "2026-11-27T09:30:00Z",
      features: { tenure: 14, plan: "pro" },
      score: 0.8,
      ...over,
    }),
  );
const label = (over: Record<string, unknown> = {}) => eventData(labelEvent({ label: 0, ...over }));

describe("validateRecord: quarantine reasons", () => {
  const cases: Array<[QuarantineReason, string, string]> = [
    ["invalid-encoding", "not base64", "@@not*base64@@"],
    ["invalid-encoding", "not base64 but of a valid length", "ab*d"],
    ["invalid-encoding", "not UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("base64")],
    ["invalid-json", "not JSON", b64("{type: prediction")],
    ["not-an-object", "JSON array", json([1, 2])],
    ["not-an-object", "JSON string", json("prediction")],
    ["invalid-type", "missing type", prediction({ type: undefined })],
    ["invalid-type", "unknown type", prediction({ type: "feedback" })],
    ["unsupported-schema-version", "version 2", prediction({ schemaVersion: 2 })],
    ["unsupported-schema-version", "missing version", prediction({ schemaVersion: undefined })],
    ["unknown-model", "unknown modelId", prediction({ modelId: "fraud" })],
    ["missing-request-id", "missing requestId", prediction({ requestId: undefined })],
    ["missing-request-id", "empty requestId", label({ requestId: "" })],
    ["invalid-timestamp", "unparseable timestamp", prediction({ timestamp: "yesterday" })],
    ["invalid-timestamp", "ISO without zone", prediction({ timestamp: "2026-11-27T09:30:00" })],
    ["timestamp-in-future", "one hour ahead", prediction({ timestamp: ARRIVAL + HOUR_MS })],
    ["timestamp-too-old", "beyond retention", prediction({ timestamp: "2026-09-01T00:00:00Z" })],
    ["features-not-object", "features array", prediction({ features: [14, "pro"] })],
    ["features-not-object", "features missing", prediction({ features: undefined })],
    ["feature-type-mismatch", "string for numeric", prediction({ features: { tenure: "14" } })],
    ["feature-type-mismatch", "object for categorical", prediction({ features: { plan: { a: 1 } } })],
    ["unknown-feature", "feature not in schema", prediction({ features: { tenure: 1, region: "eu" } })],
    [
      "non-finite-number",
      "NaN literal (Python json.dumps)",
      b64(`{"schemaVersion":1,"features":{"tenure": NaN}}`),
    ],
    ["non-finite-number", "Infinity literal", b64(`{"schemaVersion":1,"score":-Infinity}`)],
    [
      "non-finite-number",
      "overflowing number",
      b64(
        `{"schemaVersion":1,"type":"prediction","modelId":"churn","requestId":"r","timestamp":${ARRIVAL},"features":{"tenure":1e999},"prediction":1}`,
      ),
    ],
    [
      "record-too-large",
      "over the size limit",
      prediction({ pad: "x".repeat(DEFAULT_VALIDATION_LIMITS.maxRecordBytes) }),
    ],
    ["invalid-prediction", "missing prediction", prediction({ prediction: undefined })],
    ["invalid-prediction", "score outside [0,1]", prediction({ score: 1.5 })],
    ["invalid-prediction", "class for regression", prediction({ modelId: "price", prediction: "high" })],
    ["invalid-label", "missing label", label({ label: undefined })],
  ];

  it.each(cases)("%s: %s", (reason, _what, data) => {
    const result = validateRecord(data, ARRIVAL, models);
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.reason).toBe(reason);
    // The ingest's hot path (features written into batch columns) gives the very same verdict.
    const columns = new FeatureColumns(models.get("churn")!.layout, 1);
    expect(validateRecordInto(data, ARRIVAL, models, () => columns)).toEqual(result);
    expect(columns.rows).toBe(0);
  });

  it("has a test case for every reason decided here (the two storage reasons are tested with the repository)", () => {
    const covered = new Set(cases.map((c) => c[0]));
    const storage: QuarantineReason[] = ["duplicate-request-id", "label-without-prediction"];
    expect(QUARANTINE_REASONS.filter((r) => !covered.has(r) && !storage.includes(r))).toEqual([]);
  });

  it("attributes verdicts to the model and event-time bucket when they are known", () => {
    const result = validateRecord(prediction({ features: { tenure: "x" } }), ARRIVAL, models);
    expect(result).toMatchObject({
      ok: false,
      modelId: "churn",
      timestamp: Date.parse("2026-11-27T09:30:00Z"),
    });
    const future = validateRecord(prediction({ timestamp: ARRIVAL + DAY_MS }), ARRIVAL, models);
    expect(future).toMatchObject({ ok: false, modelId: "churn", timestamp: ARRIVAL });
  });
});

describe("validateRecordInto: the ingest's columnar path", () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["all features", { tenure: 14, plan: "pro" }, { tenure: 14, plan: "pro" }],
    ["null and absent features are missing", { plan: null }, { tenure: null, plan: null }],
    ["booleans and numbers become categories", { tenure: 0, plan: true }, { tenure: 0, plan: "true" }],
    ["a number for a categorical feature", { plan: 3.5 }, { tenure: null, plan: "3.5" }],
    ["keys in another order", { plan: "free", tenure: -2.5 }, { tenure: -2.5, plan: "free" }],
  ])("%s", (_what, features, expected) => {
    const columns = new FeatureColumns(models.get("churn")!.layout, 1);
    // A rejected record first: its half-written row must not leak into the next one.
    validateRecordInto(
      prediction({ features: { tenure: 99, plan: "gold", region: "eu" } }),
      ARRIVAL,
      models,
      () => columns,
    );
    const result = validateRecordInto(prediction({ features }), ARRIVAL, models, () => columns);
    const plain = validateRecord(prediction({ features }), ARRIVAL, models);
    expect(result.ok && plain.ok).toBe(true);
    if (!result.ok || result.event.type !== "prediction" || !plain.ok) return;
    const { features: _features, ...rest } = plain.event as { features: unknown };
    expect(result.event).toMatchObject(rest);
    expect(result.event.row).toBe(0);
    expect(columns.valuesOf(result.event.row)).toEqual(expected);
  });
});

describe("validateRecord: valid events", () => {
  it.each([
    ["ISO timestamp", prediction(), Date.parse("2026-11-27T09:30:00Z")],
    ["epoch ms timestamp", prediction({ timestamp: ARRIVAL - 1000 }), ARRIVAL - 1000],
    [
      "ISO with offset",
      prediction({ timestamp: "2026-11-27T11:30:00.250+02:00" }),
      Date.UTC(2026, 10, 27, 9, 30, 0, 250),
    ],
    ["within clock skew", prediction({ timestamp: ARRIVAL + MINUTE_MS }), ARRIVAL + MINUTE_MS],
  ])("accepts %s and normalizes it to epoch ms", (_what, data, expected) => {
    const result = validateRecord(data, ARRIVAL, models);
    expect(result.ok && result.event.timestamp).toBe(expected);
  });

  it("accepts missing (null or absent) features, booleans and numbers for categorical features", () => {
    const result = validateRecord(prediction({ features: { tenure: null, plan: true } }), ARRIVAL, models);
    expect(result.ok && result.event).toMatchObject({
      features: { tenure: null, plan: true },
      prediction: 1,
    });
    expect(validateRecord(prediction({ features: { plan: 3 } }), ARRIVAL, models).ok).toBe(true);
  });

  it("accepts a label carrying its prediction, score and prediction time", () => {
    const result = validateRecord(
      label({ prediction: 1, score: 0.4, predictionTimestamp: "2026-11-27T08:00:00Z" }),
      ARRIVAL,
      models,
    );
    expect(result.ok && result.event).toEqual(
      labelEvent({
        timestamp: ARRIVAL,
        label: 0,
        prediction: 1,
        score: 0.4,
        predictionTimestamp: Date.UTC(2026, 10, 27, 8),
      }),
    );
  });
});

describe("parseTimestamp", () => {
  it.each([
    [1_700_000_000_000, 1_700_000_000_000],
    ["2026-11-27T10:00:00Z", ARRIVAL],
    ["2026-11-27T10:00Z", ARRIVAL],
    ["27/11/2026", undefined],
    [-5, undefined],
    [true, undefined],
  ])("%s -> %s", (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });
});
