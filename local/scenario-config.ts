/**
 * The deployment configuration a local scenario runs under: one model (the scenario's), validated by
 * the same `loadConfig` as `cdk synth`, with the DEFAULT trigger policy and validation gate: no threshold
 * is set here (a user gets the defaults, and the local scenarios must hold with them). What is set
 * describes the scenario, not the judgement: its features, label horizon, the local trainer's image and
 * training window, an all-at-once deployment without bake time, and the schedule. The same file works
 * for `replay --config`.
 */
import { type DeploymentConfig, type DeploymentConfigInput, loadConfig } from "../contracts/config";
import type { Scenario } from "./scenarios/types";

/** Bucket of the local archive (Firehose stand-in) and of workflow datasets/artifacts. */
export const LOCAL_ARCHIVE_BUCKET = "local-archive";

/** The scenario's model in a deployment configuration input (before defaults). */
export function scenarioConfigInput(scenario: Scenario): DeploymentConfigInput {
  return {
    name: "RetrainTriggersLocal",
    models: [
      {
        id: scenario.modelId,
        task: "binary",
        features: scenario.features.map((f) => ({
          name: f.name,
          kind: f.kind,
          ...(f.importance !== undefined ? { importance: f.importance } : {}),
        })),
        labelHorizonHours: 72,
        bucketMinutes: 60,
        training: {
          imageUri: "local/simulated-sagemaker-trainer:logistic-regression",
          trainingWindowDays: 3,
          hyperparameters: { steps: 300 },
        },
        deployment: {
          endpointName: `${scenario.modelId}-local`,
          strategy: "all-at-once",
          bakeTimeMinutes: 0,
        },
        approval: { required: "never" },
      },
    ],
    schedule: { expression: "rate(12 hours)" },
    ingest: { streamMode: "provisioned", shardCount: 1, batchSize: 500, bisectBatchOnError: true },
  } as DeploymentConfigInput;
}

/** The validated configuration of a scenario (throws ConfigError naming the field if a default breaks). */
export function scenarioConfig(scenario: Scenario): DeploymentConfig {
  return loadConfig(scenarioConfigInput(scenario) as object);
}
