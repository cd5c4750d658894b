/**
 * cfn-lint suppressions for single resources, written as the resource's `Metadata.cfn-lint` so that each
 * one is next to the code that causes it, with its reason, and no rule is switched off for the whole
 * template (https://github.com/aws-cloudformation/cfn-lint#resource-based-metadata). .ci/run lints the
 * synthesized templates (scripts/cfn-lint.sh, .cfnlintrc.yaml).
 */
import type { CfnResource } from "aws-cdk-lib";

/** Ignores `ruleIds` of cfn-lint on `resource`; `reason` says why (kept in the code, not the template). */
export function ignoreCfnLint(resource: CfnResource, reason: string, ...ruleIds: readonly string[]): void {
  if (reason.trim().length < 20)
    throw new Error(`cfn-lint suppression of ${ruleIds.join(", ")} needs a reason`);
  const existing = (resource.getMetadata("cfn-lint") as { config?: { ignore_checks?: string[] } } | undefined)
    ?.config?.ignore_checks;
  const ignore = [...new Set([...(existing ?? []), ...ruleIds])].sort();
  resource.addMetadata("cfn-lint", { config: { ignore_checks: ignore } });
}

/**
 * W3005 on a Lambda function or state machine: CDK makes the resource depend on its whole role
 * construct, the role and its DefaultPolicy, so that the policy exists before the resource is created;
 * the role's entry in DependsOn repeats the dependency its `GetAtt` already makes. Harmless, and not ours
 * to change (aws-lambda Function, aws-stepfunctions StateMachine add it).
 */
export const CDK_ROLE_DEPENDS_ON =
  "CDK's DependsOn on the execution role repeats the dependency of the GetAtt on it (the DefaultPolicy entry is the one that matters)";
