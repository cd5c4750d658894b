/**
 * LOCAL STAND-IN for the Firehose -> S3 raw-event archive (the future training data). Same object
 * layout as the deployed delivery stream: `s3://<bucket>/<modelId>/yyyy/MM/dd/<modelId>-yyyy-MM-dd-HH-0.jsonl`
 * by arrival hour, one record per line; records Firehose could not route (no usable `modelId`) go
 * under `errors/yyyy/MM/dd/`. Objects live in a `MemoryObjectStore`, which the workflow tasks read
 * through the same `ObjectStore` port as S3.
 */
import type { FeatureValue } from "../contracts/events";
import type { MemoryObjectStore } from "./object-store";
import type { LabelledExample } from "./trainer";

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `yyyy/MM/dd` of a UTC time, as in the archive prefix. */
export function datePath(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}

function routeModelId(record: string): string | undefined {
  try {
    const parsed = JSON.parse(record) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      const id = (parsed as { modelId?: unknown }).modelId;
      if (typeof id === "string" && /^[A-Za-z0-9._-]{1,64}$/.test(id)) return id;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export class LocalArchive {
  constructor(
    readonly objects: MemoryObjectStore,
    readonly bucket: string,
  ) {}

  /** Delivers records (raw JSON text, as put on the stream) that arrived at `arrivalMs`. */
  deliver(records: readonly string[], arrivalMs: number): void {
    const d = new Date(arrivalMs);
    const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}`;
    for (const record of records) {
      const modelId = routeModelId(record);
      const key = modelId
        ? `${modelId}/${datePath(arrivalMs)}/${modelId}-${stamp}-0.jsonl`
        : `errors/${datePath(arrivalMs)}/errors-${stamp}-0.jsonl`;
      this.objects.appendLine(`s3://${this.bucket}/${key}`, record.replace(/\n/g, " "));
    }
  }

  /** Object keys (not URIs) under a key prefix, sorted. */
  list(prefix: string): string[] {
    const base = `s3://${this.bucket}/`;
    return this.objects.listSync(`${base}${prefix}`).map((uri) => uri.slice(base.length));
  }

  /**
   * Joins archived predictions with their labels for one model, over predictions whose event time is
   * in [fromMs, toMs). Unparsable lines are skipped (they are quarantined on the ingest path).
   */
  labelledExamples(modelId: string, fromMs: number, toMs: number): LabelledExample[] {
    const predictions = new Map<string, { features: Record<string, FeatureValue>; t: number }>();
    const labels = new Map<string, number | string>();
    for (const key of this.list(`${modelId}/`)) {
      for (const line of this.objects.getSync(`s3://${this.bucket}/${key}`).split("\n")) {
        if (line === "") continue;
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const requestId = typeof e.requestId === "string" ? e.requestId : undefined;
        if (!requestId) continue;
        if (e.type === "prediction" && e.features && typeof e.features === "object") {
          const t = typeof e.timestamp === "number" ? e.timestamp : Date.parse(String(e.timestamp));
          if (Number.isFinite(t) && t >= fromMs && t < toMs) {
            predictions.set(requestId, { features: e.features as Record<string, FeatureValue>, t });
          }
        } else if (e.type === "label" && (typeof e.label === "number" || typeof e.label === "string")) {
          labels.set(requestId, e.label);
        }
      }
    }
    const rows: Array<LabelledExample & { t: number }> = [];
    for (const [requestId, p] of predictions) {
      const label = labels.get(requestId);
      if (label !== undefined) rows.push({ features: p.features, label, t: p.t });
    }
    rows.sort((a, b) => a.t - b.t);
    return rows.map(({ features, label }) => ({ features, label }));
  }
}
