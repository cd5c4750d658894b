/**
 * Promote: after the endpoint serves the challenger, record it as champion (and as a model package when
 * configured), store its baseline and reset the trigger state, under the run's lease.
 */
import {
  type EvaluationResult,
  type PromotionResult,
  type RetrainingDeps,
  type RunPlan,
  subject,
} from "./run-plan";

export async function promote(
  deps: RetrainingDeps,
  input: {
    run: RunPlan;
    training: { jobName: string; modelArtifacts: string };
    evaluation: EvaluationResult;
  },
): Promise<PromotionResult> {
  const { state, hosting, objects } = deps;
  const { run, training, evaluation } = input;
  const baseline = await objects.getText(evaluation.baselineUri);
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(evaluation.challenger)) if (typeof v === "number") metrics[k] = v;
  const modelPackageArn =
    run.modelPackageGroup && hosting.registerModelPackage
      ? await hosting.registerModelPackage({
          groupName: run.modelPackageGroup,
          image: run.deployment.image,
          modelDataUrl: training.modelArtifacts,
          description: evaluation.summary,
          clientToken: run.runId,
          metadata: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, String(v)])),
        })
      : undefined;
  await state.promote({
    leaseOwner: run.leaseOwner,
    champion: {
      modelId: run.modelId,
      version: run.runId,
      modelName: run.names.model,
      endpointName: run.endpoint.name,
      endpointConfigName: run.names.endpointConfig,
      modelArtifacts: training.modelArtifacts,
      trainingJobName: training.jobName,
      ...(modelPackageArn ? { modelPackageArn } : {}),
      metrics,
      promotedAt: deps.now(),
    },
    baselineVersion: run.runId,
    baseline,
  });
  return {
    championVersion: run.runId,
    ...(modelPackageArn ? { modelPackageArn } : {}),
    baselineVersion: run.runId,
    subject: subject(`[retrain-triggers] model ${run.modelId} retrained and deployed`),
    message: `${evaluation.summary}\nEndpoint ${run.endpoint.name} now serves ${run.names.model} (config ${run.names.endpointConfig}); the new baseline and champion ${run.runId} are recorded and the trigger state is reset.`,
  };
}
