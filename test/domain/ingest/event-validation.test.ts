import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../../contracts/time";
import {
  classValue,
  compileModels,
  DEFAULT_VALIDATION_LIMITS,
  type IngestModel,
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
const models = compileModels([
  churn,
  { ...churn, id: "price", task: "regression" },
  { ...churn, id: "yesno", classes: ["no", "yes"] },
  { ...churn, id: "grade", task: "multiclass", classes: ["low", "mid", "high"] },
]);

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
    ["unknown-model", "missing modelId", prediction({ modelId: undefined })],
    ["unknown-model", "modelId not a string", prediction({ modelId: 42 })],
    ["invalid-model-id", "modelId of 3 KB", prediction({ modelId: "m".repeat(3000) })],
    ["invalid-model-id", "modelId of 33 characters", prediction({ modelId: "m".repeat(33) })],
    ["invalid-model-id", "modelId with a key separator", label({ modelId: "churn#PRED#x" })],
    ["invalid-model-id", "modelId with a space", prediction({ modelId: "churn " })],
    ["missing-request-id", "missing requestId", prediction({ requestId: undefined })],
    ["missing-request-id", "empty requestId", label({ requestId: "" })],
    [
      "invalid-request-id",
      "requestId of 3 KB (past the 2 KB key limit)",
      prediction({ requestId: "r".repeat(3000) }),
    ],
    ["invalid-request-id", "requestId of 257 characters", label({ requestId: "r".repeat(257) })],
    ["invalid-request-id", "requestId with a space", prediction({ requestId: "req 1" })],
    ["invalid-request-id", "requestId with a newline", label({ requestId: "req\n1" })],
    ["invalid-request-id", "requestId with a control character", prediction({ requestId: "req\u00001" })],
    ["invalid-request-id", "requestId with non-ASCII letters", prediction({ requestId: "réq-1" })],
    ["invalid-request-id", "requestId with an emoji", label({ requestId: "req-\u{1F600}" })],
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
      "category-too-long",
      "a categorical value of 257 characters",
      prediction({ features: { plan: "p".repeat(257) } }),
    ],
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
    ["invalid-prediction", "object prediction", prediction({ prediction: { class: 1 } })],
    ["invalid-prediction", "label with a score but no prediction", label({ score: 0.3 })],
    ["prediction-not-a-class", '"yes" for a binary model without classes', prediction({ prediction: "yes" })],
    ["prediction-not-a-class", "2 for a binary model without classes", prediction({ prediction: 2 })],
    ["prediction-not-a-class", "a probability as the class", prediction({ prediction: 0.8 })],
    ["prediction-not-a-class", '"true" (a string) without classes', prediction({ prediction: "true" })],
    ["prediction-not-a-class", "undeclared class", prediction({ modelId: "grade", prediction: "top" })],
    ["prediction-not-a-class", "index out of range", prediction({ modelId: "grade", prediction: 3 })],
    ["prediction-not-a-class", "boolean for multiclass", prediction({ modelId: "grade", prediction: true })],
    ["prediction-not-a-class", "a label's junk copy of its prediction", label({ prediction: "banana" })],
    ["invalid-label", "missing label", label({ label: undefined })],
    ["invalid-label", "null label", label({ label: null })],
    ["invalid-label", "array label", label({ label: [1] })],
    ["invalid-label", "class for regression", label({ modelId: "price", label: "high" })],
    ["label-not-a-class", '"yes" for a binary model without classes', label({ label: "yes" })],
    ["label-not-a-class", '"banana"', label({ label: "banana" })],
    ["label-not-a-class", "2 for a binary model without classes", label({ label: 2 })],
    ["label-not-a-class", '"maybe" for classes no/yes', label({ modelId: "yesno", label: "maybe" })],
    ["label-not-a-class", "index 2 of two classes", label({ modelId: "yesno", label: 2 })],
    ["label-not-a-class", "class names are case-sensitive", label({ modelId: "grade", label: "MID" })],
    ["label-not-a-class", "negative index", label({ modelId: "grade", label: -1 })],
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

describe("classValue: which values name a class, and the class stored", () => {
  const reader = (id: string) => compileModels([{ ...churn, id, ...specOf[id] }]).get(id)!.classes!;
  const specOf: Record<string, Partial<IngestModel>> = {
    binary: {},
    yesno: { classes: ["no", "yes"] },
    digits: { classes: ["0", "1"] },
    grade: { task: "multiclass", classes: ["low", "mid", "high"] },
    numbered: { task: "multiclass", classes: ["1", "2", "3"] },
  };
  it.each<[string, unknown, number | string | undefined]>([
    // Binary without declared classes: the existing valid inputs, nothing else.
    ["binary", 0, 0],
    ["binary", 1, 1],
    ["binary", "0", "0"],
    ["binary", "1", "1"],
    ["binary", true, "true"],
    ["binary", false, "false"],
    ["binary", "yes", undefined],
    ["binary", "true", undefined],
    ["binary", 2, undefined],
    ["binary", 0.5, undefined],
    ["binary", -0, 0],
    // Declared names: a name, an index (stored as the name), booleans for binary models.
    ["yesno", "yes", "yes"],
    ["yesno", "no", "no"],
    ["yesno", 1, "yes"],
    ["yesno", 0, "no"],
    ["yesno", true, "yes"],
    ["yesno", false, "no"],
    ["yesno", "Yes", undefined],
    ["yesno", 2, undefined],
    ["yesno", 1.5, undefined],
    // Names written as integers: numbers are names, never indexes.
    ["digits", 1, 1],
    ["digits", "0", "0"],
    ["digits", true, "1"],
    ["digits", 2, undefined],
    ["grade", "mid", "mid"],
    ["grade", 2, "high"],
    ["grade", 3, undefined],
    ["grade", true, undefined],
    ["numbered", 1, 1],
    ["numbered", "3", "3"],
    ["numbered", 0, undefined],
    ["numbered", 4, undefined],
  ])("%s: %j -> %j", (model, value, expected) => {
    expect(classValue(reader(model), value)).toBe(expected);
  });

  it("stores the class a valid event names: an index becomes the class name", () => {
    const result = validateRecord(label({ modelId: "grade", label: 0, prediction: 2 }), ARRIVAL, models);
    expect(result.ok && result.event).toMatchObject({ label: "low", prediction: "high" });
    const bool = validateRecord(prediction({ modelId: "yesno", prediction: true }), ARRIVAL, models);
    expect(bool.ok && bool.event).toMatchObject({ prediction: "yes" });
  });

  it("names the accepted classes in the detail, and cuts long values", () => {
    const result = validateRecord(label({ modelId: "grade", label: "x".repeat(500) }), ARRIVAL, models);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.detail).toMatch(
      /^label "x{59}\.\.\.\(502 characters\) is not a class of the model \(one of \["low","mid","high"\]\)$/,
    );
  });
});

describe("validateRecord: ids that reach keys are bounded", () => {
  it.each([
    ["a UUID", "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"],
    ["256 characters", "r".repeat(256)],
    ["key separators and punctuation", "tenant#42:req/7?a=b&c=d~!"],
    ["base64", "q83vEjRWeJA+/w=="],
  ])("accepts a requestId of %s", (_what, requestId) => {
    expect(validateRecord(prediction({ requestId }), ARRIVAL, models).ok).toBe(true);
    expect(validateRecord(label({ requestId }), ARRIVAL, models).ok).toBe(true);
  });

  it("says how long a too-long requestId is, without echoing it", () => {
    const result = validateRecord(prediction({ requestId: "r".repeat(3000) }), ARRIVAL, models);
    expect(result).toMatchObject({
      ok: false,
      reason: "invalid-request-id",
      detail: "requestId has 3000 characters (at most 256)",
      modelId: "churn",
    });
  });

  it("keeps a malformed modelId out of the verdict's model attribution, and cuts it in the detail", () => {
    const result = validateRecord(prediction({ modelId: "m".repeat(3000) }), ARRIVAL, models);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.modelId).toBeUndefined();
    expect(result.detail.length).toBeLessThan(150);
  });
});

describe("validateRecordInto: the ingest's columnar path", () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["all features", { tenure: 14, plan: "pro" }, { tenure: 14, plan: "pro" }],
    ["null and absent features are missing", { plan: null }, { tenure: null, plan: null }],
    ["booleans and numbers become categories", { tenure: 0, plan: true }, { tenure: 0, plan: "true" }],
    ["a number for a categorical feature", { plan: 3.5 }, { tenure: null, plan: "3.5" }],
    ["keys in another order", { plan: "free", tenure: -2.5 }, { tenure: -2.5, plan: "free" }],
    ["a category of the longest length", { plan: "p".repeat(256) }, { tenure: null, plan: "p".repeat(256) }],
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

  // The fast path for the common form must agree with the regular expression and Date.parse.
  const general = (s: string): number | undefined => {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/.test(s))
      return undefined;
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? undefined : ms;
  };
  it.each([
    "2026-11-27T10:00:00.000Z",
    "2026-11-27T23:59:59.999Z",
    "2026-11-27T00:00:00.001Z",
    "2024-02-29T12:30:45.678Z", // a leap day
    "2026-02-29T12:30:45.678Z", // no such day
    "2026-13-01T00:00:00.000Z",
    "2026-11-31T00:00:00.000Z",
    "2026-11-27T24:00:00.000Z", // hour 24: the general path
    "2026-11-27T10:60:00.000Z",
    "2026-11-27T10:00:60.000Z",
    "2026-11-27T1a:00:00.000Z",
    "2026-11-27T10:00:00.00aZ",
    "2026-11-27X10:00:00.000Z",
    "2026/11/27T10:00:00.000Z",
    "+02026-11-27T10:00:00.00Z",
    "1970-01-01T00:00:00.000Z",
    "0000-01-01T00:00:00.000Z",
    "2026-11-27T10:00:00.000+01:00",
  ])("%s: the same as the general parse", (input) => {
    expect(parseTimestamp(input)).toBe(general(input));
    // Twice: the second read comes from the cached day.
    expect(parseTimestamp(input)).toBe(general(input));
  });
});
