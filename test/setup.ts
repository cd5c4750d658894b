// Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3.x uses.
import "../local/polyfills";
import fc from "fast-check";

// Property tests run on a fixed seed so that CI is deterministic; explore new seeds locally with
// `FC_SEED=random npm test` (or a number to reproduce a reported failure).
const seedSetting = process.env.FC_SEED ?? "20261127";
if (seedSetting !== "random") fc.configureGlobal({ seed: Number(seedSetting) });
