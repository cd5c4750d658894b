/**
 * IAM statements declared by the workflow's states, as plain data. A state builder returns the states it
 * adds together with the statements the state machine role needs to run them, so a state and its
 * permissions are written (and reviewed) in one place; the construct grants exactly their union, and
 * local mode and tests can render them without CDK. Kept free of CDK imports on purpose.
 */

/** One IAM allow statement for the state machine role: actions on resources, optionally conditioned. */
export interface IamGrant {
  readonly actions: readonly string[];
  /** Resource ARNs: CloudFormation tokens in the construct, fake ARNs in local mode and tests. */
  readonly resources: readonly string[];
  /** IAM condition block, e.g. `{ StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } }`. */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * The union of `grants` as few statements as the data allows: grants on the same resources under the
 * same conditions become one statement with the union of their actions (first-seen order), duplicates
 * disappear, and grants without resources (e.g. alarms of a configuration without models) are dropped,
 * since an IAM statement must name at least one resource. Every (action, resource, condition) of the
 * input is in the output and nothing else.
 */
export function mergeGrants(grants: readonly IamGrant[]): IamGrant[] {
  const merged = new Map<string, { actions: string[]; grant: IamGrant }>();
  for (const grant of grants) {
    if (grant.resources.length === 0 || grant.actions.length === 0) continue;
    const key = JSON.stringify([grant.resources, grant.conditions ?? null]);
    const entry = merged.get(key);
    if (!entry) {
      merged.set(key, { actions: [...new Set(grant.actions)], grant });
      continue;
    }
    for (const action of grant.actions) if (!entry.actions.includes(action)) entry.actions.push(action);
  }
  return [...merged.values()].map(({ actions, grant }) => ({
    actions,
    resources: [...grant.resources],
    ...(grant.conditions ? { conditions: grant.conditions } : {}),
  }));
}
