import { App, Stack } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { acknowledge, acknowledgeWildcards, applyWildcardAcknowledgments } from "../../lib/constructs/nag";

function roleWithWildcards(): { app: App; role: Role } {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, "Nag");
  const role = new Role(stack, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
  role.addToPolicy(
    new PolicyStatement({
      actions: ["s3:GetObject"],
      resources: ["arn:aws:s3:::bucket/datasets/*", "arn:aws:s3:::bucket/other/*"],
    }),
  );
  return { app, role };
}

const iam5 = (app: App): string[] =>
  new AwsSolutionsChecks()
    .validateScope(app)
    .violations.map((v) => v.ruleName)
    .filter((r) => r.startsWith("AwsSolutions-IAM5"));

describe("cdk-nag acknowledgments", () => {
  it("report every wildcard finding when nothing is acknowledged", () => {
    const { app } = roleWithWildcards();
    app.synth();
    expect(iam5(app).sort()).toEqual([
      "AwsSolutions-IAM5[Resource::arn:aws:s3:::bucket/datasets/*]",
      "AwsSolutions-IAM5[Resource::arn:aws:s3:::bucket/other/*]",
    ]);
  });

  it("acknowledge only the findings a pattern matches", () => {
    const { app, role } = roleWithWildcards();
    acknowledgeWildcards(
      role,
      /^Resource::.*\/datasets\/\*$/,
      "Reads only generated dataset objects under the datasets prefix.",
    );
    app.synth();
    applyWildcardAcknowledgments(app);
    expect(iam5(app)).toEqual(["AwsSolutions-IAM5[Resource::arn:aws:s3:::bucket/other/*]"]);
  });

  it("do not treat a bare rule id as covering its granular findings", () => {
    const { app, role } = roleWithWildcards();
    acknowledge(role, "A bare rule id that cdk-nag 3 does not expand to findings.", "AwsSolutions-IAM5");
    app.synth();
    expect(iam5(app)).toHaveLength(2);
  });

  it("refuse an acknowledgment without a specific reason", () => {
    const { role } = roleWithWildcards();
    expect(() => acknowledge(role, "ok", "AwsSolutions-IAM5[Resource::*]")).toThrow(/specific reason/);
    expect(() => acknowledgeWildcards(role, /x/, "because")).toThrow(/specific reason/);
  });
});
