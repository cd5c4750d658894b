/**
 * Reading recorded event logs for `replay`, streamed: JSON lines (schema v1) in one or several files or
 * directories (e.g. a copy of the Firehose archive, `<modelId>/yyyy/MM/dd/...`), plain or gzip (detected
 * from the content, as Firehose names its objects without an extension), of any size: no file is held
 * as one string, and a line is held only up to the largest record Kinesis accepts.
 *
 * The reader never throws on a bad line: every non-empty line becomes a stream record, exactly as a
 * producer would have sent it, and the real ingest judges it (quarantine with a reason code). What it
 * cannot turn into a record is counted here with the production reason code: a line larger than a
 * Kinesis record (1 MiB) is `record-too-large`. Only an input that cannot be an event log at all is an
 * error (`EventLogError`): unreadable, not gzip although it says so, a JSON array instead of JSON lines,
 * no line at all.
 */
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";

/** A problem with an input as a whole: the replay stops with exit code 2. */
export class EventLogError extends Error {
  override readonly name = "EventLogError";
}

/** Largest record payload Kinesis accepts (PutRecords `Data`): a longer line can never reach the stream. */
export const MAX_STREAM_RECORD_BYTES = 1_048_576;

/** One input file. */
export interface InputFile {
  readonly path: string;
  /** How messages name it: the path as given, or relative to the directory given. */
  readonly name: string;
  /** Size on disk (compressed for gzip), bytes; 0 for a pipe. */
  readonly size: number;
  /** A named pipe or a device (e.g. /dev/stdin): it can be read once, from its start. */
  readonly stream?: boolean;
}

/** The path that names the standard input (`--events -`). */
export const STDIN = "-";

/**
 * The files of `paths`: files as given, directories walked recursively (hidden entries skipped), each
 * directory's files in path order, which is time order in the archive's `yyyy/MM/dd` layout. `-` (and
 * /dev/stdin) is the standard input, read once as a stream; so is a named pipe.
 */
export async function listInputs(paths: readonly string[]): Promise<InputFile[]> {
  if (paths.length === 0) throw new EventLogError("no events file or directory given");
  const out: InputFile[] = [];
  const walk = async (dir: string, root: string, label: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path, root, label);
      else if (e.isFile())
        out.push({ path, name: join(label, relative(root, path)), size: (await stat(path)).size });
    }
  };
  for (const p of paths) {
    if (p === STDIN) {
      out.push({ path: p, name: "stdin", size: 0, stream: true });
      continue;
    }
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(p);
    } catch (e) {
      throw new EventLogError(`cannot read events file ${p}: ${(e as Error).message}`);
    }
    if (s.isDirectory()) {
      const before = out.length;
      await walk(p, p, p);
      if (out.length === before) throw new EventLogError(`${p}: the directory holds no files`);
    } else if (s.isFile()) out.push({ path: p, name: p, size: s.size });
    else out.push({ path: p, name: p, size: 0, stream: true });
  }
  return out;
}

/** One non-empty line of an input. */
export interface LogLine {
  /** 1-based line number in its file. */
  readonly line: number;
  /** The line, without its line break; undefined when it was too large to keep. */
  readonly text?: string;
  /** The line's bytes when they are not valid UTF-8 (a producer could send them; the ingest rejects them). */
  readonly bytes?: Buffer;
  /** Size of a line too large for a stream record, bytes. */
  readonly oversizedBytes?: number;
}

/**
 * The bytes of an input, gunzipped when they start with the gzip magic bytes: the first chunks are read
 * to see them, then handed on before the rest (so a pipe, which cannot be read at a position, is detected
 * like a file).
 */
async function byteSource(
  file: Readable,
  onBytes: (n: number) => void,
): Promise<AsyncIterable<Buffer> & { destroy(): void }> {
  const chunks = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < 2) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    headBytes += next.value.length;
  }
  const first = Buffer.concat(head);
  async function* bytes(): AsyncGenerator<Buffer> {
    if (first.length > 0) {
      onBytes(first.length);
      yield first;
    }
    if (ended) return;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      onBytes(next.value.length);
      yield next.value;
    }
  }
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
    const gunzip = Readable.from(bytes()).pipe(createGunzip());
    return {
      [Symbol.asyncIterator]: () => gunzip[Symbol.asyncIterator](),
      destroy: () => {
        gunzip.destroy();
        file.destroy();
      },
    };
  }
  return Object.assign(bytes(), { destroy: () => file.destroy() });
}

const isBlank = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10 && c !== 0xfeff) return false;
  }
  return true;
};

/**
 * Streams the non-empty lines of one input to `onLine`, in order; `onBytes` receives the input bytes
 * consumed (compressed bytes for gzip), for progress. A line longer than `maxLineBytes` is reported with
 * its size and without its content. An error thrown by `onLine` ends the read and is reported as one
 * reading the input.
 */
export async function readLines(
  input: InputFile,
  onLine: (line: LogLine) => void,
  onBytes: (n: number) => void = () => undefined,
  maxLineBytes = MAX_STREAM_RECORD_BYTES,
): Promise<void> {
  try {
    for await (const batch of lineBatches(input, onBytes, maxLineBytes)) for (const l of batch) onLine(l);
  } catch (e) {
    throw e instanceof ReadError ? e.wrapped : readError(input, e);
  }
}

/** An `EventLogError` of the reader itself (not of a consumer), passed through as it is. */
class ReadError extends Error {
  constructor(readonly wrapped: EventLogError) {
    super(wrapped.message);
  }
}

function readError(input: InputFile, e: unknown): EventLogError {
  const why = (e as { code?: string }).code?.startsWith("Z_")
    ? `not valid gzip (${(e as Error).message})`
    : (e as Error).message;
  return new EventLogError(`cannot read events file ${input.name}: ${why}`);
}

/**
 * The non-empty lines of one input, in order, one batch per chunk read (see `readLines`), pulled by the
 * consumer. Throws `EventLogError` when the input cannot be read. Text is decoded chunk by chunk; a chunk
 * holding invalid UTF-8 is split on its raw bytes so that such a line keeps its bytes.
 */
export async function* readLineBatches(
  input: InputFile,
  onBytes: (n: number) => void = () => undefined,
  maxLineBytes = MAX_STREAM_RECORD_BYTES,
): AsyncGenerator<LogLine[]> {
  try {
    yield* lineBatches(input, onBytes, maxLineBytes);
  } catch (e) {
    throw e instanceof ReadError ? e.wrapped : e;
  }
}

async function* lineBatches(
  input: InputFile,
  onBytes: (n: number) => void,
  maxLineBytes: number,
): AsyncGenerator<LogLine[]> {
  // The process's standard input as a stream: opening /dev/stdin fails when it is a socket.
  const file: Readable =
    input.stream && (input.path === STDIN || input.path === "/dev/stdin")
      ? process.stdin
      : createReadStream(input.path, { highWaterMark: 1 << 20 });
  let source: AsyncIterable<Buffer> & { destroy(): void };
  try {
    source = await byteSource(file, onBytes);
  } catch (e) {
    file.destroy();
    throw new ReadError(readError(input, e));
  }

  let lineNo = 0;
  /** Bytes of the line in progress (after the last newline), while it fits. */
  let carry: Buffer[] = [];
  let carryBytes = 0;
  /** The line in progress is too large: its bytes are counted, not kept. */
  let oversized = false;
  let out: LogLine[] = [];

  const emitBytes = (buf: Buffer) => {
    lineNo++;
    let end = buf.length;
    if (end > 0 && buf[end - 1] === 13) end--;
    const slice = buf.subarray(0, end);
    const text = slice.toString("utf8");
    if (isBlank(text)) return;
    if (text.includes("\uFFFD") && !Buffer.from(text, "utf8").equals(slice))
      out.push({ line: lineNo, bytes: Buffer.from(slice) });
    else out.push({ line: lineNo, text });
  };
  const emitText = (s: string) => {
    lineNo++;
    const text = s.length > 0 && s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && isBlank(text))) return;
    if (text.length > maxLineBytes / 3 && Buffer.byteLength(text) > maxLineBytes)
      out.push({ line: lineNo, oversizedBytes: Buffer.byteLength(text) });
    else out.push({ line: lineNo, text });
  };
  const emitOversized = (bytes: number) => {
    lineNo++;
    out.push({ line: lineNo, oversizedBytes: bytes });
  };
  const decoder = new StringDecoder("utf8");

  const chunks = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    yield* splitChunks();
  } finally {
    // A consumer that stops early leaves no open file behind.
    source.destroy();
    file.destroy();
  }

  async function* splitChunks(): AsyncGenerator<LogLine[]> {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (e) {
        throw new ReadError(readError(input, e));
      }
      if (next.done) break;
      const chunk = next.value;
      let pos = 0;
      if (oversized || carryBytes > 0) {
        // Finish the line in progress.
        const nl = chunk.indexOf(10);
        if (nl < 0) {
          carryBytes += chunk.length;
          if (!oversized && carryBytes > maxLineBytes) {
            oversized = true;
            carry = [];
          }
          if (!oversized) carry.push(chunk);
          continue;
        }
        carryBytes += nl;
        if (oversized || carryBytes > maxLineBytes) emitOversized(carryBytes);
        else emitBytes(Buffer.concat([...carry, chunk.subarray(0, nl)]));
        carry = [];
        carryBytes = 0;
        oversized = false;
        pos = nl + 1;
      }
      const last = chunk.lastIndexOf(10);
      if (last >= pos) {
        const text = decoder.write(chunk.subarray(pos, last + 1));
        if (!text.includes("\uFFFD")) {
          let start = 0;
          for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
            emitText(text.slice(start, nl));
            start = nl + 1;
          }
        } else {
          // Rare: invalid UTF-8 (or a literal U+FFFD) somewhere in this chunk. Split on the bytes.
          let start = pos;
          for (let nl = chunk.indexOf(10, start); nl >= 0 && nl <= last; nl = chunk.indexOf(10, start)) {
            const len = nl - start;
            if (len > maxLineBytes) emitOversized(len);
            else emitBytes(chunk.subarray(start, nl));
            start = nl + 1;
          }
        }
        pos = last + 1;
      }
      if (pos < chunk.length) {
        carryBytes = chunk.length - pos;
        if (carryBytes > maxLineBytes) oversized = true;
        else carry = [chunk.subarray(pos)];
      }
      if (out.length > 0) {
        const batch = out;
        out = [];
        yield batch;
      }
    }
    if (oversized) emitOversized(carryBytes);
    else if (carryBytes > 0) emitBytes(Buffer.concat(carry));
    if (out.length > 0) yield out;
  }
}

/** The top-level fields of an event that place it on the stream and in time, as written in the line. */
export interface Envelope {
  readonly timestamp?: unknown;
  readonly modelId?: unknown;
  readonly requestId?: unknown;
}

const WS = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** Index after the string starting at `i` (a quote), and whether it holds escapes. */
function stringEnd(s: string, i: number): { end: number; escaped: boolean } {
  let escaped = false;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92) {
      escaped = true;
      j++;
    } else if (c === 34) return { end: j + 1, escaped };
  }
  return { end: s.length, escaped };
}

/** Index after the JSON value starting at `i` (strings, nesting of any depth, scalars). */
function valueEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 34) return stringEnd(s, i).end;
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === 34) j = stringEnd(s, j).end - 1;
      else if (d === 123 || d === 91) depth++;
      else if (d === 125 || d === 93) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return s.length;
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === 44 || d === 125 || d === 93 || WS(d)) break;
    j++;
  }
  return j;
}

/** A scalar value as JSON.parse gives it; nested values are not decoded (they are never a usable field). */
function decodeValue(s: string, start: number, end: number): unknown {
  const c = s.charCodeAt(start);
  if (c === 123 || c === 91) return {};
  if (c === 34) {
    const { escaped } = stringEnd(s, start);
    if (!escaped) return s.slice(start + 1, end - 1);
  }
  try {
    return JSON.parse(s.slice(start, end));
  } catch {
    return undefined;
  }
}

/**
 * `timestamp`, `modelId` and `requestId` of the top-level object of a JSON line, without parsing the whole
 * line (the ingest parses it; parsing it twice would double the replay's dominant cost). Scans the
 * top-level keys in order, skipping nested values of any depth without recursion, and stops once the three
 * are found; a key repeated at the top level counts the first time. Best effort on invalid JSON: such a
 * line is quarantined by the ingest whatever is found here.
 */
export function scanEnvelope(s: string): Envelope {
  return quickEnvelope(s) ?? scanTopLevel(s);
}

/**
 * The common case, in one forward scan: an object whose keys follow each other without whitespace, and
 * whose three fields come before any nested value and any backslash, with plain string or number values.
 * Then every key read is a top-level key. Undefined whenever that is not certain (the general scan then
 * decides).
 */
export function quickEnvelope(s: string): Envelope | undefined {
  if (s.charCodeAt(0) !== 123) return undefined;
  const n = s.length;
  let timestamp: unknown;
  let modelId: unknown;
  let requestId: unknown;
  let found = 0;
  let i = 1;
  while (found !== 7) {
    if (s.charCodeAt(i) !== 34) return undefined;
    const keyEnd = s.indexOf('"', i + 1);
    if (keyEnd < 0 || s.charCodeAt(keyEnd + 1) !== 58) return undefined;
    const v = keyEnd + 2;
    const c = s.charCodeAt(v);
    let end: number;
    if (c === 34) {
      end = s.indexOf('"', v + 1) + 1;
      if (end === 0) return undefined;
    } else if (c === 123 || c === 91) return undefined;
    else {
      end = v;
      while (end < n) {
        const d = s.charCodeAt(end);
        if (d === 44 || d === 125) break;
        end++;
      }
    }
    const sep = s.charCodeAt(end);
    if (sep !== 44 && sep !== 125) return undefined;
    const keyLength = keyEnd - i - 1;
    const bit =
      keyLength === 9 && s.startsWith("timestamp", i + 1)
        ? 1
        : keyLength === 7 && s.startsWith("modelId", i + 1)
          ? 2
          : keyLength === 9 && s.startsWith("requestId", i + 1)
            ? 4
            : 0;
    if (bit !== 0 && (found & bit) === 0) {
      let value: unknown;
      if (c === 34) value = s.slice(v + 1, end - 1);
      else if ((c >= 48 && c <= 57) || c === 45) {
        try {
          value = JSON.parse(s.slice(v, end));
        } catch {
          return undefined;
        }
      } else return undefined;
      if (bit === 1) timestamp = value;
      else if (bit === 2) modelId = value;
      else requestId = value;
      found |= bit;
    }
    if (sep === 125) return undefined;
    i = end + 1;
  }
  // A backslash before the end could have hidden a quote: then nothing above is certain.
  const backslash = s.indexOf("\\");
  if (backslash >= 0 && backslash < i) return undefined;
  return { timestamp, modelId, requestId };
}

/** The general scan (see `scanEnvelope`), also the reference the fast path is tested against. */
export function scanTopLevel(s: string): Envelope {
  const out: { timestamp?: unknown; modelId?: unknown; requestId?: unknown } = {};
  let i = 0;
  const n = s.length;
  while (i < n && WS(s.charCodeAt(i))) i++;
  if (s.charCodeAt(i) !== 123) return out;
  i++;
  let found = 0;
  while (i < n && found < 3) {
    const c = s.charCodeAt(i);
    if (WS(c) || c === 44) {
      i++;
      continue;
    }
    if (c !== 34) break;
    const key = stringEnd(s, i);
    const name = key.escaped ? decodeValue(s, i, key.end) : s.slice(i + 1, key.end - 1);
    i = key.end;
    while (i < n && WS(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 58) break;
    i++;
    while (i < n && WS(s.charCodeAt(i))) i++;
    const end = valueEnd(s, i);
    if (name === "timestamp" || name === "modelId" || name === "requestId") {
      if (!(name in out)) {
        out[name] = decodeValue(s, i, end);
        found++;
      }
    }
    i = end;
  }
  return out;
}
