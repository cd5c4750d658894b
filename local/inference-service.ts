/**
 * SIMULATED inference service: the team's application that calls the model endpoint and emits
 * prediction and (later) label events on the Kinesis stream, schema v1. It draws requests from a
 * scenario's world, asks the local endpoint for a prediction, and schedules the ground truth to arrive
 * after the scenario's label delay. Because it knows the truth at once, it also tallies the TRUE
 * accuracy of served predictions per day, which the report compares with what the evaluator saw.
 */

import { DAY_MS, HOUR_MS } from "../contracts/time";
import type { LocalEndpoint } from "./endpoint";
import { malformedPayload } from "./generators/extras";
import type { StreamRecord } from "./pipeline";
import { SeededRandom } from "./prng";
import type { Scenario } from "./scenarios/types";

/** Served predictions and correct ones, per simulated day index. */
export interface DailyTally {
  predictions: number;
  correct: number;
  labels: number;
  malformed: number;
}

interface PendingLabel {
  readonly due: number;
  readonly data: string;
  readonly partitionKey: string;
}

/** Records emitted in a time slice, with their raw text for the archive. */
export interface EmittedSlice {
  readonly records: StreamRecord[];
  readonly predictions: number;
  readonly labels: number;
  readonly malformed: number;
}

/** Simulated network latency between the service and the stream. */
const PUT_LATENCY_MS = 150;

export class InferenceService {
  private readonly rng: SeededRandom;
  private pending: PendingLabel[] = [];
  readonly days: DailyTally[] = [];
  totals = { predictions: 0, labels: 0, malformed: 0 };

  constructor(
    private readonly scenario: Scenario,
    private readonly endpoint: LocalEndpoint,
  ) {
    this.rng = new SeededRandom(scenario.seed * 7919 + 1);
  }

  private tally(t: number): DailyTally {
    const d = Math.floor((t - this.scenario.start) / DAY_MS);
    while (this.days.length <= d) this.days.push({ predictions: 0, correct: 0, labels: 0, malformed: 0 });
    return this.days[d]!;
  }

  /** Serves the requests of [from, to) and releases the labels due in it; records sorted by arrival. */
  emit(from: number, to: number): EmittedSlice {
    const s = this.scenario;
    const rng = this.rng;
    const out: StreamRecord[] = [];
    let predictions = 0;
    let malformed = 0;
    for (let h = from; h < to; h += HOUR_MS) {
      const end = Math.min(h + HOUR_MS, to);
      const mean = (s.eventsPerDay / 24) * ((end - h) / HOUR_MS) * s.traffic((h + end) / 2);
      const n = rng.poisson(mean);
      const times = Array.from({ length: n }, () => Math.floor(rng.uniform(h, end))).sort((a, b) => a - b);
      for (const t of times) {
        const example = s.generator.sample(t, rng);
        const served = this.endpoint.invoke(example.features);
        const requestId = rng.id(20);
        const event = {
          schemaVersion: 1,
          type: "prediction",
          modelId: s.modelId,
          modelVersion: served.modelVersion,
          requestId,
          timestamp: new Date(t).toISOString(),
          features: example.features,
          prediction: served.prediction,
          score: served.score,
        };
        const partitionKey = `${s.modelId}#${requestId}`;
        const arrivalMs = Math.min(t + PUT_LATENCY_MS, to - 1);
        const day = this.tally(t);
        if (rng.next() < s.malformedRate(t)) {
          out.push({ data: malformedPayload(event, rng), partitionKey, arrivalMs });
          malformed++;
          day.malformed++;
          continue;
        }
        out.push({ data: JSON.stringify(event), partitionKey, arrivalMs });
        predictions++;
        day.predictions++;
        if (served.prediction === example.label) day.correct++;
        if (rng.next() < s.labelRate) {
          const [lo, hi] = s.labelDelayHours;
          const due = Math.round(t + rng.uniform(lo, hi) * HOUR_MS);
          const label = {
            schemaVersion: 1,
            type: "label",
            modelId: s.modelId,
            requestId,
            timestamp: new Date(due).toISOString(),
            label: example.label,
            // The service logs what it served, so the ingest can place the outcome without a lookup.
            prediction: served.prediction,
            score: served.score,
            predictionTimestamp: t,
          };
          this.pending.push({ due, data: JSON.stringify(label), partitionKey });
        }
      }
    }
    let labels = 0;
    const later: PendingLabel[] = [];
    for (const p of this.pending) {
      if (p.due < to) {
        out.push({
          data: p.data,
          partitionKey: p.partitionKey,
          arrivalMs: Math.max(from, Math.min(p.due + PUT_LATENCY_MS, to - 1)),
        });
        labels++;
        this.tally(p.due).labels++;
      } else later.push(p);
    }
    this.pending = later;
    out.sort((a, b) => a.arrivalMs - b.arrivalMs);
    this.totals.predictions += predictions;
    this.totals.labels += labels;
    this.totals.malformed += malformed;
    return { records: out, predictions, labels, malformed };
  }
}
