/**
 * The replay's input in event-time order with bounded memory, whatever the order and size of the files:
 * a first pass reads every line once and appends it to a temporary file per UTC hour of its event time
 * (the spill); the replay then reads the hours in order, one at a time, sorting each in memory. Memory
 * holds one hour of lines; the spill takes about the uncompressed size of the log on disk (in `tmpDir`),
 * and is removed by `close()`.
 *
 * The first pass also measures the log: lines per hour, which gives the real time range
 * (local/time-range.ts), and the lines that never reach the stream (larger than a Kinesis record). Each
 * line keeps its file and line number for the quarantine listing.
 *
 * Arrival times: a line arrives at its own event time, clamped into the real range (a stray 2031 line
 * arrives at the range's end, where the ingest finds it too far in the future); a line without a usable
 * timestamp arrives with the line before it (the first timed line, for those at the start). Lines at equal
 * times keep their input order.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODEL_ID_PATTERN, REQUEST_ID_PATTERN } from "../contracts/events";
import { HOUR_MS } from "../contracts/time";
import { parseTimestamp } from "../lambdas/domain/ingest/event-validation";
import {
  EventLogError,
  type InputFile,
  type LogLine,
  MAX_STREAM_RECORD_BYTES,
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

/** Where the spill of one hour is buffered before it is appended to its file. */
interface HourBuffer {
  parts: string[];
  chars: number;
  count: number;
  minT: number;
  maxT: number;
}

const FLUSH_HOUR_CHARS = 1 << 20;
const FLUSH_ALL_CHARS = 8 << 20;

export interface SpillOptions {
  /** Where the spill goes. @default os.tmpdir() */
  readonly tmpDir?: string;
  /** Input bytes consumed (progress). */
  readonly onBytes?: (n: number) => void;
}

export class LogSpill {
  /** Non-empty lines read. */
  lines = 0;
  /** Lines that never reach the stream. */
  readonly verdicts: ReaderVerdict[] = [];
  /** Up to three lines without a usable timestamp (for the message when no line has one). */
  readonly untimedSample: string[] = [];
  private untimed = 0;
  private readonly hours = new Map<number, HourBuffer>();
  private head: string[] = [];
  private headChars = 0;
  private firstT: number | undefined;
  private previousT: number | undefined;
  private buffered = 0;
  private rangeCache: TimeRange | undefined;

  private constructor(
    readonly dir: string,
    readonly inputs: readonly InputFile[],
  ) {}

  /** Pass 1: reads every input once, spilling its lines by hour. Throws `EventLogError` for unusable inputs. */
  static async build(inputs: readonly InputFile[], options: SpillOptions = {}): Promise<LogSpill> {
    const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "replay-spill-"));
    const spill = new LogSpill(dir, inputs);
    try {
      for (let f = 0; f < inputs.length; f++) await spill.readInput(f, options.onBytes);
      spill.flushAll();
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
      return spill;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
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
    const ord = this.lines++;
    if (l.oversizedBytes !== undefined) {
      this.verdicts.push({
        file,
        line: l.line,
        reason: "record-too-large",
        detail: `${l.oversizedBytes} bytes > ${MAX_STREAM_RECORD_BYTES}, the largest record Kinesis accepts (never sent)`,
      });
      return;
    }
    const base64 = l.text === undefined;
    const text = l.text ?? "";
    const envelope = base64 ? {} : scanEnvelope(text);
    const t = eventTime(envelope.timestamp);
    const key = partitionKeyOf(envelope.modelId, envelope.requestId, ord);
    const data = base64 ? l.bytes!.toString("base64") : text;
    if (t === undefined) {
      this.untimed++;
      if (this.untimedSample.length < 3)
        this.untimedSample.push(
          `${this.inputs[file]!.name}:${l.line}: ${base64 ? "not UTF-8" : `no usable "timestamp" (${preview(envelope.timestamp)})`}`,
        );
    }
    const at = t ?? this.previousT;
    const entry = `${at ?? ""}\t${ord}\t${file}\t${l.line}\t${base64 ? "b" : "t"}${key}\t${data}\n`;
    if (at === undefined) {
      // Before the first timed line: placed with it once it is known.
      this.head.push(entry);
      this.headChars += entry.length;
      if (this.headChars > FLUSH_HOUR_CHARS) this.flushHead();
      return;
    }
    if (t !== undefined) {
      this.firstT ??= t;
      this.previousT = t;
    }
    const hour = Math.floor(at / HOUR_MS);
    let h = this.hours.get(hour);
    if (!h) {
      h = { parts: [], chars: 0, count: 0, minT: at, maxT: at };
      this.hours.set(hour, h);
    }
    h.parts.push(entry);
    h.chars += entry.length;
    h.count++;
    if (at < h.minT) h.minT = at;
    if (at > h.maxT) h.maxT = at;
    this.buffered += entry.length;
    if (h.chars > FLUSH_HOUR_CHARS) this.flush(hour, h);
    if (this.buffered > FLUSH_ALL_CHARS) this.flushAll();
  }

  private flush(hour: number, h: HourBuffer): void {
    if (h.parts.length === 0) return;
    appendFileSync(join(this.dir, `${hour}.jsonl`), h.parts.join(""));
    this.buffered -= h.chars;
    h.parts = [];
    h.chars = 0;
  }

  private flushHead(): void {
    if (this.head.length === 0) return;
    appendFileSync(join(this.dir, "head.jsonl"), this.head.join(""));
    this.head = [];
    this.headChars = 0;
  }

  private flushAll(): void {
    for (const [hour, h] of this.hours) this.flush(hour, h);
    this.flushHead();
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
   * Pass 2: the records in arrival order (arrival = event time clamped into the real range), one hour of
   * the spill in memory at a time; strays are read with the first or last hour of the range.
   */
  async *records(): AsyncGenerator<ReplayRecord> {
    const { from, to } = this.range;
    const hours = [...this.hours.keys()].sort((a, b) => a - b);
    const firstHour = Math.floor(from / HOUR_MS);
    const lastHour = Math.floor(to / HOUR_MS);
    const file = (hour: number) => join(this.dir, `${hour}.jsonl`);
    // The first group holds the lines before the range and the range's first hour, the last group its last
    // hour and the lines after it; every hour in between is a group of its own.
    const groups: string[][] = [
      [join(this.dir, "head.jsonl"), ...hours.filter((h) => h <= firstHour).map(file)],
    ];
    for (const h of hours) if (h > firstHour && h < lastHour) groups.push([file(h)]);
    if (lastHour > firstHour) groups.push(hours.filter((h) => h >= lastHour).map(file));
    for (const files of groups) {
      const records: ReplayRecord[] = [];
      for (const path of files) {
        let text: string;
        try {
          // Synchronous: an hour of the spill is small, and an await per hour left the replay idle.
          text = readFileSync(path, "utf8");
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
      records.sort((a, b) => a.arrivalMs - b.arrivalMs || a.ord - b.ord);
      yield* records;
    }
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
