/** Registry of local-mode scenarios, selectable with `npm run local -- --scenario <name>`. */
import { dataQualityScenario } from "./data-quality";
import { driftScenario } from "./drift";
import { harmlessDriftScenario } from "./harmless-drift";
import { stationarySeasonalScenario } from "./stationary-seasonal";
import type { Scenario, ScenarioOptions } from "./types";

export const SCENARIOS: Readonly<
  Record<string, { description: string; create: (o?: ScenarioOptions) => Scenario }>
> = {
  drift: { description: driftScenario().description, create: driftScenario },
  "stationary-seasonal": {
    description: stationarySeasonalScenario().description,
    create: stationarySeasonalScenario,
  },
  "harmless-drift": { description: harmlessDriftScenario().description, create: harmlessDriftScenario },
  "data-quality": { description: dataQualityScenario().description, create: dataQualityScenario },
};

export const DEFAULT_SCENARIO = "drift";

/** Thrown for an unknown `--scenario`; the message lists the valid names. */
export class UnknownScenarioError extends Error {
  constructor(name: string) {
    super(`unknown scenario "${name}"; choose one of: ${Object.keys(SCENARIOS).join(", ")}`);
    this.name = "UnknownScenarioError";
  }
}

export function createScenario(name: string, options: ScenarioOptions = {}): Scenario {
  const entry = SCENARIOS[name];
  if (!entry) throw new UnknownScenarioError(name);
  return entry.create(options);
}

export type { Scenario, ScenarioOptions } from "./types";
