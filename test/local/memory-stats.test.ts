/**
 * The in-memory statistics of `replay` drop what the evaluator can no longer read, and say so when a read
 * asks for it: a bucket's statistics after the widest window, its labelled outcomes after the training
 * window the evaluator counts labels over. What is kept reads as it did before the prune.
 */
import { describe, expect, it } from "vitest";
import { HOUR_MS } from "../../contracts/time";
import { partitionKeyOf } from "../../local/log-spill";
import { MemoryPipeline } from "../../local/memory-pipeline";
import { PrunedStatisticsError } from "../../local/memory-stats";
import { sampleEventLog } from "../../local/sample-log";
import { scenarioConfig } from "../../local/scenario-config";
import { createScenario } from "../../local/scenarios";

const config = scenarioConfig(createScenario("drift"));

async function filled(): Promise<{ pipeline: MemoryPipeline; modelId: string; start: number; end: number }> {
  const { lines, modelId } = sampleEventLog("drift", { days: 1, eventsPerDay: 480, seed: 2 });
  const records = lines.flatMap((data, ord) => {
    let e: { modelId?: unknown; requestId?: unknown; timestamp?: unknown };
    try {
      e = JSON.parse(data);
    } catch {
      return [];
    }
    const t = typeof e.timestamp === "string" ? Date.parse(e.timestamp) : Number.NaN;
    if (Number.isNaN(t)) return [];
    return [{ data, partitionKey: partitionKeyOf(e.modelId, e.requestId, ord), arrivalMs: t }];
  });
  records.sort((a, b) => a.arrivalMs - b.arrivalMs);
  const pipeline = new MemoryPipeline({ config });
  await pipeline.send(records);
  const start = Math.floor(records[0]!.arrivalMs / HOUR_MS) * HOUR_MS;
  const end = Math.floor(records[records.length - 1]!.arrivalMs / HOUR_MS) * HOUR_MS + HOUR_MS;
  return { pipeline, modelId, start, end };
}

describe("MemoryStatsRepository: pruned buckets", () => {
  it.each([
    { name: "statistics kept 6 h, outcomes 12 h", statsHours: 6, outcomeHours: 12 },
    { name: "outcomes no longer than the statistics", statsHours: 6, outcomeHours: 3 },
    { name: "nothing pruned", statsHours: 48, outcomeHours: 48 },
  ])("$name", async ({ statsHours, outcomeHours }) => {
    const { pipeline, modelId, start, end } = await filled();
    const stats = pipeline.stats;
    const hours = (end - start) / HOUR_MS;
    expect(hours).toBeGreaterThanOrEqual(23);
    const before = await stats.readOutcomes(modelId, start, end);
    expect(before.length).toBe(hours);
    expect(before.reduce((s, o) => s + o.labelled, 0)).toBeGreaterThan(100);

    pipeline.prune(
      end,
      () => statsHours,
      () => false,
      24,
      undefined,
      () => outcomeHours,
    );
    const statsFrom = end - statsHours * HOUR_MS;
    const outcomesFrom = end - Math.max(statsHours, outcomeHours) * HOUR_MS;
    const pruned = statsFrom > start;
    expect(pipeline.prunedBuckets).toBe(pruned ? (statsFrom - start) / HOUR_MS : 0);

    // Statistics: the kept window reads, a window reaching into the dropped part fails.
    const window = await stats.readWindow(modelId, statsFrom, end);
    expect(window.buckets.length).toBe(Math.min(statsHours, hours));
    if (pruned)
      await expect(stats.readWindow(modelId, statsFrom - HOUR_MS, end)).rejects.toThrow(
        PrunedStatisticsError,
      );

    // Outcomes: the kept span reads exactly as before the prune; before it, a read fails.
    const kept = await stats.readOutcomes(modelId, outcomesFrom, end);
    expect(kept).toEqual(before.filter((o) => o.bucketStart >= outcomesFrom));
    if (outcomesFrom > start)
      await expect(stats.readOutcomes(modelId, outcomesFrom - HOUR_MS, end)).rejects.toThrow(
        /outcomes of the bucket of .* were dropped/,
      );
    else expect(await stats.readOutcomes(modelId, start, end)).toEqual(before);
  });

  it("kept outcomes go once the outcome span moves past them", async () => {
    const { pipeline, modelId, end } = await filled();
    pipeline.prune(
      end,
      () => 6,
      () => false,
      24,
      undefined,
      () => 12,
    );
    expect(await pipeline.stats.readOutcomes(modelId, end - 12 * HOUR_MS, end)).toHaveLength(12);
    // Two hours later: the outcome span starts two hours later, the two oldest kept outcomes are gone.
    pipeline.prune(
      end + 2 * HOUR_MS,
      () => 6,
      () => false,
      24,
      undefined,
      () => 12,
    );
    expect(await pipeline.stats.readOutcomes(modelId, end - 10 * HOUR_MS, end)).toHaveLength(10);
    await expect(pipeline.stats.readOutcomes(modelId, end - 11 * HOUR_MS, end)).rejects.toThrow(
      PrunedStatisticsError,
    );
  });
});
