/**
 * bench/local: the default `npm run local` run (drift scenario, 30 simulated days) timed end to end,
 * against the 60 s budget of issue 7, with a per-phase breakdown and the machine's load so that a slow
 * figure on a busy machine can be told from a regression. CPU seconds of this process are reported too:
 * they do not grow with other processes' load the way wall time does.
 */
import "../local/polyfills";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runLocal } from "../local/run-local";

export async function run(): Promise<Record<string, unknown>> {
  const load = loadavg()[0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await runLocal({ outDir: join(tmpdir(), "bench-local"), progress: false });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s = result.summary;
  return {
    scenario: s.scenario,
    simulatedDays: s.simulatedDays,
    events: s.events,
    evaluations: s.evaluations,
    retrains: s.retrains,
    deploys: s.deploys,
    wallSeconds: Math.round(wall * 10) / 10,
    budgetSeconds: 60,
    withinBudget: wall < 60,
    cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
    eventsPerWallSecond: Math.round(s.events / wall),
    phasesMs: result.phases,
    loadAverage1mAtStart: Math.round((load ?? 0) * 10) / 10,
    cpus: (await import("node:os")).cpus().length,
    accuracy: {
      beforeDrift: s.accuracyBeforeDrift,
      afterDrift: s.accuracyAfterDrift,
      afterRetrain: s.accuracyAfterRetrain,
    },
  };
}
