/**
 * Feature values of a batch's valid predictions for one model, kept row by row in typed arrays: numeric
 * values as float64 (NaN: missing), categorical values as codes into a per-feature dictionary (-1: missing).
 *
 * Why: validation walks every event's features anyway, so it writes them here as it goes and the parsed JSON
 * object (dozens of properties, one heap number per numeric value) becomes garbage at once instead of living
 * until the batch is persisted. Keeping ~2 KB of objects per record alive through a 10,000-record batch is
 * what made the ingest's garbage collector, not its arithmetic, the largest cost above the decode floor. The
 * profile is then built from the columns (`addPredictionRows` in profile-update.ts) without touching any object.
 *
 * Rows are written by validation: `beginRow`, then every slot: `setNumeric` (NaN for missing), `setCategory` or
 * `setMissingCategory` per listed feature and `fillMissing` for features the event does not list, then
 * `commitRow` if the record is valid. A rejected record's row is simply overwritten by the next.
 */

import type { FeatureValue } from "../../../contracts/events";
import type { FeatureKind } from "../../../contracts/model";
import type { FeatureRows } from "./profile-update";

/**
 * Where a feature goes: numeric features get slot k >= 0 (numeric column k), categorical features get ~j
 * (categorical column j, a negative number). One layout per model, shared by all its batches.
 */
export interface ColumnLayout {
  readonly slots: ReadonlyMap<string, number>;
  readonly numericNames: readonly string[];
  readonly categoricalNames: readonly string[];
}

/** The column layout of a feature schema, in schema order. */
export function columnLayout(features: ReadonlyArray<{ name: string; kind: FeatureKind }>): ColumnLayout {
  const slots = new Map<string, number>();
  const numericNames: string[] = [];
  const categoricalNames: string[] = [];
  for (const f of features) {
    if (f.kind === "numeric") slots.set(f.name, numericNames.push(f.name) - 1);
    else slots.set(f.name, ~(categoricalNames.push(f.name) - 1));
  }
  return { slots, numericNames, categoricalNames };
}

export class FeatureColumns implements FeatureRows {
  readonly numericNames: readonly string[];
  readonly categoricalNames: readonly string[];
  numeric: Float64Array;
  codes: Int32Array;
  /** Per categorical feature: code -> category, and category -> code. */
  readonly categories: string[][];
  private readonly dictionaries: Array<Map<string, number>>;
  /** Committed rows. */
  rows = 0;
  private capacity: number;
  private readonly width: number;
  private readonly catWidth: number;

  constructor(
    readonly layout: ColumnLayout,
    initialRows = 64,
  ) {
    this.numericNames = layout.numericNames;
    this.categoricalNames = layout.categoricalNames;
    this.width = layout.numericNames.length;
    this.catWidth = layout.categoricalNames.length;
    this.capacity = Math.max(1, initialRows);
    this.numeric = new Float64Array(this.capacity * this.width);
    this.codes = new Int32Array(this.capacity * this.catWidth);
    this.categories = layout.categoricalNames.map(() => []);
    this.dictionaries = layout.categoricalNames.map(() => new Map());
  }

  /** Start writing the next row; returns its index. Every slot must then be written (or `fillMissing`). */
  beginRow(): number {
    if (this.rows === this.capacity) this.grow();
    return this.rows;
  }

  /** Numeric column `k` of the row being written (a finite number, or NaN for missing). */
  setNumeric(k: number, v: number): void {
    this.numeric[this.rows * this.width + k] = v;
  }

  /** Categorical column `j` of the row being written, missing. */
  setMissingCategory(j: number): void {
    this.codes[this.rows * this.catWidth + j] = -1;
  }

  /** Categorical column `j` of the row being written. */
  setCategory(j: number, category: string): void {
    const dictionary = this.dictionaries[j]!;
    let code = dictionary.get(category);
    if (code === undefined) {
      code = this.categories[j]!.push(category) - 1;
      dictionary.set(category, code);
    }
    this.codes[this.rows * this.catWidth + j] = code;
  }

  /**
   * Mark the features the event does not have as missing (the writer set the others). Only needed when an
   * event lists fewer features than the schema: rows are reused after a rejected record, so every slot of a
   * committed row must have been written.
   */
  fillMissing(present: object): void {
    const row = this.rows;
    this.layout.numericNames.forEach((name, k) => {
      if (!Object.hasOwn(present, name)) this.numeric[row * this.width + k] = Number.NaN;
    });
    this.layout.categoricalNames.forEach((name, j) => {
      if (!Object.hasOwn(present, name)) this.codes[row * this.catWidth + j] = -1;
    });
  }

  /** Keep the row being written; returns its index. */
  commitRow(): number {
    return this.rows++;
  }

  /** A committed row as a feature object (missing features as null): for tests, logs and debugging. */
  valuesOf(row: number): Record<string, FeatureValue> {
    if (row < 0 || row >= this.rows) throw new RangeError(`row ${row} of ${this.rows}`);
    const out: Record<string, FeatureValue> = {};
    this.numericNames.forEach((name, k) => {
      const v = this.numeric[row * this.width + k]!;
      out[name] = Number.isNaN(v) ? null : v;
    });
    this.categoricalNames.forEach((name, j) => {
      const code = this.codes[row * this.catWidth + j]!;
      out[name] = code < 0 ? null : this.categories[j]![code]!;
    });
    return out;
  }

  private grow(): void {
    this.capacity *= 2;
    const numeric = new Float64Array(this.capacity * this.width);
    numeric.set(this.numeric);
    this.numeric = numeric;
    const codes = new Int32Array(this.capacity * this.catWidth);
    codes.set(this.codes);
    this.codes = codes;
  }
}
