/**
 * The shape every state builder returns and the pieces they share. A builder returns the states it adds
 * (a Task state and the Choice, Pass or Wait states that go with it) and the IAM statements the state
 * machine role needs for them; {@link combineStates} assembles builders in definition order. Plain
 * Amazon States Language, no CDK imports: local mode and tests render the same builders.
 */
import type { IamGrant } from "./grants";

/** A JSON object of the definition (a state, a retrier, parameters). */
export type Json = Record<string, unknown>;

/** What a state builder returns: its states by name, and the grants they need. */
export interface BuiltStates {
  readonly states: Readonly<Record<string, Json>>;
  readonly grants: readonly IamGrant[];
}

/**
 * Placeholders in the definition, filled by CloudFormation `DefinitionSubstitutions` (tokens of the task
 * function, the SageMaker execution role and the topic, known only at deploy time).
 */
export const SUBSTITUTIONS = {
  taskFunctionArn: "TaskFunctionArn",
  sageMakerRoleArn: "SageMakerRoleArn",
  topicArn: "TopicArn",
} as const;

/** `${Name}`: how the definition refers to a substitution. */
export const placeholder = (name: string): string => `\${${name}}`;

/** A retrier with exponential backoff and full jitter (retries of concurrent runs spread out). */
export const retry = (
  errors: readonly string[],
  intervalSeconds: number,
  maxAttempts: number,
  maxDelaySeconds: number,
): Json => ({
  ErrorEquals: errors,
  IntervalSeconds: intervalSeconds,
  MaxAttempts: maxAttempts,
  BackoffRate: 2,
  MaxDelaySeconds: maxDelaySeconds,
  JitterStrategy: "FULL",
});

/** Catch everything into a failure-marking state; the error lands in `$.failure` ({Error, Cause}). */
export const catchTo = (next: string): Json[] => [
  { ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: next },
];

/**
 * The states of `parts` in the order given (the order of the definition's `States`) and all their
 * grants. A state name built twice is a programming error: the second would silently replace the first.
 */
export function combineStates(...parts: readonly BuiltStates[]): BuiltStates {
  const states: Record<string, Json> = {};
  const grants: IamGrant[] = [];
  for (const part of parts) {
    for (const [name, state] of Object.entries(part.states)) {
      if (name in states) throw new Error(`workflow state ${name} is built twice`);
      states[name] = state;
    }
    grants.push(...part.grants);
  }
  return { states, grants };
}
