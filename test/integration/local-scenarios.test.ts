/**
 * The control scenarios end to end at reduced size: stationary-but-seasonal traffic, harmless drift of
 * ignored features, and a data-quality incident must not retrain; the incident must raise a
 * data-quality alert and its malformed records must be quarantined.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runLocal } from "../../local/run-local";

let dir = "";
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("local control scenarios (8 simulated days each)", () => {
  it.each([
    { scenario: "stationary-seasonal", alerts: "none" as const, quarantined: false },
    { scenario: "harmless-drift", alerts: "any" as const, quarantined: false },
    { scenario: "data-quality", alerts: "dataQuality" as const, quarantined: true },
  ])(
    "$scenario: no retrain (alerts: $alerts)",
    async ({ scenario, alerts, quarantined }) => {
      dir ||= await mkdtemp(join(tmpdir(), "local-scenarios-"));
      const result = await runLocal({ scenario, days: 8, outDir: join(dir, scenario), progress: false });
      expect(result.decisions.length).toBe(16);
      expect(result.decisions.filter((d) => d.action === "retrain")).toEqual([]);
      expect(result.deployments).toEqual([]);
      const alerted = result.decisions.filter((d) => d.action === "alert");
      if (alerts === "none") expect(alerted).toEqual([]);
      if (alerts === "dataQuality") {
        expect(alerted.length).toBeGreaterThan(0);
        expect(alerted.some((d) => d.reason.includes("dataQuality"))).toBe(true);
      }
      expect(result.summary.quarantined > 0).toBe(quarantined);
      expect(result.summary.aggregated + result.summary.quarantined).toBe(result.summary.events);
    },
    120_000,
  );
});
