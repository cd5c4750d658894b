/**
 * The replay's input in event-time order with bounded memory, whatever the order and size of the files.
 *
 * A first pass reads every line once and measures the log: lines per hour of event time, which gives the
 * real time range (local/time-range.ts), and the lines that never reach the stream (larger than a Kinesis
 * record). The replay then takes the lines in arrival order, grouped by hour, each group sorted in memory:
 * - Input already in time order (every line at most an hour before the latest line read so far, as in an
 *   archive of one model's stream) is simply read again, and each hour goes out once its last line is
 *   read (its count is known from the first pass). Memory holds about two hours of lines.
 * - Otherwise the first pass, from the first line out of order on, appends each line to a temporary file
 *   per UTC hour (the spill), then spills the lines read before it; the replay reads the hours in order,
 *   one at a time. Memory holds one hour of lines; the spill takes about the uncompressed size of the log
 *   on disk (in `tmpDir`), and is removed by `close()`.
 * Both give the same records in the same order (test/local/log-spill.test.ts); each line keeps its file
 * and line number for the quarantine listing.
 *
 * Arrival times: a line arrives at its own event time, clamped into the real range (a stray 2031 line
 * arrives at the range's end, where the ingest finds it too far in the future); a line without a usable
 * timestamp arrives with the line before it (the first timed line, for those at the start). Lines at equal
 * times keep their input order.
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODEL_ID_PATTERN, REQUEST_ID_PATTERN } from "../contracts/events";
import { HOUR_MS } from "../contracts/time";
import { parseTimestamp } from "../lambdas/domain/ingest/event-validation";
import {
  type Envelope,
  EventLogError,
  type InputFile,
  type LogLine,
  MAX_STREAM_RECORD_BYTES,
  readLineBatches,
  readLines,
  scanEnvelope,
} from "./event-log";
import { md5Hex } from "./kinesis-hash";
import { type HourCount, realRange, type TimeRange } from "./time-range";

/** Longest Kinesis partition key, in characters. */
const MAX_PARTITION_KEY_CHARS = 256;
/** Latest instant a JavaScript Date holds; an event time beyond it is no time at all. */
const MAX_DATE_MS = 8.64e15;

/** A line as it will be put on the stream. */
export interface ReplayRecord {
  /** Input order across all files (0-based), the tie-breaker for equal times. */
  readonly ord: number;
  /** Index of the input file (see `LogSpill.inputs`) and 1-based line number in it. */
  readonly file: number;
  readonly line: number;
  /** Simulated arrival time on the stream, epoch ms. */
  readonly arrivalMs: number;
  readonly partitionKey: string;
  /** The line's text; for a line that is not valid UTF-8, its bytes in base64 (see `base64`). */
  readonly data: string;
  readonly base64: boolean;
}

/** A line that never reached the stream, with the reason code the ingest would give. */
export interface ReaderVerdict {
  readonly file: number;
  readonly line: number;
  readonly reason: "record-too-large";
  readonly detail: string;
}

/**
 * The partition key a producer following the schema's advice uses (`modelId#requestId`), so that a
 * prediction and its label share a shard. Ids that could not form a valid key (too long, not strings) get
 * a key derived from them (the record still goes through, and the ingest judges its ids).
 */
export function partitionKeyOf(modelId: unknown, requestId: unknown, ord: number): string {
  if (typeof modelId === "string" && typeof requestId === "string") {
    if (MODEL_ID_PATTERN.test(modelId) && REQUEST_ID_PATTERN.test(requestId)) {
      const key = `${modelId}#${requestId}`;
      return key.length <= MAX_PARTITION_KEY_CHARS ? key : `${modelId}#${md5Hex(requestId)}`;
    }
    return `ids#${md5Hex(`${modelId}\u0000${requestId}`)}`;
  }
  if (typeof modelId === "string") return MODEL_ID_PATTERN.test(modelId) ? modelId : `ids#${md5Hex(modelId)}`;
  return `line-${ord}`;
}

/** Event time of a line for placing it in time: what the ingest would read, when it is a real instant. */
function eventTime(v: unknown): number | undefined {
  const t = parseTimestamp(v);
  return t !== undefined && t <= MAX_DATE_MS ? t : undefined;
}

/** A line placed in time, as every read of the same inputs places it. */
interface Placed {
  readonly ord: number;
  readonly file: number;
  readonly line: number;
  /** Its own event time, when usable. */
  readonly t: number | undefined;
  /** Where it goes: its time, else the previous line's; undefined before the first timed line. */
  readonly at: number | undefined;
  readonly envelope: Envelope;
  /** The line's text, or its bytes in base64 (`base64`). */
  readonly data: string;
  readonly base64: boolean;
}

/** Numbers and places lines in input order (the state of a read: each read of the inputs has its own). */
class Placer {
  private ord = 0;
  private previousT: number | undefined;

  /** The line's place, or its verdict (never sent), given its input index and line. */
  place(file: number, l: LogLine): Placed | ReaderVerdict {
    const ord = this.ord++;
    if (l.oversizedBytes !== undefined)
      return {
        file,
        line: l.line,
        reason: "record-too-large",
        detail: `${l.oversizedBytes} bytes > ${MAX_STREAM_RECORD_BYTES}, the largest record Kinesis accepts (never sent)`,
      };
    const base64 = l.text === undefined;
    const envelope = base64 ? {} : scanEnvelope(l.text!);
    const t = eventTime(envelope.timestamp);
    const at = t ?? this.previousT;
    if (t !== undefined) this.previousT = t;
    const data = base64 ? l.bytes!.toString("base64") : l.text!;
    return { ord, file, line: l.line, t, at, envelope, data, base64 };
  }
}

const isVerdict = (p: Placed | ReaderVerdict): p is ReaderVerdict => "reason" in p;

/** Lines of one hour of event time (for the range and to know when an hour is complete). */
interface HourStats {
  count: number;
  minT: number;
  maxT: number;
}

/**
 * Spilled lines not yet on disk: their entries' UTF-8 bytes one after the other in `bytes`, and each
 * entry's hour (-Infinity: before the first timed line) and end. A flush sorts the entries by hour into
 * `sorted` and appends each hour's run to its file with one write.
 */
class SpillArena {
  /** Flush once this many bytes are held. */
  static readonly FLUSH_BYTES = 8 << 20;
  private bytes = Buffer.allocUnsafe(SpillArena.FLUSH_BYTES + (4 << 20));
  private sorted = Buffer.allocUnsafe(this.bytes.length);
  used = 0;
  private count = 0;
  private hours = new Float64Array(1 << 16);
  private ends = new Int32Array(1 << 16);

  /** Room for an entry of `chars` UTF-16 units (3 bytes each at most in UTF-8). */
  fits(chars: number): boolean {
    return this.used + chars * 3 <= this.bytes.length;
  }

  /** Appends an entry (header and data, then a newline); `fits` must hold for their length. */
  add(hour: number, header: string, data: string): void {
    if (this.count === this.hours.length) {
      const hours = new Float64Array(this.count * 2);
      hours.set(this.hours);
      this.hours = hours;
      const ends = new Int32Array(this.count * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    let at = this.used;
    at += this.bytes.write(header, at, "utf8");
    at += this.bytes.write(data, at, "utf8");
    this.bytes[at++] = 10;
    this.hours[this.count] = hour;
    this.ends[this.count++] = at;
    this.used = at;
  }

  /** Hands every held entry to `write` by hour, in input order within an hour, and empties. */
  flush(write: (hour: number, bytes: Buffer) => void): void {
    if (this.count === 0) return;
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const hours = this.hours;
    order.sort((a, b) => hours[a]! - hours[b]! || a - b);
    let out = 0;
    let runStart = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const start = i === 0 ? 0 : this.ends[i - 1]!;
      out += this.bytes.copy(this.sorted, out, start, this.ends[i]!);
      const next = order[k + 1];
      if (next === undefined || hours[next] !== hours[i]) {
        write(hours[i]!, this.sorted.subarray(runStart, out));
        runStart = out;
      }
    }
    this.used = 0;
    this.count = 0;
  }
}

/** Spill files kept open while the first pass writes (an open per flush and hour was slow). */
const MAX_OPEN_FILES = 512;
/** How far before the latest line read a line may be, and the input still count as in time order. */
const ORDER_SLACK_HOURS = 1;

export interface SpillOptions {
  /** Where the spill goes. @default os.tmpdir() */
  readonly tmpDir?: string;
  /** Input bytes consumed (progress). */
  readonly onBytes?: (n: number) => void;
  /**
   * Spill whatever the order. @default false: input in time order is read twice instead, unless it is a
   * pipe (`InputFile.stream`), which can be read only once.
   */
  readonly alwaysSpill?: boolean;
}

export class LogSpill {
  /** Non-empty lines read. */
  lines = 0;
  /** Lines that never reach the stream. */
  readonly verdicts: ReaderVerdict[] = [];
  /** Up to three lines without a usable timestamp (for the message when no line has one). */
  readonly untimedSample: string[] = [];
  private untimed = 0;
  private readonly hours = new Map<number, HourStats>();
  /** Lines before the first timed line. */
  private headCount = 0;
  private firstT: number | undefined;
  private latestHour = Number.NEGATIVE_INFINITY;
  private readonly placer = new Placer();
  /** The ord from which lines are spilled as they are read (undefined: not spilling). */
  private spillFrom: number | undefined;
  /** Created once the first line is spilled (input in time order never needs it). */
  private arena: SpillArena | undefined;
  /** Open spill files by hour, least recently written first. */
  private readonly files = new Map<number, number>();
  private rangeCache: TimeRange | undefined;

  private constructor(
    readonly dir: string,
    readonly inputs: readonly InputFile[],
    options: SpillOptions,
  ) {
    if (options.alwaysSpill) this.spillFrom = 0;
  }

  /** Pass 1: reads every input once, spilling it when out of order. Throws `EventLogError` for unusable inputs. */
  static async build(inputs: readonly InputFile[], options: SpillOptions = {}): Promise<LogSpill> {
    const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "replay-spill-"));
    // A pipe can be read once: it is spilled whatever its order.
    const spill = new LogSpill(dir, inputs, {
      ...options,
      alwaysSpill: options.alwaysSpill === true || inputs.some((i) => i.stream === true),
    });
    try {
      for (let f = 0; f < inputs.length; f++) await spill.readInput(f, options.onBytes);
      if (spill.lines === 0) {
        const names = inputs.map((i) => i.name).join(", ");
        throw new EventLogError(
          `${names}: no event in the input (empty); expected JSON lines, one event per line`,
        );
      }
      if (spill.firstT === undefined) {
        const sample = spill.untimedSample.join("; ");
        throw new EventLogError(
          `${inputs.map((i) => i.name).join(", ")}: none of its ${spill.lines} lines is an event with a usable timestamp (${sample})`,
        );
      }
      if (spill.spillFrom !== undefined && spill.spillFrom > 0) await spill.spillPrefix(spill.spillFrom);
      spill.flushAll();
      spill.closeFiles();
      return spill;
    } catch (error) {
      spill.closeFiles();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Whether the lines were spilled (the input was not in time order, or `alwaysSpill`). */
  get spilled(): boolean {
    return this.spillFrom !== undefined;
  }

  private async readInput(f: number, onBytes?: (n: number) => void): Promise<void> {
    const input = this.inputs[f]!;
    let first: { line: number; text: string } | undefined;
    let linesInFile = 0;
    await readLines(
      input,
      (l: LogLine) => {
        linesInFile++;
        if (linesInFile === 1 && l.text !== undefined && l.text.trimStart().startsWith("[")) {
          first = { line: l.line, text: l.text };
          let parsed: unknown;
          try {
            parsed = JSON.parse(l.text);
          } catch {
            throw arrayFileError(input.name, l.line);
          }
          if (!Array.isArray(parsed)) first = undefined;
        }
        this.add(f, l);
      },
      onBytes,
    );
    // A single line holding a JSON array: the whole file is an array, not JSON lines.
    if (first !== undefined && linesInFile === 1) throw arrayFileError(input.name, first.line);
  }

  private add(file: number, l: LogLine): void {
    this.lines++;
    const p = this.placer.place(file, l);
    if (isVerdict(p)) {
      this.verdicts.push(p);
      return;
    }
    if (p.t === undefined) {
      this.untimed++;
      if (this.untimedSample.length < 3)
        this.untimedSample.push(
          `${this.inputs[file]!.name}:${l.line}: ${p.base64 ? "not UTF-8" : `no usable "timestamp" (${preview(p.envelope.timestamp)})`}`,
        );
    }
    if (p.at === undefined) {
      // Before the first timed line: placed with it once it is known.
      this.headCount++;
      if (this.spillFrom !== undefined) this.spillLine(p);
      return;
    }
    this.firstT ??= p.t;
    const hour = Math.floor(p.at / HOUR_MS);
    const h = this.hours.get(hour);
    if (!h) this.hours.set(hour, { count: 1, minT: p.at, maxT: p.at });
    else {
      h.count++;
      if (p.at < h.minT) h.minT = p.at;
      if (p.at > h.maxT) h.maxT = p.at;
    }
    if (hour > this.latestHour) this.latestHour = hour;
    else if (this.spillFrom === undefined && hour < this.latestHour - ORDER_SLACK_HOURS)
      this.spillFrom = p.ord;
    if (this.spillFrom !== undefined) this.spillLine(p);
  }

  /** Spills the lines before `untilOrd` (read before the input was found out of order), read again. */
  private async spillPrefix(untilOrd: number): Promise<void> {
    const placer = new Placer();
    let ord = 0;
    read: for (let f = 0; f < this.inputs.length; f++)
      for await (const batch of readLineBatches(this.inputs[f]!))
        for (const l of batch) {
          if (ord++ >= untilOrd) break read;
          const p = placer.place(f, l);
          if (!isVerdict(p)) this.spillLine(p);
        }
    if (ord < untilOrd) throw changedInput(this.inputs);
  }

  /** Appends a line to its hour's spill file (the head file before the first timed line). */
  private spillLine(p: Placed): void {
    const key = partitionKeyOf(p.envelope.modelId, p.envelope.requestId, p.ord);
    const header = `${p.at ?? ""}\t${p.ord}\t${p.file}\t${p.line}\t${p.base64 ? "b" : "t"}${key}\t`;
    const chars = header.length + p.data.length + 1;
    this.arena ??= new SpillArena();
    if (this.arena.used >= SpillArena.FLUSH_BYTES || !this.arena.fits(chars)) this.flushAll();
    this.arena.add(
      p.at === undefined ? Number.NEGATIVE_INFINITY : Math.floor(p.at / HOUR_MS),
      header,
      p.data,
    );
  }

  private flushAll(): void {
    this.arena?.flush((hour, bytes) => {
      let fd = this.files.get(hour);
      if (fd === undefined) {
        if (this.files.size >= MAX_OPEN_FILES) {
          const [oldest, oldestFd] = this.files.entries().next().value!;
          closeSync(oldestFd);
          this.files.delete(oldest);
        }
        fd = openSync(join(this.dir, `${hour === Number.NEGATIVE_INFINITY ? "head" : hour}.jsonl`), "a");
      } else this.files.delete(hour);
      // Most recently written last: the first entry is the one to close when too many are open.
      this.files.set(hour, fd);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
    });
  }

  /** Closes the spill files (written only by the first pass). */
  private closeFiles(): void {
    for (const fd of this.files.values()) closeSync(fd);
    this.files.clear();
  }

  /** Lines per hour of event time. */
  hourCounts(): HourCount[] {
    return [...this.hours.entries()].map(([hour, h]) => ({
      hour,
      count: h.count,
      minT: h.minT,
      maxT: h.maxT,
    }));
  }

  /** Lines without a usable timestamp (they still go on the stream). */
  get untimedLines(): number {
    return this.untimed;
  }

  /** The real time range (local/time-range.ts). */
  get range(): TimeRange {
    this.rangeCache ??= realRange(this.hourCounts())!;
    return this.rangeCache;
  }

  /**
   * The group of an hour: the range's first hour also holds the lines before the range and those before
   * the first timed line, its last hour the lines after the range; every hour in between is its own.
   */
  private groupOf(): (hour: number | undefined) => number {
    const { from, to } = this.range;
    const firstHour = Math.floor(from / HOUR_MS);
    const lastHour = Math.floor(to / HOUR_MS);
    return (hour) => (hour === undefined || hour <= firstHour ? firstHour : Math.min(hour, lastHour));
  }

  /**
   * Pass 2: the records in arrival order (arrival = event time clamped into the real range), grouped by
   * hour (`groupOf`), each group sorted by arrival time, then input order. One array per group: an await
   * per record would cost more than the record.
   */
  recordGroups(): AsyncGenerator<ReplayRecord[]> {
    return this.spilled ? this.spilledRecords() : this.orderedRecords();
  }

  /** From the spill: one group of files in memory at a time. */
  private async *spilledRecords(): AsyncGenerator<ReplayRecord[]> {
    const { from, to } = this.range;
    const groupOf = this.groupOf();
    const groups = new Map<number, string[]>();
    const addFile = (group: number, name: string) => {
      const files = groups.get(group);
      if (files) files.push(name);
      else groups.set(group, [name]);
    };
    addFile(groupOf(undefined), "head");
    for (const hour of [...this.hours.keys()].sort((a, b) => a - b)) addFile(groupOf(hour), String(hour));
    for (const group of [...groups.keys()].sort((a, b) => a - b)) {
      const records: ReplayRecord[] = [];
      for (const name of groups.get(group)!) {
        let text: string;
        try {
          // Synchronous: an hour of the spill is small, and an await per hour left the replay idle.
          text = readFileSync(join(this.dir, `${name}.jsonl`), "utf8");
        } catch (e) {
          if ((e as { code?: string }).code === "ENOENT") continue;
          throw e;
        }
        let start = 0;
        for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
          records.push(this.parseEntry(text, start, nl, from, to));
          start = nl + 1;
        }
      }
      yield sortedByArrival(records);
    }
  }

  /**
   * From the inputs, read again (they are in time order): each group goes out once all its lines (counted
   * by the first pass) are read and every earlier group went out.
   */
  private async *orderedRecords(): AsyncGenerator<ReplayRecord[]> {
    const { from, to } = this.range;
    const groupOf = this.groupOf();
    const expected = new Map<number, number>();
    const add = (group: number, n: number) => expected.set(group, (expected.get(group) ?? 0) + n);
    if (this.headCount > 0) add(groupOf(undefined), this.headCount);
    for (const [hour, h] of this.hours) add(groupOf(hour), h.count);
    const order = [...expected.keys()].sort((a, b) => a - b);
    const groups = new Map<number, ReplayRecord[]>(order.map((g) => [g, []]));
    let next = 0;
    const placer = new Placer();
    for (let f = 0; f < this.inputs.length; f++)
      for await (const batch of readLineBatches(this.inputs[f]!)) {
        for (const l of batch) {
          const p = placer.place(f, l);
          if (isVerdict(p)) continue;
          const group = groups.get(groupOf(p.at === undefined ? undefined : Math.floor(p.at / HOUR_MS)));
          if (!group) throw changedInput(this.inputs);
          const t = p.at ?? this.firstT!;
          group.push({
            arrivalMs: t < from ? from : Math.min(t, to),
            ord: p.ord,
            file: p.file,
            line: p.line,
            base64: p.base64,
            partitionKey: partitionKeyOf(p.envelope.modelId, p.envelope.requestId, p.ord),
            data: p.data,
          });
        }
        for (; next < order.length; next++) {
          const g = order[next]!;
          const records = groups.get(g)!;
          if (records.length < expected.get(g)!) break;
          if (records.length > expected.get(g)!) throw changedInput(this.inputs);
          groups.delete(g);
          yield sortedByArrival(records);
        }
      }
    if (next < order.length) throw changedInput(this.inputs);
  }

  private parseEntry(text: string, start: number, end: number, from: number, to: number): ReplayRecord {
    const t1 = text.indexOf("\t", start);
    const t2 = text.indexOf("\t", t1 + 1);
    const t3 = text.indexOf("\t", t2 + 1);
    const t4 = text.indexOf("\t", t3 + 1);
    const t5 = text.indexOf("\t", t4 + 1);
    const rawT = text.slice(start, t1);
    const t = rawT === "" ? this.firstT! : Number(rawT);
    return {
      arrivalMs: t < from ? from : Math.min(t, to),
      ord: Number(text.slice(t1 + 1, t2)),
      file: Number(text.slice(t2 + 1, t3)),
      line: Number(text.slice(t3 + 1, t4)),
      base64: text.charCodeAt(t4 + 1) === 98,
      partitionKey: text.slice(t4 + 2, t5),
      data: text.slice(t5 + 1, end),
    };
  }

  /** Removes the spill. */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function sortedByArrival(records: ReplayRecord[]): ReplayRecord[] {
  return records.sort((a, b) => a.arrivalMs - b.arrivalMs || a.ord - b.ord);
}

/** The inputs no longer hold what the first pass read (a file written to during the replay). */
function changedInput(inputs: readonly InputFile[]): EventLogError {
  return new EventLogError(
    `${inputs.map((i) => i.name).join(", ")}: the input changed while it was replayed (a file still being written?)`,
  );
}

function arrayFileError(name: string, line: number): EventLogError {
  return new EventLogError(
    `${name}:${line}: the file is one JSON array; replay expects JSON lines (one event object per line), e.g. jq -c '.[]' ${name}`,
  );
}

function preview(v: unknown): string {
  const s =
    v === undefined ? "absent" : typeof v === "object" && v !== null ? "not a string or number" : String(v);
  return s.length <= 40 ? s : `${s.slice(0, 37)}...`;
}
