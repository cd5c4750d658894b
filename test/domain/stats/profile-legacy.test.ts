/**
 * Profiles serialized by the old code (format versions 1 and 2: the floating-point grid sketch),
 * test/fixtures/legacy-profiles.json, written by scripts/gen-legacy-profiles.ts from deterministic events.
 * They must still be read: counts, extremes and categories as the events give them, grid cells converted
 * exactly (a grid that never coarsened is an exact sketch; one that did is marked legacy, its bound
 * unknown), and they merge with profiles of the current format.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ProfileSpec } from "../../../contracts/model";
import { emptyProfile } from "../../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../../../lambdas/domain/stats/profile-merge";
import { addPrediction } from "../../../lambdas/domain/stats/profile-update";
import { errorBound, isLegacySketch, sketchCount } from "../../../lambdas/domain/stats/sketch";
import { legacyEvents } from "../../../scripts/gen-legacy-profiles";

interface Entry {
  readonly events: number;
  readonly seed: number;
  readonly profile: string;
}
const fixture = JSON.parse(readFileSync(join(__dirname, "../../fixtures/legacy-profiles.json"), "utf8")) as {
  spec: ProfileSpec;
  entries: Record<string, Record<"small" | "large", Entry>>;
};
const cases = Object.entries(fixture.entries).flatMap(([version, sizes]) =>
  Object.entries(sizes).map(([size, entry]) => [version, size, entry] as const),
);

describe("profiles written by the old code (format versions 1 and 2)", () => {
  it("the fixture holds both versions, small and large", () => {
    expect(cases.map(([v, s]) => `${v}/${s}`).sort()).toEqual([
      "v1/large",
      "v1/small",
      "v2/large",
      "v2/small",
    ]);
  });

  it.each(cases)("%s %s: counts, extremes and categories are the events'", (_v, _s, entry) => {
    const events = legacyEvents(entry.events, entry.seed);
    const p = deserializeProfile(entry.profile);
    expect(p.count).toBe(entry.events);
    expect(p.labelled).toBe(entry.events);
    for (const name of ["small", "wide", "signed", "missingSome"]) {
      const values = events.map((e) => e.features[name]).filter((v): v is number => typeof v === "number");
      const s = p.features[name];
      if (s?.kind !== "numeric") throw new Error(`${name}: numeric expected`);
      expect([s.count, s.missing, s.min, s.max]).toEqual([
        values.length,
        entry.events - values.length,
        Math.min(...values),
        Math.max(...values),
      ]);
      expect(sketchCount(s.sketch)).toBe(values.length);
    }
    const plan = p.features.plan;
    if (plan?.kind !== "categorical") throw new Error("plan: categorical expected");
    for (const c of ["basic", "pro", "team"])
      expect(plan.counts.get(c)).toBe(events.filter((e) => e.features.plan === c).length);
  });

  it.each(cases)("%s %s: exact grids stay exact, coarsened ones are marked legacy", (_v, size, entry) => {
    const p = deserializeProfile(entry.profile);
    const small = p.features.small;
    const wide = p.features.wide;
    if (small?.kind !== "numeric" || wide?.kind !== "numeric") throw new Error("numeric expected");
    // Six distinct values: every cell of the old grid was exact.
    expect(isLegacySketch(small.sketch)).toBe(false);
    expect(errorBound(small.sketch)).toBe(0);
    if (size === "large") {
      expect(isLegacySketch(wide.sketch)).toBe(true);
      expect(errorBound(wide.sketch)).toBeNaN();
    }
  });

  it.each(cases)(
    "%s %s: merges with a current profile and round-trips in the current format",
    (_v, _s, entry) => {
      const old = deserializeProfile(entry.profile);
      const current = emptyProfile(fixture.spec);
      for (const e of legacyEvents(50, 99)) addPrediction(current, e);
      const merged = mergeProfiles(old, current);
      expect(merged.count).toBe(entry.events + 50);
      const again = deserializeProfile(serializeProfile(merged));
      expect(again.count).toBe(merged.count);
      const wide = again.features.wide;
      if (wide?.kind !== "numeric") throw new Error("numeric expected");
      expect(sketchCount(wide.sketch)).toBe(
        merged.features.wide?.kind === "numeric" ? merged.features.wide.count : -1,
      );
    },
  );
});
