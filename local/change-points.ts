/**
 * Change points of a model's accuracy, found from the labels of a replayed log when none are given: the
 * moments a backtest measures each policy's reaction time against.
 *
 * Method: labelled outcomes are summed per block of `blockHours` (by the prediction's event time), then
 * split recursively (binary segmentation) at the block boundary where the accuracies before and after
 * differ most by a two-proportion z statistic. A split counts when z reaches `minZ` (a difference sampling
 * cannot produce: z = 6 is a one-in-a-billion event under no change), the accuracies differ by at least
 * `minEffect` (large logs make tiny differences significant) and both sides hold at least `minBlocks`
 * blocks. These are settings of the backtest's reading of the log, not of any trigger policy.
 */
import { HOUR_MS } from "../contracts/time";

/** Labelled outcomes of one bucket: how many, how many correct. */
export interface AccuracyPoint {
  readonly t: number;
  readonly n: number;
  readonly correct: number;
}

export interface ChangePoint {
  /** Start of the first block after the change, epoch ms. */
  readonly at: number;
  readonly before: number;
  readonly after: number;
  readonly z: number;
}

export interface ChangePointOptions {
  /** @default 6 */
  readonly blockHours?: number;
  /** @default 4 (one day of 6-hour blocks) */
  readonly minBlocks?: number;
  /** @default 6 */
  readonly minZ?: number;
  /** @default 0.03 */
  readonly minEffect?: number;
}

interface Block {
  readonly t: number;
  n: number;
  correct: number;
}

/** Sums `points` per block of `blockHours` (aligned to the epoch), in time order, without empty blocks. */
export function blocksOf(points: readonly AccuracyPoint[], blockHours: number): Block[] {
  const width = blockHours * HOUR_MS;
  const byStart = new Map<number, Block>();
  for (const p of points) {
    if (p.n <= 0) continue;
    const t = Math.floor(p.t / width) * width;
    const b = byStart.get(t);
    if (b) {
      b.n += p.n;
      b.correct += p.correct;
    } else byStart.set(t, { t, n: p.n, correct: p.correct });
  }
  return [...byStart.values()].sort((a, b) => a.t - b.t);
}

/** Two-proportion z statistic (pooled) of correct/n before and after. */
function zOf(n1: number, c1: number, n2: number, c2: number): number {
  const p = (c1 + c2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0) return c1 / n1 === c2 / n2 ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(c1 / n1 - c2 / n2) / se;
}

/** Change points of the accuracy in `points`, in time order. */
export function detectChangePoints(
  points: readonly AccuracyPoint[],
  options: ChangePointOptions = {},
): ChangePoint[] {
  const minBlocks = options.minBlocks ?? 4;
  const minZ = options.minZ ?? 6;
  const minEffect = options.minEffect ?? 0.03;
  const blocks = blocksOf(points, options.blockHours ?? 6);
  const out: ChangePoint[] = [];
  const split = (from: number, to: number): void => {
    if (to - from < 2 * minBlocks) return;
    let n = 0;
    let c = 0;
    for (let i = from; i < to; i++) {
      n += blocks[i]!.n;
      c += blocks[i]!.correct;
    }
    let best: ChangePoint | undefined;
    let bestIndex = -1;
    let n1 = 0;
    let c1 = 0;
    for (let k = from; k < to - 1; k++) {
      n1 += blocks[k]!.n;
      c1 += blocks[k]!.correct;
      if (k + 1 - from < minBlocks || to - (k + 1) < minBlocks) continue;
      const z = zOf(n1, c1, n - n1, c - c1);
      const before = c1 / n1;
      const after = (c - c1) / (n - n1);
      if (Math.abs(before - after) >= minEffect && z >= minZ && (!best || z > best.z)) {
        best = { at: blocks[k + 1]!.t, before, after, z };
        bestIndex = k + 1;
      }
    }
    if (!best) return;
    split(from, bestIndex);
    out.push(best);
    split(bestIndex, to);
  };
  split(0, blocks.length);
  return out;
}

/** Accuracy of binary or multiclass performance statistics: correct and total labelled outcomes. */
export function correctOf(
  performance:
    | { task: "binary"; tp: number; fp: number; tn: number; fn: number }
    | { task: "multiclass"; confusion: Record<string, Record<string, number>> }
    | { task: "regression" },
): { n: number; correct: number } | undefined {
  if (performance.task === "binary") {
    const { tp, fp, tn, fn } = performance;
    return { n: tp + fp + tn + fn, correct: tp + tn };
  }
  if (performance.task === "multiclass") {
    let n = 0;
    let correct = 0;
    for (const [label, row] of Object.entries(performance.confusion))
      for (const [predicted, count] of Object.entries(row)) {
        n += count;
        if (predicted === label) correct += count;
      }
    return { n, correct };
  }
  return undefined;
}
