/**
 * Loading a stack for the offline commands: `Pulumi.yaml` project config (defaults) overlaid by
 * `Pulumi.<stack>.yaml`, through the same `loadConfig` as the program.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type LoadOptions } from "../components/config/load";
import { STACK_FILE_NAME } from "../components/config/patterns";
import { createsInstances } from "../components/config/pools";
import { error, type Problem } from "../components/config/problems";
import type { KubeherdConfig } from "../components/config/schema";
import { plainValue, readStackFile, readYaml, stackFileSource, StackFileError, type StackFile } from "../components/config/stackfile";

export interface LoadedStack {
  file: StackFile;
  config?: KubeherdConfig;
  problems: Problem[];
  /** `aws:region`, needed in cattle user data. */
  region?: string;
}

/** `Pulumi.<stack>.yaml` in `dir`; the argv parser (args.ts) has checked the name, this refuses one that slipped by. */
export function stackFilePath(dir: string, stack: string): string {
  if (!STACK_FILE_NAME.test(stack)) throw new Error(`not a stack name: ${JSON.stringify(stack)}`);
  return join(dir, `Pulumi.${stack}.yaml`);
}

/** Project-level config of Pulumi.yaml: `key: value` or `key: {value|default: value}`. */
function projectDefaults(dir: string): Record<string, unknown> {
  const path = join(dir, "Pulumi.yaml");
  if (!existsSync(path)) return {};
  const doc = readYaml(path) as { config?: Record<string, unknown> } | null;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(doc?.config ?? {})) {
    const spec = v as { value?: unknown; default?: unknown } | null;
    const isSpec = typeof spec === "object" && spec !== null && !Array.isArray(spec) && ("value" in spec || "default" in spec);
    const value = isSpec ? (spec.value ?? spec.default) : v;
    if (value !== undefined) out[key.includes(":") ? key : `kubeherd:${key}`] = value;
  }
  return out;
}

/** `secrets`: how unset secrets count (components/config/load.ts); only the plan warns of them. */
export function loadStack(path: string, projectDir?: string, secrets: LoadOptions["secrets"] = "warn"): LoadedStack {
  if (!existsSync(path)) {
    return { file: { path, values: {} }, problems: [error(path, "no such stack file")] };
  }
  let file: StackFile;
  try {
    file = readStackFile(path);
    if (projectDir) file = { path, values: { ...projectDefaults(projectDir), ...file.values } };
  } catch (e) {
    if (!(e instanceof StackFileError)) throw e;
    return { file: { path, values: {} }, problems: [error(e.path, e.reason)] };
  }
  const { config, problems } = loadConfig(stackFileSource(file), { secrets });
  const region = plainValue(file, "aws:region");
  if (config && !region && config.pools.some(createsInstances)) {
    problems.push(error("aws:region", "is required for pools whose nodes kubeherd creates (their user data reads SSM in that region)"));
    return { file, problems, region };
  }
  return { file, config, problems, region };
}
