/**
 * The retraining use cases bound to their ports, one per task-Lambda state of the state machine
 * (contracts/workflow.ts TASK_ACTIONS), and the dispatch of a task event `{ action, ...input }`.
 */
import { TASK_ACTIONS } from "../../../contracts/workflow";
import { confirmLease } from "./confirm-lease";
import { evaluateChallenger } from "./evaluate-challenger";
import { prepareDataset } from "./prepare-dataset";
import { promote } from "./promote";
import { recordFailure } from "./record-failure";
import { releaseLease } from "./release-lease";
import { type RetrainingDeps, WorkflowInputError } from "./run-plan";

type InputOf<F> = F extends (deps: RetrainingDeps, input: infer I) => unknown ? I : never;

export function createWorkflowTasks(deps: RetrainingDeps) {
  const actions = {
    [TASK_ACTIONS.confirmLease]: (input: InputOf<typeof confirmLease>) => confirmLease(deps, input),
    [TASK_ACTIONS.prepareDataset]: (input: InputOf<typeof prepareDataset>) => prepareDataset(deps, input),
    [TASK_ACTIONS.evaluateChallenger]: (input: InputOf<typeof evaluateChallenger>) =>
      evaluateChallenger(deps, input),
    [TASK_ACTIONS.promote]: (input: InputOf<typeof promote>) => promote(deps, input),
    [TASK_ACTIONS.releaseLease]: (input: InputOf<typeof releaseLease>) => releaseLease(deps, input),
    [TASK_ACTIONS.fail]: (input: InputOf<typeof recordFailure>) => recordFailure(deps, input),
  } as const;
  type Action = keyof typeof actions;
  return {
    ...actions,
    /** Dispatches a state machine task event `{ action, ...input }`. */
    async handle(event: { action: string } & Record<string, unknown>): Promise<unknown> {
      const run = actions[event.action as Action] as ((input: never) => Promise<unknown>) | undefined;
      if (!run) throw new WorkflowInputError(`unknown workflow action: ${event.action}`);
      return run(event as never);
    },
  };
}

export type WorkflowTasks = ReturnType<typeof createWorkflowTasks>;
