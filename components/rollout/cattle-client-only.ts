/**
 * A kubectl-only change on a cattle pool: kubectl is a client, nothing on a node restarts for it, so replacing every
 * instance for it would drain the whole pool for nothing. The pool gets a new launch template version (new nodes
 * join with the new kubectl) and its running instances stay: their replacement trigger is still the fingerprint of
 * what they were launched with (their kubectl), and the launch template version they were made from is left as it
 * was (`ignoreChanges`).
 *
 * The program knows what the instances were launched with from its own `rolledOut` (`pools[].launched`: those pins
 * and the digest of the replacement triggers it declared), so the next `up` keeps the triggers and nothing is
 * replaced later for it either; any other change of the pool (a pin, the image, the subnets) replaces as before, at
 * the new template. Pure: the program and the plan (./plan.ts) use it.
 */
import { createHash } from "node:crypto";
import type { CattlePool, KubeherdConfig, Versions } from "../config/schema";
import { pinList, poolVersions } from "../versions/pins";
import { cattleNodes, type CattleNode } from "./nodes";

/** What a cattle pool's running instances were launched with (`rolledOut.pools[].launched`). */
export interface Launched {
  /** The pins of their user data. */
  pins: Record<string, string>;
  /** sha256 of their replacement triggers (fingerprints), in node order. */
  digest: string;
}

export function fingerprintDigest(nodes: readonly CattleNode[]): string {
  return `sha256:${createHash("sha256").update(nodes.map((n) => n.fingerprint).join("\n")).digest("hex")}`;
}

/** The pool's nodes as they would be with `kubectl` in place of the config's (the pool's other pins, image, …, unchanged). */
export function cattleNodesWithKubectl(config: KubeherdConfig, pool: CattlePool, kubectl: string, region: string): CattleNode[] {
  const versions: Versions = { ...poolVersions(config, pool), kubectl };
  // The pool's own block is folded into `versions`: merged over them again it would bring the config's kubectl back.
  const bare = { ...pool, versions: undefined };
  return cattleNodes({ ...config, versions, pools: config.pools.map((p) => (p.name === pool.name ? bare : p)) }, bare, region);
}

/** Whether `a` and `b` differ in the kubectl pin and in nothing else. */
export function kubectlOnly(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const changed = [...keys].filter((k) => a[k] !== b[k]);
  return changed.length === 1 && changed[0] === "kubectl";
}

/**
 * Per cattle pool whose only change from what its instances were launched with is kubectl: the nodes as launched
 * (their fingerprints stay the replacement triggers) and what `rolledOut` records for them again.
 */
export function cattleClientOnly(config: KubeherdConfig, launched: Readonly<Record<string, Launched | undefined>>, region: string): Map<string, { nodes: CattleNode[]; launched: Launched }> {
  const out = new Map<string, { nodes: CattleNode[]; launched: Launched }>();
  for (const pool of config.pools) {
    const was = launched[pool.name];
    if (pool.mode !== "cattle" || !was || was.pins.kubectl === undefined) continue;
    if (!kubectlOnly(was.pins, Object.fromEntries(pinList(poolVersions(config, pool))))) continue;
    const nodes = cattleNodesWithKubectl(config, pool, was.pins.kubectl, region);
    // The digest proves nothing else of the pool changed since the launch (nor kubeherd's fingerprint).
    if (fingerprintDigest(nodes) === was.digest) out.set(pool.name, { nodes, launched: was });
  }
  return out;
}

/** What `rolledOut` records for each cattle pool: as launched (kept on a kubectl-only change) or the config's now. */
export function launchedPools(config: KubeherdConfig, clientOnly: ReadonlyMap<string, { launched: Launched }>, region: string): Record<string, Launched> {
  const out: Record<string, Launched> = {};
  for (const pool of config.pools) {
    if (pool.mode !== "cattle") continue;
    out[pool.name] = clientOnly.get(pool.name)?.launched ?? { pins: Object.fromEntries(pinList(poolVersions(config, pool))), digest: fingerprintDigest(cattleNodes(config, pool, region)) };
  }
  return out;
}
