/**
 * Runs a `#cloud-config` user data in a test root the way cloud-init does on first boot, for the keys kubeherd's
 * user data uses: `write_files` (path, content, permissions, owner), then `runcmd`, which cloud-init turns into one
 * /bin/sh script (a list item is its words shell-quoted and joined; a string is taken as it is). Any other key
 * is refused, so user data that grows a key is not half-run here.
 */
import { parse } from "yaml";
import type { NodeRoot } from "./node-root";
import type { Outcome } from "./process";
import { run } from "./process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const HANDLED = new Set(["write_files", "runcmd"]);

interface WriteFile {
  path: string;
  content?: string;
  permissions?: string;
  owner?: string;
}

export interface CloudConfig {
  write_files?: WriteFile[];
  runcmd?: (string | string[])[];
}

export function parseCloudConfig(userData: string): CloudConfig {
  if (!userData.startsWith("#cloud-config\n")) throw new Error("user data is not a #cloud-config document");
  const doc = parse(userData) as Record<string, unknown>;
  const unknown = Object.keys(doc).filter((k) => !HANDLED.has(k));
  if (unknown.length > 0) throw new Error(`the test runner does not play cloud-config keys ${unknown.join(", ")}`);
  return doc as CloudConfig;
}

/** Python's shlex.quote, which cloud-init uses for list items of runcmd. */
export function shlexQuote(word: string): string {
  if (word === "") return "''";
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** The /bin/sh script cloud-init makes of runcmd (cloudinit.util.shellify). */
export function runcmdScript(runcmd: readonly (string | readonly string[])[]): string {
  return ["#!/bin/sh", ...runcmd.map((c) => (typeof c === "string" ? c : c.map(shlexQuote).join(" "))), ""].join("\n");
}

/**
 * Writes the files and runs runcmd in the root, with `env` added to the boot environment. `sh` runs the command
 * elsewhere than the root's own shell (a real node runs it in its namespaces, real-nodes/real-node.ts); the
 * environment is then given as `env NAME=value` words before it.
 */
export async function runCloudConfig(root: NodeRoot, userData: string, env: Record<string, string> = {}, sh?: (command: string) => Promise<Outcome>): Promise<Outcome> {
  const config = parseCloudConfig(userData);
  for (const file of config.write_files ?? []) {
    if (file.owner !== undefined && file.owner !== "root:root") throw new Error(`owner ${file.owner}: only root:root is played`);
    root.write(file.path, file.content ?? "", parseInt(file.permissions ?? "0644", 8));
  }
  const script = "/var/lib/cloud/instance/scripts/runcmd";
  root.write(script, runcmdScript(config.runcmd ?? []), 0o700);
  if (sh) return sh(`cd / && env ${Object.entries(env).map(([k, v]) => shlexQuote(`${k}=${v}`)).join(" ")} /bin/sh ${script}`);
  return root.sh(`cd / && /bin/sh ${script}`, { env });
}

/** `cloud-init schema --config-file` on the host (Debian's cloud-init); exit 0 when the user data is valid. */
export async function cloudInitSchema(userData: string): Promise<Outcome> {
  const file = join(tmpdir(), `kubeherd-userdata-${process.pid}-${Date.now()}.yaml`);
  writeFileSync(file, userData);
  try {
    return await run("cloud-init", ["schema", "--config-file", file]);
  } finally {
    rmSync(file, { force: true });
  }
}
