/**
 * The one environment reader of the three handlers: required variables (a missing one fails the cold
 * start naming it), optional numbers, and the model catalog bundled with every Lambda
 * (contracts/catalog.ts): `model-catalog.json` next to the handler code (`LAMBDA_TASK_ROOT`), or the
 * file named by `MODEL_CATALOG_PATH` (tests, tools).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MODEL_CATALOG_FILE, type ModelCatalog, parseModelCatalog } from "../../contracts/catalog";
import { ConfigError } from "../../contracts/config";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Raised at cold start when the function's configuration is incomplete. */
export class EnvironmentError extends Error {
  override readonly name = "EnvironmentError";
}

/** The values of `names`, or an EnvironmentError naming every missing one. */
export function requireEnv<const N extends string>(env: Environment, names: readonly N[]): Record<N, string> {
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) throw new EnvironmentError(`environment variables not set: ${missing.join(", ")}`);
  return Object.fromEntries(names.map((name) => [name, env[name]!])) as Record<N, string>;
}

/** An optional numeric variable; a value that is not a finite number is an error, not a silent default. */
export function optionalNumber(env: Environment, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new EnvironmentError(`${name} is not a number: ${raw}`);
  return value;
}

/** Where the catalog is read from in this environment. */
export function modelCatalogPath(env: Environment): string {
  return env.MODEL_CATALOG_PATH ?? join(env.LAMBDA_TASK_ROOT ?? process.cwd(), MODEL_CATALOG_FILE);
}

/** Reads and validates the bundled catalog; throws ConfigError naming the file and the field. */
export function loadModelCatalog(env: Environment): ModelCatalog {
  const path = modelCatalogPath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [{ path: "(file)", message: `cannot read: ${(error as Error).message}` }]);
  }
  return parseModelCatalog(text, path);
}
