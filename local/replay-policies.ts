/**
 * The policies a backtest compares: the configuration's own (named `config`), policy files (`--policy`,
 * a trigger policy as in `models[].policy`, applied to every model of the configuration) and the values of
 * a sweep over one policy field (`--sweep signals.drift.maxDriftedShare=0.2,0.3`). Each variant is a whole
 * deployment configuration validated by the same schema as `cdk synth`, so an invalid policy fails with
 * the field named, as at synth time.
 */
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { ConfigError, type DeploymentConfig, parseConfig } from "../contracts/config";

/** One compared policy: its name and the configuration it runs under. */
export interface PolicyVariant {
  readonly name: string;
  readonly config: DeploymentConfig;
}

/** A sweep over one policy field: its dotted path in the policy and the values to try. */
export interface PolicySweep {
  readonly path: string;
  readonly values: readonly unknown[];
}

/** Parses `path=v1,v2,...`; values are JSON where they parse (numbers, booleans), strings otherwise. */
export function parseSweep(spec: string): PolicySweep {
  const eq = spec.indexOf("=");
  const path = eq > 0 ? spec.slice(0, eq).trim() : "";
  const values =
    eq > 0
      ? spec
          .slice(eq + 1)
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== "")
      : [];
  if (!/^[A-Za-z][\w]*(\.[A-Za-z][\w]*)*$/.test(path) || values.length === 0)
    throw new ConfigError("--sweep", [
      { path: "(argument)", message: `expected <policy.field.path>=<value>,<value>... (got "${spec}")` },
    ]);
  return {
    path,
    values: values.map((v) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }),
  };
}

/** A copy of `obj` with the dotted `path` set to `value` (intermediate objects created). */
function withPath(obj: unknown, path: string, value: unknown): Record<string, unknown> {
  const root = structuredClone(obj ?? {}) as Record<string, unknown>;
  const parts = path.split(".");
  let node = root;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node[part] = next && typeof next === "object" && !Array.isArray(next) ? next : {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
  return root;
}

/** The configuration with every model's policy replaced by `policy(model's policy)`, validated. */
function variantOf(
  config: DeploymentConfig,
  source: string,
  policy: (current: unknown) => unknown,
): DeploymentConfig {
  const input = structuredClone(config) as unknown as { models: Array<{ policy: unknown }> };
  input.models = input.models.map((m) => ({ ...m, policy: policy(m.policy) }));
  return parseConfig(input, source);
}

function readPolicyFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(path, [{ path: "(file)", message: `cannot read: ${(e as Error).message}` }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(path, [{ path: "(file)", message: `not valid JSON: ${(e as Error).message}` }]);
  }
}

/**
 * The variants to compare: `config` first, then one per policy file (named after the file), then one per
 * sweep value (named `<last path segment>=<value>`). Names are unique (a suffix is added on a clash).
 */
export function policyVariants(
  config: DeploymentConfig,
  policyFiles: readonly string[] = [],
  sweep?: PolicySweep,
): PolicyVariant[] {
  const out: PolicyVariant[] = [{ name: "config", config }];
  const unique = (name: string) => {
    let n = name;
    for (let i = 2; out.some((v) => v.name === n); i++) n = `${name}-${i}`;
    return n;
  };
  for (const file of policyFiles) {
    const policy = readPolicyFile(file);
    out.push({ name: unique(basename(file, extname(file))), config: variantOf(config, file, () => policy) });
  }
  if (sweep) {
    const field = sweep.path.split(".").pop()!;
    for (const value of sweep.values)
      out.push({
        name: unique(`${field}=${JSON.stringify(value)}`),
        config: variantOf(config, `--sweep ${sweep.path}=${JSON.stringify(value)}`, (p) =>
          withPath(p, sweep.path, value),
        ),
      });
  }
  return out;
}
