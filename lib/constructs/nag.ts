import {
  CfnResource,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  Validations,
} from "aws-cdk-lib";
import { rules } from "cdk-nag";
import type { IConstruct } from "constructs";

/**
 * Acknowledges cdk-nag findings on a construct (and its children) with one specific reason. cdk-nag 3
 * uses CDK's native `Validations.of().acknowledge()` and matches ids exactly: each finding of a
 * granular rule is its own id, e.g. `AwsSolutions-IAM5[Resource::*]`; a bare `AwsSolutions-IAM5`
 * does NOT cover them (use {@link acknowledgeWildcards} for patterns).
 */
export function acknowledge(scope: IConstruct, reason: string, ...ids: readonly string[]): void {
  if (reason.trim().length < 20)
    throw new Error(`cdk-nag acknowledgment of ${ids.join(", ")} needs a specific reason`);
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}

interface WildcardAcknowledgment {
  readonly scope: IConstruct;
  readonly pattern: RegExp;
  readonly reason: string;
}

const wildcardAcknowledgments: WildcardAcknowledgment[] = [];

/**
 * Acknowledges the AwsSolutions-IAM5 (wildcard permission) findings under `scope` whose finding text
 * (`Action::kms:GenerateDataKey*`, `Resource::<arn>/prefix/*`, ...) matches `pattern`, with a reason.
 * cdk-nag 3 has no pattern acknowledgments, and finding texts of cross-stack references contain
 * generated export names known only after synthesis; {@link WildcardAcknowledgmentPlugin} (registered
 * before the nag packs) turns each pattern into exact per-finding acknowledgments then. Findings that
 * match no pattern still fail synth.
 */
export function acknowledgeWildcards(scope: IConstruct, pattern: RegExp, reason: string): void {
  if (reason.trim().length < 20)
    throw new Error(`cdk-nag acknowledgment of ${pattern} needs a specific reason`);
  wildcardAcknowledgments.push({ scope, pattern, reason });
}

const isWithin = (node: IConstruct, root: IConstruct): boolean => node.node.root === root.node.root;

/**
 * Applies the {@link acknowledgeWildcards} patterns of the app containing `root`: runs the IAM5 rule
 * on every resource under each pattern's scope and acknowledges the matching findings exactly.
 * Call after synthesis (references resolved), before running the nag packs.
 */
export function applyWildcardAcknowledgments(root: IConstruct): void {
  for (const ack of wildcardAcknowledgments) {
    if (!isWithin(ack.scope, root)) continue;
    for (const node of ack.scope.node.findAll()) {
      if (!(node instanceof CfnResource)) continue;
      const findings = rules.iam.IAMNoWildcardPermissions(node);
      if (!Array.isArray(findings)) continue;
      for (const finding of findings) {
        if (ack.pattern.test(finding))
          Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: ack.reason });
      }
    }
  }
}

/**
 * Validation plugin that applies {@link acknowledgeWildcards} patterns. Register it before the cdk-nag
 * packs: `Validations.of(app).addPlugins(new WildcardAcknowledgmentPlugin(), new AwsSolutionsChecks(app))`.
 * It reports no violations itself.
 */
export class WildcardAcknowledgmentPlugin implements IPolicyValidationPlugin {
  public readonly name = "WildcardAcknowledgments";

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const root = (context as IPolicyValidationContext & { appConstruct?: IConstruct }).appConstruct;
    if (root) applyWildcardAcknowledgments(root);
    return { success: true, violations: [] };
  }
}
