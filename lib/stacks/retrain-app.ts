import { App, type AppProps, Tags, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import type { DeploymentConfig } from "../../contracts/config";
import { WildcardAcknowledgmentPlugin } from "../constructs/nag";
import { StatefulStack } from "./stateful-stack";
import { type HandlerEntries, StatelessStack } from "./stateless-stack";

export interface RetrainAppOptions {
  /** App to add the stacks to. @default a new App */
  readonly app?: App;
  /** Props of the new App (ignored when `app` is given). @default {} */
  readonly appProps?: AppProps;
  /**
   * Register the cdk-nag AwsSolutions and Serverless packs as validation plugins, so synth fails on
   * any unacknowledged finding. Tests that run the packs themselves turn this off.
   * @default true
   */
  readonly nag?: boolean;
  /** @default - the handlers under lambdas/handlers/ */
  readonly entries?: HandlerEntries;
}

export interface RetrainApp {
  readonly app: App;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/**
 * Builds the whole CDK app from a validated configuration: `<name>-Stateful` (data) and
 * `<name>-Stateless` (code), the configured tags, and the cdk-nag packs. Shared by bin/app.ts and
 * the infrastructure tests so both synthesize exactly the same thing.
 */
export function createRetrainApp(config: DeploymentConfig, options: RetrainAppOptions = {}): RetrainApp {
  const app = options.app ?? new App(options.appProps);
  const env = config.env ? { account: config.env.account, region: config.env.region } : undefined;
  const stateful = new StatefulStack(app, `${config.name}-Stateful`, {
    config,
    env,
    description:
      "Retraining triggers: events stream, state table, event archive, alert topic, dead-letter queues",
    terminationProtection: true,
  });
  const stateless = new StatelessStack(app, `${config.name}-Stateless`, {
    config,
    stateful,
    env,
    description: "Retraining triggers: ingest, scheduled evaluator, retraining workflow, alarms, dashboard",
    ...(options.entries ? { entries: options.entries } : {}),
  });
  stateless.addStackDependency(stateful);
  for (const [key, value] of Object.entries(config.tags)) Tags.of(app).add(key, value);
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(
      new WildcardAcknowledgmentPlugin(),
      new AwsSolutionsChecks(app, { verbose: true }),
      new ServerlessChecks(app, { verbose: true }),
    );
  }
  return { app, stateful, stateless };
}
