/**
 * `npm run bench`: runs every benchmark module in bench/ and prints their figures, one JSON object on
 * the last line. Each module exports `run(): Promise<Record<string, unknown>>`. Machines are shared and
 * noisy: modules report medians and ratios measured within one process, not single timings.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("util"))
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

const results: Record<string, unknown> = {};
for (const name of modules) {
  const mod = (await import(join(here, `${name}.ts`))) as { run?: () => Promise<Record<string, unknown>> };
  if (typeof mod.run !== "function") continue;
  process.stderr.write(`bench: ${name}...\n`);
  results[name] = await mod.run();
  process.stderr.write(`${JSON.stringify(results[name], null, 2)}\n`);
}
console.log(JSON.stringify({ node: process.version, results }));
