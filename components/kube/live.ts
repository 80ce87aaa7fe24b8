/**
 * `livePreview`: the plan's drains against the cluster as it is now, read once and read-only (list nodes, pods,
 * PDBs, ReplicaSets, Deployments, StatefulSets). The CLI wraps it (`npm run plan -- --live`); a test can point it
 * at any API by handing it a client.
 */
import { rolloutSchema, type KubeherdConfig } from "../config/schema";
import type { V1Node } from "@kubernetes/client-node";
import { cattleNodeName, nodeExpectations } from "../rollout/nodes";
import type { Plan, Step } from "../rollout/plan";
import type { KubeClient } from "./client";
import type { Clock } from "./clock";
import { adoptable, type NodeHookContext } from "./hook-actions";
import { previewDrains, type ClusterSnapshot, type DrainTarget, type NodeLive } from "../disruption/drain-preview";
import { describeLookup, findStackNodes, refOf } from "../disruption/stack-nodes";

export interface LivePreview {
  /** One entry per drain step of the plan, in plan order. */
  nodes: NodeLive[];
  /** Some drain would never finish (a PDB that never allows it, a refusal, no room): `plan --live` exits 3. */
  blocking: boolean;
  /** How long reading the cluster took. */
  readMs: number;
}

/** A plan step, with the batch number another part of the planner may add (DESIGN.md: JSON steps carry `batch`). */
type PlanStep = Step & { batch?: number };

export async function readSnapshot(client: KubeClient): Promise<ClusterSnapshot> {
  const [nodes, pods, pdbs, replicasets, deployments, statefulsets] = await Promise.all([
    client.list("nodes"),
    client.list("pods"),
    client.list("poddisruptionbudgets"),
    client.list("replicasets"),
    client.list("deployments"),
    client.list("statefulsets"),
  ]);
  return { nodes: nodes.items, pods: pods.items, pdbs: pdbs.items, replicasets: replicasets.items, deployments: deployments.items, statefulsets: statefulsets.items };
}

/**
 * What each drain of `plan` finds. The drain policy is the pool's in `config`; a node the config no longer has
 * (a shrinking or removed pool) is drained by the hooks with the defaults, and is previewed so.
 */
export function drainTargets(plan: Plan, config: KubeherdConfig, snapshot: Pick<ClusterSnapshot, "nodes">): DrainTarget[] {
  const defaults = rolloutSchema.parse({});
  return (plan.steps as PlanStep[])
    .filter((s) => s.action === "drain")
    .map((s) => {
      const pool = config.pools.find((p) => p.name === s.pool);
      const current = pool !== undefined && (pool.mode !== "cattle" || Array.from({ length: pool.size }, (_, i) => cattleNodeName(pool, i)).includes(s.node));
      const rollout = pool !== undefined && current ? pool.rollout : defaults;
      const ref = refOf(config, s.pool, s.node);
      const kubeNode = findStackNodes(snapshot.nodes, ref)[0];
      return {
        pool: s.pool,
        node: s.node,
        kubeNode,
        ...(kubeNode && pool?.mode === "pets" && adoptedAsIs(s, kubeNode, config) ? { undrained: adoptedWords(config, s.pool) } : {}),
        lookup: describeLookup(ref),
        whenMissing: ref.by === "name" ? "nothing-to-drain" : "unknown",
        policy: { deleteEmptyDirData: rollout.deleteEmptyDirData, deleteUnmanagedPods: rollout.deleteUnmanagedPods },
        ...(s.batch !== undefined ? { batch: s.batch } : {}),
        replacedFirst: pool?.mode === "cattle" && current && pool.rollout.strategy === "surge",
      };
    });
}

/**
 * A pets node the plan adopts (its first deployment under kubeherd) that the drain hook will adopt without a drain:
 * the same test as the hook's (`adoptable`), on the node as it is now.
 */
function adoptedAsIs(step: PlanStep, node: V1Node, config: KubeherdConfig): boolean {
  if (!step.note?.startsWith("adoption:")) return false;
  const ctx: NodeHookContext = {
    pool: step.pool, node: step.node, mode: "pets", ...nodeExpectations(config, step.pool), rollout: rolloutSchema.parse({}),
    osRelease: config.os.release, maintenance: config.os.systemUpgrade !== undefined,
  };
  return adoptable({ name: step.node, type: "command:remote:Command" }, node, ctx);
}

function adoptedWords(config: KubeherdConfig, pool: string): string {
  const want = nodeExpectations(config, pool);
  return `adopted without a drain: it already runs kubelet v${want.kubeletVersion} and ${want.runtime.name} ${want.runtime.version} on Ubuntu ${config.os.release}, and kubeherd has not rolled it before`;
}

export async function livePreview(client: KubeClient, plan: Plan, config: KubeherdConfig, clock: Clock): Promise<LivePreview> {
  const start = clock.now();
  const snapshot = await readSnapshot(client);
  const readMs = clock.now() - start;
  const nodes = previewDrains(snapshot, drainTargets(plan, config, snapshot));
  return { nodes, blocking: nodes.some((n) => n.blocking), readMs };
}
