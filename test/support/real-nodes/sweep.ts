/**
 * What a killed real cluster leaves (its processes die with it: every node's pid 1 has a parent-death signal): its
 * network namespaces and host veth, its empty cgroups, its node roots. A cluster's id is its process's pid in base 36,
 * so whatever belongs to a pid no longer alive is removed.
 */
import { existsSync, readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { sweepAbandonedRoots } from "../node-root/root-sweep";
import { run } from "../node-root/process";
import { leftoverNetworks, NET_PREFIX } from "./network";

const CGROUP_V1 = "/sys/fs/cgroup";

function ownerAlive(name: string): boolean {
  const id = new RegExp(`^${NET_PREFIX}([0-9a-z]+)`).exec(name)?.[1];
  if (id === undefined) return true;
  const pid = Number.parseInt(id, 36);
  return pid === process.pid || existsSync(`/proc/${pid}`);
}

function removeTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    /* still has a process: leave it */
  }
}

export async function sweepAbandonedRealClusters(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await leftoverNetworks()) {
    if (ownerAlive(name)) continue;
    const isNs = existsSync(`/run/netns/${name}`);
    await run("ip", isNs ? ["netns", "del", name] : ["link", "del", name]);
    removed.push(name);
  }
  for (const c of readdirSync(CGROUP_V1)) {
    let entries: string[];
    try {
      entries = readdirSync(join(CGROUP_V1, c));
    } catch {
      continue;
    }
    for (const d of entries) {
      if (d.startsWith(NET_PREFIX) && !ownerAlive(d)) {
        removeTree(join(CGROUP_V1, c, d));
        removed.push(join(CGROUP_V1, c, d));
      }
    }
  }
  removed.push(...(await sweepAbandonedRoots()));
  return removed;
}
