/**
 * The nodes of a stack as the cluster knows them. Listed pets hosts are found by name, as the hooks find them
 * (a name with dots is the host's DNS name: the Node carries it in full or its first label). A node kubeherd
 * creates (cattle, EC2 pets) is known offline only by its plan name (`workers-0`): during `pulumi up` the hooks
 * find it by its instance's outputs, and the ready hook labels it with POOL_LABEL and NODE_LABEL, by which the
 * offline commands find it here.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { KubeherdConfig, Pool } from "../config/schema";
import { cattleNodeName, petsNodeNames, poolsInRolloutOrder } from "../rollout/nodes";

/**
 * Labels the ready hook puts on every node it brings back: the pool and the plan's node name (`workers-0`). The
 * offline plan knows a node kubeherd creates only by that name, not by its instance id or private DNS name, so
 * the live preview and `npm run status` find such nodes by these labels.
 */
export const POOL_LABEL = "kubeherd.io/pool";
export const NODE_LABEL = "kubeherd.io/node";

export interface StackNodeRef {
  pool: string;
  node: string;
  /** Listed pets hosts: by name; nodes kubeherd creates: by labels. */
  by: "name" | "labels";
}

/** Every node of the stack, in rollout order. */
export function stackNodes(config: KubeherdConfig): StackNodeRef[] {
  return poolsInRolloutOrder(config).flatMap((pool) => nodesOf(pool).map((node) => ({ pool: pool.name, node, by: byOf(pool) })));
}

function nodesOf(pool: Pool): string[] {
  return pool.mode === "cattle" ? Array.from({ length: pool.size }, (_, i) => cattleNodeName(pool, i)) : petsNodeNames(pool);
}

const byOf = (pool: Pool | undefined): StackNodeRef["by"] => (pool?.mode === "pets" && pool.nodes ? "name" : "labels");

/** How a plan node is looked for; a pool no longer in the config was one kubeherd created (pets pools are never drained when removed). */
export function refOf(config: KubeherdConfig, pool: string, node: string): StackNodeRef {
  return { pool, node, by: byOf(config.pools.find((p) => p.name === pool)) };
}

export function describeLookup(ref: StackNodeRef): string {
  return ref.by === "name" ? `Node ${ref.node}` : `Node labelled ${POOL_LABEL}=${ref.pool}, ${NODE_LABEL}=${ref.node}`;
}

/**
 * The Nodes that are `ref`, oldest first. Usually one; during a surge the replacement carries the same labels as
 * the node it replaces until that one is deleted.
 */
export function findStackNodes(nodes: readonly V1Node[], ref: StackNodeRef): V1Node[] {
  const created = (n: V1Node) => new Date(n.metadata?.creationTimestamp ?? 0).getTime();
  if (ref.by === "name") {
    const exact = nodes.filter((n) => n.metadata?.name === ref.node);
    return exact.length || !ref.node.includes(".") ? exact : nodes.filter((n) => n.metadata?.name === ref.node.split(".")[0]);
  }
  return nodes.filter((n) => n.metadata?.labels?.[POOL_LABEL] === ref.pool && n.metadata?.labels?.[NODE_LABEL] === ref.node).sort((a, b) => created(a) - created(b));
}
