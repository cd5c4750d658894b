/**
 * Reads the model catalog bundled with every Lambda (contracts/catalog.ts): `model-catalog.json` next
 * to the handler code (`LAMBDA_TASK_ROOT`), or the file named by `MODEL_CATALOG_PATH` (tests, tools).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MODEL_CATALOG_FILE, type ModelCatalog, parseModelCatalog } from "../../contracts/catalog";
import { ConfigError } from "../../contracts/config";

/** Where the catalog is read from in this environment. */
export function modelCatalogPath(env: Readonly<Record<string, string | undefined>>): string {
  return env.MODEL_CATALOG_PATH ?? join(env.LAMBDA_TASK_ROOT ?? process.cwd(), MODEL_CATALOG_FILE);
}

/** Reads and validates the catalog; throws ConfigError naming the file and the field. */
export function loadModelCatalog(env: Readonly<Record<string, string | undefined>>): ModelCatalog {
  const path = modelCatalogPath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [{ path: "(file)", message: `cannot read: ${(error as Error).message}` }]);
  }
  return parseModelCatalog(text, path);
}
