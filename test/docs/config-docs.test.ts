import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../contracts/config";
import { METRIC_NAMES } from "../../contracts/telemetry";

/** docs/configuration.md split into sections by heading. */
const docs = readFileSync("docs/configuration.md", "utf8");
const sections = new Map<string, string>();
for (const chunk of docs.split(/^#{2,3} /m).slice(1)) {
  const newline = chunk.indexOf("\n");
  sections.set(chunk.slice(0, newline).trim(), chunk.slice(newline));
}

/** Which docs section documents each part of DEFAULTS. */
const SECTION_OF: Record<string, string> = {
  model: "`models[i]`",
  training: "`models[i].training`",
  deployment: "`models[i].deployment`",
  schedule: "`schedule`",
  alerts: "`alerts`",
  retention: "`retention`",
  ingest: "`ingest`",
};

/** Trimmed cells of the table row whose first cell is `field` (in backticks), if any. */
function rowCells(body: string, field: string): string[] | undefined {
  for (const line of body.split("\n")) {
    if (!line.startsWith("|")) continue;
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells[0] === `\`${field}\``) return cells;
  }
  return undefined;
}

function leaves(value: unknown, path: string[] = []): { path: string[]; value: unknown }[] {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [{ path, value }];
}

describe("docs/configuration.md", () => {
  const { name, ...grouped } = DEFAULTS;
  const cases = leaves(grouped).map(({ path, value }) => ({
    section: SECTION_OF[path[0]!]!,
    field: path.slice(1).join("."),
    value,
  }));

  it.each(cases)("documents $field in $section with default $value", ({ section, field, value }) => {
    const body = sections.get(section);
    expect(body, `section ${section}`).toBeDefined();
    const cells = rowCells(body!, field);
    expect(cells, `row for ${field}`).toBeDefined();
    expect(cells![1]).toBe(`\`${JSON.stringify(value)}\``);
  });

  it("documents the top-level name and its default", () => {
    expect(rowCells(sections.get("Top level")!, "name")?.[1]).toBe(`\`${JSON.stringify(name)}\``);
  });

  it("documents every metric name the dashboard charts", () => {
    const metrics = sections.get("Metrics charted and alarmed")!;
    for (const metric of Object.values(METRIC_NAMES)) expect(rowCells(metrics, metric)).toBeDefined();
  });
});
