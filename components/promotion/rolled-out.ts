/**
 * What a stack has completely rolled out, as plain data. The program exports it as the stack output `rolledOut`
 * only once every node's registration has returned (each node's ready hook has passed), so a stack that promotes
 * from this one can trust it: these pins run on every node of every pool.
 */
import type { KubeherdConfig } from "../config/schema";
import { cattleNodeName, petsNodeNames, poolsInRolloutOrder } from "../rollout/nodes";
import { pinList, poolVersions } from "../versions/pins";
import { placementOf } from "../versions/placement";

/** What a stack has completely rolled out: exported by the program only after every node is back. */
export interface RolledOut {
  /** The cluster's Kubernetes version (`kubeadm upgrade apply`), without the `v`. */
  kubernetes: string;
  /** Every pinned package and its exact apt version. */
  pins: Record<string, string>;
  /** The Ubuntu release (`kubeherd:os.release`). */
  release: string;
  /** The last system upgrade token that ran, when the stack has one. */
  systemUpgrade?: string;
  /** Per pool, in rollout order: the pins its nodes run and the nodes' names. */
  pools: Record<string, { pins: Record<string, string>; nodes: string[] }>;
  /** `os.image` the cattle pools booted; absent without cattle pools (and in outputs of kubeherd before it was recorded). */
  image?: string;
  /** `aws:region` of the instances kubeherd created; absent when it creates none (or before it was recorded). */
  region?: string;
}

/** `region`: `aws:region`, recorded when kubeherd creates instances, so a later change of it is refused. */
export function rolledOutOf(config: KubeherdConfig, region?: string): RolledOut {
  // The cluster-wide pins: `kubeherd:versions`, what `kubeadm upgrade apply` and the promotion gate read.
  const pins = Object.fromEntries(pinList(config.versions));
  const pools: RolledOut["pools"] = {};
  for (const pool of poolsInRolloutOrder(config)) {
    const nodes = pool.mode === "cattle" ? Array.from({ length: pool.size }, (_, i) => cattleNodeName(pool, i)) : petsNodeNames(pool);
    pools[pool.name] = { pins: Object.fromEntries(pinList(poolVersions(config, pool))), nodes };
  }
  return {
    kubernetes: config.versions.kubernetes,
    pins,
    release: config.os.release,
    ...(config.os.systemUpgrade !== undefined ? { systemUpgrade: config.os.systemUpgrade } : {}),
    pools,
    ...placementOf(config, region),
  };
}
