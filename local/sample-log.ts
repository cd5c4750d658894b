/**
 * Writes a scenario's event stream as a JSON-lines event log (schema v1), as an inference service's
 * logs would hold it: a quick way to get a realistic file to `replay`, and the fixture of the replay
 * tests. The initial model serves throughout (nothing is retrained while generating).
 */

import { DAY_MS } from "../contracts/time";
import { InferenceService } from "./inference-service";
import { MemoryObjectStore } from "./object-store";
import { SeededRandom } from "./prng";
import { LocalSageMaker } from "./sagemaker";
import { createScenario, type ScenarioOptions } from "./scenarios";
import { trainLogisticRegression } from "./trainer";

/** The JSON lines of a scenario run (in arrival order) and the scenario's model id. */
export function sampleEventLog(
  name: string,
  options: ScenarioOptions = {},
): { lines: string[]; modelId: string } {
  const scenario = createScenario(name, options);
  const rng = new SeededRandom(scenario.seed);
  const rows = Array.from({ length: scenario.initialTrainingExamples }, (_, i) =>
    scenario.generator.sample(scenario.start - DAY_MS + i, rng),
  );
  const model = trainLogisticRegression(rows, scenario.features, {
    version: "sample",
    trainedAt: scenario.start,
  });
  const sagemaker = new LocalSageMaker(
    new MemoryObjectStore(),
    () => scenario.features,
    () => scenario.start,
  );
  sagemaker.bootstrap("sample", "sample", model);
  const service = new InferenceService(scenario, sagemaker.endpoint("sample"));
  const slice = service.emit(scenario.start, scenario.start + scenario.days * DAY_MS);
  return { lines: slice.records.map((r) => r.data), modelId: scenario.modelId };
}
