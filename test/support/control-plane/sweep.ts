/**
 * Leftovers of a control plane whose test process was killed before it could stop it: a directory under /dev/shm
 * whose `owner.pid` names a dead process. Its components normally died with their owner (pdeathsig); whatever is
 * still alive of what its pid files name is killed (after checking /proc that the pid still runs one of our
 * programs, not a recycled pid), and the directory (etcd's data, certificates, logs) is removed.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "./processes";

export const RUN_ROOT = "/dev/shm";
export const RUN_PREFIX = "kubeherd-e2e-";

const OURS = /\b(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok)\b/;

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Removes abandoned control planes; returns the directories removed. */
export function sweepAbandonedControlPlanes(root = RUN_ROOT): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    if (!name.startsWith(RUN_PREFIX)) continue;
    const dir = join(root, name);
    const owner = readPid(join(dir, "owner.pid"));
    if (owner !== undefined && isAlive(owner)) continue;
    const pids = join(dir, "pids");
    for (const file of existsSync(pids) ? readdirSync(pids) : []) {
      const pid = readPid(join(pids, file));
      if (pid === undefined || !isAlive(pid) || !OURS.test(cmdline(pid))) continue;
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
