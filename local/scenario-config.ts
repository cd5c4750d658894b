/**
 * The deployment configuration a local scenario runs under: one model (the scenario's), validated by
 * the same `loadConfig` as `cdk synth`, with a trigger policy sized for local volumes (a few hundred
 * events a day instead of millions: smaller minimum samples, and a prediction-drift threshold above the
 * sampling noise of ~200-event windows) and for the simulated time scale. Every
 * threshold is an ordinary policy field, so the same file works for `replay --config`.
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
        policy: {
          windowHours: 24,
          referenceWindowHours: 24,
          signals: {
            performance: { metric: "accuracy", floor: 0.85, maxRelativeDrop: 0.08, minLabels: 80 },
            estimatedPerformance: { metric: "accuracy", maxRelativeDrop: 0.08, minSamples: 100 },
            drift: {
              numericMethod: "psi",
              categoricalMethod: "jensenShannon",
              minSamples: 150,
              maxDriftedShare: 0.3,
            },
            predictionDrift: { minSamples: 100, threshold: 0.25 },
            dataQuality: {
              windowHours: 6,
              minEvents: 30,
              maxMissingRateIncrease: 0.2,
              maxQuarantineRate: 0.03,
            },
          },
          stability: {
            persistence: { m: 2, n: 3 },
            cooldownHours: 48,
            budget: { maxRetrains: 4, periodDays: 30 },
          },
          alerting: { minSeverity: "warn", topFeatures: 3 },
        },
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
        validationGate: { metric: "accuracy" },
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
