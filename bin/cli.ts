#!/usr/bin/env -S npx tsx
/**
 * Command-line entry point: `npm run cli -- <command>`. Each command lives in bin/commands/ and
 * registers itself here; `--help` works on the program and on every command.
 */
import "./sdk-node-warning";
import { Command } from "commander";
import "../local/polyfills";
import { approveCommand } from "./commands/approve";
import { driftCommand } from "./commands/drift";
import { localCommand } from "./commands/local";
import { rebaselineCommand } from "./commands/rebaseline";
import { replayCommand } from "./commands/replay";

const program = new Command()
  .name("retrain-triggers")
  .description("Automated retraining triggers for ML models on AWS: local mode, replay, drift and ops tools.")
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

// Commands (one import + one addCommand line each).
program.addCommand(driftCommand());
program.addCommand(localCommand());
program.addCommand(replayCommand());
program.addCommand(approveCommand());
program.addCommand(rebaselineCommand());

await program.parseAsync(process.argv);
