#!/usr/bin/env -S npx tsx
/**
 * CDK app entry point (`cdk synth`, `cdk deploy`; cdk.json runs it with tsx). Reads the deployment
 * configuration named by the `config` context value (default in cdk.json:
 * config/example.config.json; override with `cdk deploy -c config=path/to/my.config.json`),
 * validates it, and builds the stateful and stateless stacks with the cdk-nag AwsSolutions and
 * Serverless packs registered. An invalid configuration stops here with one `field.path: problem`
 * line per mistake and exit code 1, before any resource is constructed.
 *
 * CDK's built-in CloudFormation schema validation (a WebAssembly engine, about half of the synth CPU
 * time) is off by default to keep `npm run synth` fast; turn it on with `-c cfnValidate=true`.
 */
import { App } from "aws-cdk-lib";
import { ConfigError, loadConfig } from "../contracts/config";
import { createRetrainApp } from "../lib/stacks/retrain-app";

const probe = new App({ autoSynth: false });
const configPath = String(probe.node.tryGetContext("config") ?? "config/example.config.json");
const cfnValidate = String(probe.node.tryGetContext("cfnValidate") ?? "false") === "true";
const app = new App({
  builtinCloudFormationValidation: cfnValidate,
  // Cross-stack references stay CloudFormation exports (the stateless stack imports the stateful one).
  context: { "@aws-cdk/core:defaultCrossStackReferences": "strong" },
});

try {
  createRetrainApp(loadConfig(configPath), { app });
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
