/** The canonical serialization behind replay's statistics digest (shared by both engines; no handler imports). */
/** Deterministic JSON: sorted keys, Maps/Sets as sorted arrays, safe integers exact, other numbers to 12 then 6 significant digits. */
export function canonicalJson(value: unknown): string {
  const walk = (v: unknown): unknown => {
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return String(v);
      // Two steps: 12 digits absorb last-bit noise (0.4954874999999999 vs 0.4954875, a common tie with
      // 4-decimal features), then 6 digits absorb larger merge-order differences.
      // Only safe integers are counts: a float sum beyond 2^53 (M2 of large values) is rounded too.
      return Number.isSafeInteger(v) ? v : Number(Number(v.toPrecision(12)).toPrecision(6));
    }
    if (v instanceof Map) {
      // Each key serialized once, not at every comparison of the sort.
      return [...v.entries()]
        .map(([k, x]) => {
          const key = walk(k);
          return { order: JSON.stringify(key), entry: [key, walk(x)] };
        })
        .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
        .map((e) => e.entry);
    }
    if (v instanceof Set) return [...v].map(walk).sort();
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, walk((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(walk(value));
}
