/**
 * Installs the stand-in provider plugins where the Pulumi CLI looks for a plugin it cannot download: one
 * `pulumi-resource-<name>` script per provider on the CLI's PATH (the CLI logs "using pulumi-resource-<name> from
 * $PATH"). Each reports the version of the SDK package that registers its resources, as the real plugin would.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { shellQuote } from "../../../components/scripts/quote";

const ROOT = resolve(__dirname, "../../..");
export const STANDIN_PROVIDERS = ["aws", "command", "kubernetes", "random"] as const;

export function sdkVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, "node_modules", "@pulumi", name, "package.json"), "utf8")) as { version: string }).version;
}

/** Writes the wrappers into `dir` (put it first on the CLI's PATH); `env` is passed to every plugin process. */
export function installStandInPlugins(dir: string, env: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  const tsx = join(ROOT, "node_modules", ".bin", "tsx");
  const plugin = join(__dirname, "plugin.ts");
  for (const name of STANDIN_PROVIDERS) {
    const exports = Object.entries({ ...env, KUBEHERD_STANDIN_VERSION: sdkVersion(name) }).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    const script = ["#!/usr/bin/env bash", "set -euo pipefail", ...exports, `exec ${shellQuote(tsx)} ${shellQuote(plugin)} ${name} "$@"`, ""].join("\n");
    const path = join(dir, `pulumi-resource-${name}`);
    writeFileSync(path, script);
    chmodSync(path, 0o755);
  }
}
