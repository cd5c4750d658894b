/**
 * The profile codec (format version 3; versions 1 and 2 are still read): compact JSON with features and
 * categories in sorted order, so equal profiles serialize to equal strings; sketches are sketch.ts's
 * compact strings, score histograms base64 varint blobs. Decoding validates everything and throws
 * ProfileFormatError naming the field.
 *
 * Versions 1 and 2 held the earlier numeric sketch, a floating-point grid. Their numeric summaries are read
 * into the current types: the grid's cells become the same blocks of the current sketch (an exact
 * conversion, `numericSketchFromGrid`), marked legacy when the grid had coarsened, so that drift computed on
 * them reports its error bound as unknown (NaN); M2 becomes the scaled M2 (moments.ts). They are written
 * back as version 3.
 */
import type { TaskType } from "../../../contracts/model";
import { momentScaleFor } from "./moments";
import {
  type FeatureSummary,
  type PerformanceStats,
  PROFILE_VERSION,
  type Profile,
  ProfileFormatError,
} from "./profile";
import {
  deserializeScoreSketch,
  deserializeSketch,
  numericSketchFromGrid,
  type Sketch,
  SketchFormatError,
  scoreSketchFromGrid,
  serializeSketch,
  sketchCount,
  sketchMax,
  sketchMin,
} from "./sketch";

class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  /** Unsigned varint for non-negative integers up to 2^53. */
  uvarint(v: number): void {
    this.ensure(8);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.len++] = x;
  }
  svarint(v: number): void {
    this.uvarint(v < 0 ? -2 * v - 1 : 2 * v);
  }
  f64(v: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.len, v, true);
    this.len += 8;
  }
  base64(): string {
    return Buffer.from(this.buf.subarray(0, this.len)).toString("base64");
  }
}

class ByteReader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw new ProfileFormatError("truncated varint in binary blob");
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 0x80;
    }
    throw new ProfileFormatError("varint too long in binary blob");
  }
  svarint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  f64(): number {
    if (this.pos + 8 > this.buf.length) throw new ProfileFormatError("truncated float in binary blob");
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
}

function decodeBlob(b64: unknown, where: string): ByteReader {
  if (typeof b64 !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw new ProfileFormatError(`${where}: expected a base64 string`);
  }
  return new ByteReader(new Uint8Array(Buffer.from(b64, "base64")));
}

/** Largest level of the format-1/2 grid (one cell per binary octave). */
const GRID_MAX_LEVEL = 21;

/**
 * The cells of a format-1/2 grid sketch as [key, count] pairs, validated as that format's decoder did: at
 * level 0 float64 values in increasing order, above signed varint deltas of the cell codes (the high word
 * of the float64 with the low level - 1 bits cleared, shifted), positive counts, at most `capacity` cells
 * below the coarsest level.
 */
function decodeGrid(b64: unknown, level: number, capacity: number, where: string): Array<[number, number]> {
  const r = decodeBlob(b64, where);
  const cells: Array<[number, number]> = [];
  let prev = 0;
  let last = Number.NEGATIVE_INFINITY;
  while (!r.done) {
    let key: number;
    let order: number;
    if (level === 0) {
      key = r.f64();
      if (!Number.isFinite(key)) throw new ProfileFormatError(`${where}: non-finite sketch value`);
      order = key;
    } else {
      prev += r.svarint();
      key = (prev << (level - 1)) | 0;
      order = prev;
    }
    if (!(order > last) || Object.is(order, -0))
      throw new ProfileFormatError(`${where}: sketch cells out of order`);
    last = order;
    const count = r.uvarint();
    if (count < 1) throw new ProfileFormatError(`${where}: invalid sketch cell`);
    cells.push([key, count]);
  }
  if (cells.length > capacity && level < GRID_MAX_LEVEL)
    throw new ProfileFormatError(`${where}: more cells than capacity`);
  return cells;
}

function encodeHistogram(m: Map<number, number>): string {
  const w = new ByteWriter();
  let prev = 0;
  for (const key of [...m.keys()].sort((x, y) => x - y)) {
    w.svarint(key - prev);
    w.uvarint(m.get(key)!);
    prev = key;
  }
  return w.base64();
}

function decodeHistogram(b64: unknown, where: string): Map<number, number> {
  const r = decodeBlob(b64, where);
  const m = new Map<number, number>();
  let prev = 0;
  let first = true;
  while (!r.done) {
    const delta = r.svarint();
    if (!first && delta <= 0) throw new ProfileFormatError(`${where}: histogram bins out of order`);
    first = false;
    prev += delta;
    m.set(prev, r.uvarint());
  }
  return m;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function encodeSummary(s: FeatureSummary): Json {
  if (s.kind === "numeric") {
    // The sketch holds the exact minimum and maximum (and the moment scale follows from them).
    return ["n", s.count, s.missing, s.invalid, s.mean, s.scaledM2, serializeSketch(s.sketch)];
  }
  const counts: Record<string, number> = {};
  for (const c of [...s.counts.keys()].sort()) counts[c] = s.counts.get(c)!;
  return ["c", s.count, s.missing, s.invalid, s.topK, s.level, s.other, counts];
}

function encodePerformance(p: PerformanceStats): Json {
  switch (p.task) {
    case "binary":
      return [
        p.positive,
        p.n,
        p.tp,
        p.fp,
        p.tn,
        p.fn,
        p.scored,
        p.logLossSum,
        p.brierSum,
        encodeHistogram(p.positiveScores),
        encodeHistogram(p.negativeScores),
        p.invalid,
        p.logLossSquaredSum ?? null,
        p.brierSquaredSum ?? null,
      ];
    case "multiclass":
      return [p.n, p.confusion, p.probabilityN, p.logLossSum, p.invalid, p.logLossSquaredSum ?? null];
    case "regression":
      return [
        p.n,
        p.absErrorSum,
        p.squaredErrorSum,
        p.absPercentErrorSum,
        p.absPercentN,
        p.invalid,
        p.fourthPowerErrorSum ?? null,
        p.absPercentErrorSquaredSum ?? null,
      ];
  }
}

/** Serialize to a compact JSON string (format version 3). Category and feature order are canonical. */
export function serializeProfile(p: Profile): string {
  const features: Record<string, Json> = {};
  for (const name of Object.keys(p.features).sort()) features[name] = encodeSummary(p.features[name]!);
  const doc: Record<string, Json> = {
    v: PROFILE_VERSION,
    t: p.task,
    n: p.count,
    l: p.labelled,
    f: features,
    p: encodeSummary(p.prediction),
    r: encodePerformance(p.performance),
  };
  if (p.score) doc.s = encodeSummary(p.score);
  return JSON.stringify(doc);
}

function fail(where: string, what: string): never {
  throw new ProfileFormatError(`${where}: ${what}`);
}

function count(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    fail(where, "expected a non-negative integer");
  return v;
}

/** A finite number; -0 is read as 0, since serialization writes -0 as 0 (so a profile round-trips). */
function finite(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(where, "expected a finite number");
  return v === 0 ? 0 : v;
}

function array(v: unknown, length: number, where: string): unknown[] {
  if (!Array.isArray(v) || v.length !== length) fail(where, `expected an array of ${length} elements`);
  return v;
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, "expected an object");
  return v as Record<string, unknown>;
}

/** Which sketch a numeric summary holds: the score summary has a score sketch. */
type SketchKind = "numeric" | "score";

/** A sketch decoding failure as the profile's format error, naming the field. */
function sketchField<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof SketchFormatError) fail(where, err.message);
    throw err;
  }
}

/** A numeric summary around a decoded sketch, with the extremes and moment scale it implies. */
function numericSummary(
  count: number,
  missing: number,
  invalid: number,
  mean: number,
  m2: number,
  scaled: boolean,
  sketch: Sketch,
  where: string,
): FeatureSummary {
  if (sketchCount(sketch) !== count) fail(`${where}.sketch`, "cell counts do not add up to count");
  if (m2 < 0) fail(`${where}.m2`, "must be non-negative");
  const min = count === 0 ? Number.POSITIVE_INFINITY : sketchMin(sketch);
  const max = count === 0 ? Number.NEGATIVE_INFINITY : sketchMax(sketch);
  const momentScale = count === 0 ? 0 : momentScaleFor(Math.max(Math.abs(min), Math.abs(max)));
  return {
    kind: "numeric",
    count,
    missing,
    invalid,
    mean,
    scaledM2: scaled ? m2 : m2 * 2 ** (-2 * momentScale),
    momentScale,
    min,
    max,
    sketch,
  };
}

function decodeSummary(v: unknown, where: string, version: number, sketchKind: SketchKind): FeatureSummary {
  if (!Array.isArray(v)) fail(where, "expected a summary array");
  if (v[0] === "n" && version >= 3) {
    const a = array(v, 7, where);
    const sketch = sketchField(`${where}.sketch`, () =>
      sketchKind === "score" ? deserializeScoreSketch(a[6]) : deserializeSketch(a[6]),
    );
    return numericSummary(
      count(a[1], `${where}.count`),
      count(a[2], `${where}.missing`),
      count(a[3], `${where}.invalid`),
      finite(a[4], `${where}.mean`),
      finite(a[5], `${where}.m2`),
      true,
      sketch,
      where,
    );
  }
  if (v[0] === "n") {
    // Versions 1 and 2: [..., mean, m2, min, max, level, capacity, grid cells].
    const a = array(v, 11, where);
    const n = count(a[1], `${where}.count`);
    const level = count(a[8], `${where}.level`);
    if (level > GRID_MAX_LEVEL) fail(`${where}.level`, "out of range");
    const capacity = count(a[9], `${where}.capacity`);
    if (capacity < 1) fail(`${where}.capacity`, "must be positive");
    const cells = decodeGrid(a[10], level, capacity, `${where}.sketch`);
    const min = n === 0 ? 0 : finite(a[6], `${where}.min`);
    const max = n === 0 ? 0 : finite(a[7], `${where}.max`);
    const sketch = sketchField(`${where}.sketch`, () =>
      sketchKind === "score"
        ? scoreSketchFromGrid(level, cells, min, max)
        : numericSketchFromGrid(level, cells, min, max),
    );
    return numericSummary(
      n,
      count(a[2], `${where}.missing`),
      count(a[3], `${where}.invalid`),
      finite(a[4], `${where}.mean`),
      finite(a[5], `${where}.m2`),
      false,
      sketch,
      where,
    );
  }
  if (v[0] === "c") {
    const a = array(v, 8, where);
    const counts = new Map<string, number>();
    let total = count(a[6], `${where}.other`);
    for (const [c, n] of Object.entries(record(a[7], `${where}.counts`))) {
      counts.set(c, count(n, `${where}.counts.${c}`));
      total += n as number;
    }
    const n = count(a[1], `${where}.count`);
    if (total !== n) fail(where, "category counts do not add up to count");
    const level = count(a[5], `${where}.level`);
    if (level > 31) fail(`${where}.level`, "out of range");
    return {
      kind: "categorical",
      count: n,
      missing: count(a[2], `${where}.missing`),
      invalid: count(a[3], `${where}.invalid`),
      topK: count(a[4], `${where}.topK`),
      level,
      counts,
      other: count(a[6], `${where}.other`),
    };
  }
  fail(where, "unknown summary kind");
}

/**
 * An optional sum appended in format version 2 (null or absent: unknown, e.g. merged with a version-1
 * profile); as a field to spread.
 */
function optionalFinite<K extends string>(name: K, v: unknown, where: string): { [P in K]?: number } {
  if (v === undefined || v === null) return {};
  return { [name]: finite(v, `${where}.${name}`) } as { [P in K]?: number };
}

function decodePerformance(task: TaskType, v: unknown, where: string, version: number): PerformanceStats {
  // Version 2 appended sums of squares to each task's array; version 1 arrays are read without them.
  const extra = (v1Length: number, v2Length: number): number => (version >= 2 ? v2Length : v1Length);
  switch (task) {
    case "binary": {
      const a = array(v, extra(12, 14), where);
      if (typeof a[0] !== "string") fail(`${where}.positive`, "expected a string");
      return {
        task,
        positive: a[0],
        n: count(a[1], `${where}.n`),
        tp: count(a[2], `${where}.tp`),
        fp: count(a[3], `${where}.fp`),
        tn: count(a[4], `${where}.tn`),
        fn: count(a[5], `${where}.fn`),
        scored: count(a[6], `${where}.scored`),
        logLossSum: finite(a[7], `${where}.logLossSum`),
        brierSum: finite(a[8], `${where}.brierSum`),
        positiveScores: decodeHistogram(a[9], `${where}.positiveScores`),
        negativeScores: decodeHistogram(a[10], `${where}.negativeScores`),
        invalid: count(a[11], `${where}.invalid`),
        ...optionalFinite("logLossSquaredSum", a[12], where),
        ...optionalFinite("brierSquaredSum", a[13], where),
      };
    }
    case "multiclass": {
      const a = array(v, extra(5, 6), where);
      const confusion: Record<string, Record<string, number>> = {};
      for (const [label, row] of Object.entries(record(a[1], `${where}.confusion`))) {
        const out: Record<string, number> = {};
        for (const [pred, n] of Object.entries(record(row, `${where}.confusion.${label}`))) {
          out[pred] = count(n, `${where}.confusion.${label}.${pred}`);
        }
        confusion[label] = out;
      }
      return {
        task,
        n: count(a[0], `${where}.n`),
        confusion,
        probabilityN: count(a[2], `${where}.probabilityN`),
        logLossSum: finite(a[3], `${where}.logLossSum`),
        invalid: count(a[4], `${where}.invalid`),
        ...optionalFinite("logLossSquaredSum", a[5], where),
      };
    }
    case "regression": {
      const a = array(v, extra(6, 8), where);
      return {
        task,
        n: count(a[0], `${where}.n`),
        absErrorSum: finite(a[1], `${where}.absErrorSum`),
        squaredErrorSum: finite(a[2], `${where}.squaredErrorSum`),
        absPercentErrorSum: finite(a[3], `${where}.absPercentErrorSum`),
        absPercentN: count(a[4], `${where}.absPercentN`),
        invalid: count(a[5], `${where}.invalid`),
        ...optionalFinite("fourthPowerErrorSum", a[6], where),
        ...optionalFinite("absPercentErrorSquaredSum", a[7], where),
      };
    }
  }
}

/** Parse and validate a serialized profile. Throws `ProfileFormatError` naming what is wrong. */
export function deserializeProfile(s: string): Profile {
  let doc: unknown;
  try {
    doc = JSON.parse(s);
  } catch (err) {
    throw new ProfileFormatError(`profile is not valid JSON: ${(err as Error).message}`);
  }
  const d = record(doc, "profile");
  if (d.v !== 1 && d.v !== 2 && d.v !== PROFILE_VERSION)
    fail("profile.v", `unsupported profile version ${JSON.stringify(d.v)}`);
  const version = d.v;
  const task = d.t;
  if (task !== "binary" && task !== "multiclass" && task !== "regression") fail("profile.t", "unknown task");
  const features: Record<string, FeatureSummary> = {};
  for (const [name, enc] of Object.entries(record(d.f, "profile.f"))) {
    if (name === "__proto__") fail("profile.f", "invalid feature name __proto__");
    features[name] = decodeSummary(enc, `profile.f.${name}`, version, "numeric");
  }
  const profile: Profile = {
    version: PROFILE_VERSION,
    task,
    count: count(d.n, "profile.n"),
    labelled: count(d.l, "profile.l"),
    features,
    prediction: decodeSummary(d.p, "profile.p", version, "numeric"),
    performance: decodePerformance(task, d.r, "profile.r", version),
  };
  if (d.s !== undefined) {
    const score = decodeSummary(d.s, "profile.s", version, "score");
    if (score.kind !== "numeric") fail("profile.s", "score summary must be numeric");
    profile.score = score;
  }
  return profile;
}

/** A profile's labelled outcomes without its feature statistics: what the performance signal reads. */
export interface ProfileOutcomes {
  readonly task: TaskType;
  /** Prediction events profiled. */
  readonly count: number;
  /** Labelled pairs. */
  readonly labelled: number;
  readonly performance: PerformanceStats;
}

/**
 * The outcomes part of a profile, serialized on its own (`{"v","t","n","l","r"}`, the same fields as the
 * profile) so a reader of label coverage and performance need not parse every feature sketch.
 */
export function serializeOutcomes(p: Profile): string {
  return JSON.stringify({
    v: PROFILE_VERSION,
    t: p.task,
    n: p.count,
    l: p.labelled,
    r: encodePerformance(p.performance),
  });
}

/** Parse serialized outcomes; throws ProfileFormatError naming what is wrong. */
export function deserializeOutcomes(s: string): ProfileOutcomes {
  let doc: unknown;
  try {
    doc = JSON.parse(s);
  } catch (err) {
    throw new ProfileFormatError(`outcomes are not valid JSON: ${(err as Error).message}`);
  }
  const d = record(doc, "outcomes");
  if (d.v !== 1 && d.v !== 2 && d.v !== PROFILE_VERSION)
    fail("outcomes.v", `unsupported profile version ${JSON.stringify(d.v)}`);
  const task = d.t;
  if (task !== "binary" && task !== "multiclass" && task !== "regression") fail("outcomes.t", "unknown task");
  return {
    task,
    count: count(d.n, "outcomes.n"),
    labelled: count(d.l, "outcomes.l"),
    performance: decodePerformance(task, d.r, "outcomes.r", d.v),
  };
}
