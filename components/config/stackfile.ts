/**
 * Reads `Pulumi.<stack>.yaml` offline, as the plan and promote commands do: no Pulumi CLI, no credentials.
 * A `secure:` value is known to be a secret and is never decrypted.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { ConfigSource } from "./load";

export interface StackFile {
  path: string;
  /** The whole `config:` map, keys as written (`kubeherd:versions`, `aws:region`). */
  values: Record<string, unknown>;
}

/** A stack or project file that cannot be read as one; `reason` is one line. */
export class StackFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = "StackFileError";
  }
}

/** A YAML file's document; a YAML error in one line (the parser adds the offending lines and a caret below it). */
export function readYaml(path: string): unknown {
  try {
    return parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new StackFileError(path, (e as Error).message.split("\n")[0].replace(/:$/, ""));
  }
}

export function readStackFile(path: string): StackFile {
  const doc = readYaml(path);
  const config = (doc as { config?: unknown } | null)?.config;
  if (doc !== null && doc !== undefined && (typeof doc !== "object" || Array.isArray(doc))) {
    throw new StackFileError(path, "not a Pulumi stack file (expected a mapping with a config: key)");
  }
  if (config !== undefined && (typeof config !== "object" || config === null || Array.isArray(config))) {
    throw new StackFileError(path, "config: must be a mapping of keys to values");
  }
  return { path, values: (config ?? {}) as Record<string, unknown> };
}

const isSecure = (v: unknown): boolean =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;

/** The `kubeherd:*` part of a stack file as a ConfigSource. */
export function stackFileSource(file: StackFile): ConfigSource {
  const ns = "kubeherd:";
  // `pulumi config set kubeherd:pools '[…]'` (and the Automation API) store a JSON text: read it as the program does.
  const value = (key: string) => {
    const v = file.values[ns + key];
    if (typeof v !== "string" || !/^\s*[[{]/.test(v)) return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  };
  return {
    get: (key) => value(key),
    secretState: (key) => {
      const v = value(key);
      return v === undefined ? "absent" : isSecure(v) ? "secret" : "plain";
    },
    keys: () => Object.keys(file.values).filter((k) => k.startsWith(ns)).map((k) => k.slice(ns.length)),
  };
}

/** A plain (non-secret) string value of another namespace, such as `aws:region`. */
export function plainValue(file: StackFile, key: string): string | undefined {
  const v = file.values[key];
  return typeof v === "string" ? v : undefined;
}
