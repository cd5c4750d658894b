/**
 * Measuring helpers shared by the benchmarks. CPU time (user + system of the whole process) is less
 * distorted than wall time on a shared machine; figures are reported as medians of several runs.
 */
export { median } from "simple-statistics";

/** CPU time the process has used so far, ms. */
export function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU time of one call of `fn`, ms. */
export function cpuTimeOf(fn: () => void): number {
  const start = cpuNowMs();
  fn();
  return cpuNowMs() - start;
}

/** CPU time of each of `runs` calls of `fn`, ms. */
export function cpuTimes(runs: number, fn: () => void): number[] {
  return Array.from({ length: runs }, () => cpuTimeOf(fn));
}

/** Wall time of one call of `fn`, ms. */
export function wallTimeOf(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
