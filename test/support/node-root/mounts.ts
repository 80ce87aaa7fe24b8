/**
 * Mounts inside a test root, and removing a root safely: a root is only deleted once nothing is mounted under it,
 * so a forgotten /proc can never lead `rm -rf` into the host's.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { run, runOrThrow } from "./process";

/** Mount points at or under `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  const base = resolve(dir);
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1])
    .filter((p): p is string => p !== undefined && p !== "")
    // /proc/self/mounts escapes spaces and other odd bytes as octal
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === base || p.startsWith(`${base}/`))
    .sort((a, b) => b.length - a.length);
}

export async function unmountAll(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) {
    const r = await run("umount", [point]);
    // busy (a straggler process): detach it lazily rather than leave it behind
    if (r.code !== 0) await runOrThrow("umount", ["-l", point]);
  }
}

export async function removeTree(dir: string): Promise<void> {
  await unmountAll(dir);
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`refusing to delete ${dir}: still mounted: ${left.join(", ")}`);
  await runOrThrow("rm", ["-rf", "--one-file-system", dir]);
}

/** `removeTree` for an exiting process: lazy unmounts, then the same refusal while anything is still mounted. */
export function removeTreeSync(dir: string): void {
  for (const point of mountsUnder(dir)) {
    if (spawnSync("umount", [point]).status !== 0) spawnSync("umount", ["-l", point]);
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`refusing to delete ${dir}: still mounted: ${left.join(", ")}`);
  spawnSync("rm", ["-rf", "--one-file-system", dir]);
}
