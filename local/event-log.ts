/**
 * Reading a recorded event log (JSON lines, schema v1, in any order) for `replay`. The reader never
 * throws on a bad line: every line becomes a stream record (malformed ones are quarantined by the real
 * ingest handler, exactly as in production) and problems are reported with their line numbers. Only a
 * file that cannot be a usable event log at all is an error (`EventLogError`), with a message that
 * says why and where.
 */

/** A file-level problem: unreadable, empty, a JSON array instead of JSON lines, no usable events. */
export class EventLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EventLogError";
  }
}

/** One line of the log, ready to be put on the stream. */
export interface LoggedRecord {
  /** 1-based line number in the file. */
  readonly line: number;
  /** The line as it will be put on the stream (verbatim). */
  readonly data: string;
  /** Simulated arrival time: the event's own time, or the previous line's for unusable lines. */
  readonly t: number;
  readonly partitionKey: string;
  readonly modelId?: string;
}

/** A line-level problem (the line is still replayed and quarantined by the ingest). */
export interface LineProblem {
  readonly line: number;
  readonly reason: string;
}

export interface EventLog {
  /** Records in simulated arrival order (stable for equal times). */
  readonly records: readonly LoggedRecord[];
  readonly problems: readonly LineProblem[];
  /** Non-empty lines read. */
  readonly lines: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

function timestampOf(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
  if (typeof v === "string" && v.trim() !== "") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** Parses the text of an event log; `file` only names it in messages. */
export function parseEventLog(text: string, file: string): EventLog {
  const trimmed = text.trimStart();
  if (trimmed === "")
    throw new EventLogError(`${file}: the file is empty; expected JSON lines, one event per line`);
  if (trimmed.startsWith("[")) {
    let isArray = false;
    try {
      isArray = Array.isArray(JSON.parse(trimmed));
    } catch {
      isArray = false;
    }
    if (isArray) {
      throw new EventLogError(
        `${file}:1: the file is one JSON array; replay expects JSON lines (one event object per line), e.g. jq -c '.[]' ${file}`,
      );
    }
  }
  const raw = text.split(/\r?\n/);
  const pending: Array<{
    line: number;
    data: string;
    t: number | undefined;
    modelId?: string;
    requestId?: string;
  }> = [];
  const problems: LineProblem[] = [];
  let lines = 0;
  raw.forEach((data, i) => {
    if (data.trim() === "") return;
    lines++;
    const line = i + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch (e) {
      problems.push({ line, reason: `not valid JSON (${(e as Error).message})` });
      pending.push({ line, data, t: undefined });
      return;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      problems.push({ line, reason: "not a JSON object" });
      pending.push({ line, data, t: undefined });
      return;
    }
    const o = parsed as Record<string, unknown>;
    const t = timestampOf(o.timestamp);
    if (t === undefined)
      problems.push({ line, reason: `missing or invalid "timestamp" (${JSON.stringify(o.timestamp)})` });
    pending.push({
      line,
      data,
      t,
      ...(typeof o.modelId === "string" ? { modelId: o.modelId } : {}),
      ...(typeof o.requestId === "string" ? { requestId: o.requestId } : {}),
    });
  });
  const firstUsable = pending.find((p) => p.t !== undefined)?.t;
  if (firstUsable === undefined) {
    const sample = problems
      .slice(0, 3)
      .map((p) => `line ${p.line}: ${p.reason}`)
      .join("; ");
    throw new EventLogError(
      `${file}: none of its ${lines} lines is an event with a usable timestamp (${sample})`,
    );
  }
  let previous = firstUsable;
  const records: LoggedRecord[] = pending.map((p) => {
    const t = p.t ?? previous;
    previous = t;
    return {
      line: p.line,
      data: p.data,
      t,
      partitionKey: p.modelId ? `${p.modelId}#${p.requestId ?? ""}` : `line-${p.line}`,
      ...(p.modelId ? { modelId: p.modelId } : {}),
    };
  });
  records.sort((a, b) => a.t - b.t || a.line - b.line);
  return {
    records,
    problems,
    lines,
    firstMs: records[0]!.t,
    lastMs: records[records.length - 1]!.t,
  };
}
