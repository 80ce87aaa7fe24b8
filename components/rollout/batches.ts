/**
 * Batches: which nodes change together. The one place that decides the order of a rollout at the granularity the
 * engine sees: the pool components declare one batch after another (components/node-options.ts), the planner lists
 * steps batch by batch, and the drain preflight counts the nodes of a node's own batch as its own.
 *
 * - Control-plane pools: one node per batch, always.
 * - Worker pools: `maxUnavailable` nodes per batch (surge pools: `maxSurge` replacements per batch), a count or a
 *   percentage of the pool, rounded down, at least 1.
 * - `canary`: the pool's first node is a batch of its own.
 * - `byZone`: a batch never spans two zones (subnets; pets hosts: their `zone`), zones in the order of `subnets`.
 */
import { createHash } from "node:crypto";
import type { KubeherdConfig, Pool } from "../config/schema";
import { cattleNodeName, cattleNodes, petsNodeNames, poolsInRolloutOrder } from "./nodes";

export interface PoolBatch {
  pool: string;
  /** Plan node names, in the order the batch lists them (the pool's order). */
  nodes: string[];
  zone?: string;
  canary?: boolean;
}

export interface Batch extends PoolBatch {
  /** Position across the cluster, from 1, in rollout order. */
  number: number;
  /** On a journey (./journey-plan.ts): the stage the batch belongs to; its gate closes a batch of that stage. */
  stage?: number;
}

/** A budget (`3`, `"10%"`) as a number of nodes of a pool of `size`: rounded down, at least 1, at most the pool. */
export function budgetNodes(budget: number | string, size: number): number {
  const n = typeof budget === "number" ? budget : Math.floor((size * Number(budget.slice(0, -1))) / 100);
  return Math.max(1, Math.min(size, n));
}

/** How many nodes of the pool go at once. */
export function batchSize(pool: Pool, size: number): number {
  if (pool.role === "control-plane") return 1;
  const surge = pool.mode === "cattle" && pool.rollout.strategy === "surge";
  return budgetNodes(surge ? pool.rollout.maxSurge : pool.rollout.maxUnavailable, size);
}

/** Each node of the pool with its zone, in the pool's order. */
export function poolNodeZones(pool: Pool): { node: string; zone?: string }[] {
  if (pool.mode === "cattle") {
    return Array.from({ length: pool.size }, (_, i) => ({ node: cattleNodeName(pool, i), zone: pool.subnets[i % pool.subnets.length] }));
  }
  if (pool.nodes) return pool.nodes.map((n) => ({ node: n.name, zone: n.zone }));
  const subnets = pool.subnets ?? [];
  return petsNodeNames(pool).map((node, i) => ({ node, zone: subnets.length ? subnets[i % subnets.length] : undefined }));
}

/** The batches of one pool, in rollout order. */
export function poolBatches(pool: Pool): PoolBatch[] {
  const nodes = poolNodeZones(pool);
  if (nodes.length === 0) return [];
  const size = batchSize(pool, nodes.length);
  const zones = pool.rollout.byZone ? [...new Set(nodes.map((n) => n.zone ?? ""))] : [undefined];
  const batches: PoolBatch[] = [];
  let canaryLeft = pool.rollout.canary;
  for (const zone of zones) {
    let rest = nodes.filter((n) => zone === undefined || (n.zone ?? "") === zone).map((n) => n.node);
    const at = zone === undefined ? {} : { zone };
    if (canaryLeft) {
      batches.push({ pool: pool.name, nodes: rest.slice(0, 1), ...at, canary: true });
      rest = rest.slice(1);
      canaryLeft = false;
    }
    for (let i = 0; i < rest.length; i += size) batches.push({ pool: pool.name, nodes: rest.slice(i, i + size), ...at });
  }
  return batches;
}

/** Every batch of the cluster, numbered in rollout order (control-plane pools first, then workers in config order). */
export function rolloutBatches(config: KubeherdConfig): Batch[] {
  return poolsInRolloutOrder(config).flatMap((pool) => poolBatches(pool)).map((b, i) => ({ ...b, number: i + 1 }));
}

/**
 * What the batch gates' `replacementTrigger` is made of (components/node-options.ts): the cluster's batches and the
 * fingerprints of its surge nodes. It changes whenever the end of an update may delete nodes (a surge pool's
 * replacements, a pool that shrinks or goes, a new batch layout), so that the gates of the old graph are deleted in
 * the same update and the engine's delete rounds follow them (FACTS.md §1); a rolling or pets-only bump keeps it.
 */
export function gateTrigger(config: KubeherdConfig, region: string): string {
  const surge = config.pools.flatMap((pool) =>
    pool.mode === "cattle" && pool.rollout.strategy === "surge" ? cattleNodes(config, pool, region).map((n) => `${n.node}=${n.fingerprint}`) : [],
  );
  const layout = rolloutBatches(config).map((b) => `${b.pool}:${b.nodes.join(",")}`);
  return `sha256:${createHash("sha256").update(JSON.stringify({ layout, surge })).digest("hex")}`;
}
