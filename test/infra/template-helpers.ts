import type { Template } from "aws-cdk-lib/assertions";

interface Statement {
  Effect?: string;
  Action?: string | string[];
}

/** Every action allowed by identity policies (IAM policies, managed policies, inline role policies). */
export function iamActions(template: Template): string[] {
  const statements: Statement[] = [];
  const docs = (props: Record<string, unknown>): void => {
    const doc = props.PolicyDocument as { Statement?: Statement[] } | undefined;
    if (doc?.Statement) statements.push(...doc.Statement);
    for (const p of (props.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? [])
      statements.push(...p.PolicyDocument.Statement);
  };
  for (const type of ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"]) {
    for (const resource of Object.values(template.findResources(type)) as {
      Properties: Record<string, unknown>;
    }[])
      docs(resource.Properties);
  }
  return statements
    .filter((s) => s.Effect === "Allow")
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : s.Action ? [s.Action] : []));
}

/** The single resource of a type whose logical id starts with `prefix` (fails otherwise). */
export function resourceByPrefix(
  template: Template,
  type: string,
  prefix: string,
): { Properties: Record<string, unknown>; [key: string]: unknown } {
  const matches = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1)
    throw new Error(
      `expected one ${type} with logical id ${prefix}*, found ${matches.map(([id]) => id).join(", ") || "none"}`,
    );
  return matches[0]![1] as { Properties: Record<string, unknown> };
}
