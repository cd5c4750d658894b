import { Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * Acknowledges cdk-nag findings on a construct (and its children) with one specific reason. cdk-nag 3
 * uses CDK's native `Validations.of().acknowledge()`: each finding id is acknowledged explicitly,
 * e.g. `AwsSolutions-IAM5[Resource::*]`, so a new, different finding still fails synth.
 */
export function acknowledge(scope: IConstruct, reason: string, ...ids: readonly string[]): void {
  if (reason.trim().length < 20)
    throw new Error(`cdk-nag acknowledgment of ${ids.join(", ")} needs a specific reason`);
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}
