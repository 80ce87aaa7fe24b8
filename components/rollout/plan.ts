/**
 * The pure planner: (base config, target config) -> the ordered steps a `pulumi up` will take.
 *
 * The order is the one the Pulumi engine produces for the resources the pool components declare
 * (FACTS.md §1): nodes are chained by `dependsOn` in this order; rolling cattle nodes are replaced
 * delete-before-create; surge cattle replacements and removed nodes are deleted at the end of the update, in
 * reverse order of the old chain; pets nodes re-run their converge script when their triggers change.
 */
import type { KubeherdConfig, Pool } from "../config/schema";
import { configChanges, type Change } from "./changes";
import { cattleNodeName, cattleNodes, petsNodeNames, petsNodes, poolsInRolloutOrder, type CattleNode } from "./nodes";

export const ACTIONS = ["drain", "terminate", "launch", "run", "wait-ready", "uncordon"] as const;
export type Action = (typeof ACTIONS)[number];

export interface Step {
  pool: string;
  node: string;
  action: Action;
  /** `run` steps: the exact script, run as root with bash on the node. */
  script?: string;
  /** `launch` steps: the exact user data of the node's launch template. */
  userData?: string;
  /** Why the step is conditional or special, for people reading the plan. */
  note?: string;
}

export interface PoolSummary {
  pool: string;
  role: Pool["role"];
  mode: Pool["mode"];
  strategy?: "rolling" | "surge";
  nodes: number;
  /** Nodes drained and replaced or upgraded by this plan. */
  changedNodes: number;
  /** New nodes joining without disruption. */
  addedNodes: number;
  removedNodes: number;
}

export interface Plan {
  stack: string;
  changes: Change[];
  steps: Step[];
  pools: PoolSummary[];
  warnings: string[];
}

export interface PlanInput {
  stack: string;
  /** The config as deployed; undefined plans a first deployment. */
  base?: KubeherdConfig;
  target: KubeherdConfig;
  /** The AWS region (stack key `aws:region`); it is part of cattle user data. */
  region: string;
}

interface Deferred {
  order: number;
  steps: Step[];
}

export function planRollout({ stack, base, target, region }: PlanInput): Plan {
  const steps: Step[] = [];
  const deferred: Deferred[] = [];
  const warnings: string[] = [];
  const pools: PoolSummary[] = [];
  const baseOrder = base ? oldChainOrder(base) : new Map<string, number>();
  const deleteLater = (pool: string, node: string, note: string) =>
    deferred.push({
      order: baseOrder.get(`${pool}/${node}`) ?? -1,
      steps: [
        { pool, node, action: "drain", note },
        { pool, node, action: "terminate", note },
      ],
    });

  for (const pool of poolsInRolloutOrder(target)) {
    const before = base?.pools.find((p) => p.name === pool.name && p.mode === pool.mode);
    const summary: PoolSummary = { pool: pool.name, role: pool.role, mode: pool.mode, nodes: 0, changedNodes: 0, addedNodes: 0, removedNodes: 0 };
    pools.push(summary);

    if (pool.mode === "cattle") {
      summary.strategy = pool.rollout.strategy;
      const now = cattleNodes(target, pool, region);
      const old = before?.mode === "cattle" && base ? cattleNodes(base, before, region) : [];
      summary.nodes = now.length;
      for (const node of now) {
        const prior = old[node.index];
        const launch = launchSteps(node);
        if (!prior) {
          summary.addedNodes++;
          steps.push(...launch);
        } else if (prior.fingerprint !== node.fingerprint) {
          summary.changedNodes++;
          if (pool.rollout.strategy === "rolling") {
            steps.push({ pool: node.pool, node: node.node, action: "drain" }, { pool: node.pool, node: node.node, action: "terminate" }, ...launch);
          } else {
            steps.push(...launch.map((s) => ({ ...s, note: "surge: the replacement comes up before the old node goes" })));
            deleteLater(node.pool, node.node, "surge: old node, deleted at the end of the update");
          }
        }
      }
      for (const gone of old.slice(now.length)) {
        summary.removedNodes++;
        deleteLater(gone.pool, gone.node, "pool shrinks: deleted at the end of the update");
      }
      continue;
    }

    const now = petsNodes(target, pool);
    const old = before?.mode === "pets" && base ? petsNodes(base, before) : [];
    summary.nodes = now.length;
    for (const node of now) {
      const prior = old.find((n) => n.node === node.node);
      const changed = !prior || prior.triggers.join("\n") !== node.triggers.join("\n");
      if (!changed) continue;
      const adopt = !prior;
      if (adopt) summary.addedNodes++;
      else summary.changedNodes++;
      steps.push(
        { pool: node.pool, node: node.node, action: "drain", ...(adopt ? { note: adoptionNote(target) } : {}) },
        { pool: node.pool, node: node.node, action: "run", script: node.script, ...(node.kubeadm === "apply" ? { note: "first control-plane node: kubeadm upgrade apply" } : {}) },
        { pool: node.pool, node: node.node, action: "wait-ready" },
        { pool: node.pool, node: node.node, action: "uncordon", note: "only a node kubeherd cordoned" },
      );
    }
    for (const gone of old.filter((o) => !now.some((n) => n.node === o.node))) {
      summary.removedNodes++;
      warnings.push(`pets node ${gone.node} (pool ${gone.pool}) leaves kubeherd's management; nothing runs on it`);
    }
  }

  for (const gone of base?.pools.filter((p) => !target.pools.some((t) => t.name === p.name && t.mode === p.mode)) ?? []) {
    if (gone.mode === "cattle" && base) {
      for (const node of cattleNodes(base, gone, region)) deleteLater(node.pool, node.node, "pool removed: deleted at the end of the update");
    } else {
      warnings.push(`pets pool ${gone.name} leaves kubeherd's management; nothing runs on its nodes`);
    }
  }

  // The engine deletes in reverse dependency order of the old graph, one node at a time along the chain.
  deferred.sort((a, b) => b.order - a.order).forEach((d) => steps.push(...d.steps));
  return { stack, changes: configChanges(base, target), steps, pools, warnings };
}

/** The hooks adopt an existing node undrained only when nothing in its script would restart anything. */
function adoptionNote(config: KubeherdConfig): string {
  return config.os.systemUpgrade !== undefined
    ? "adoption: drained, as the system upgrade token makes the script dist-upgrade the node"
    : "adoption: skipped when the node already runs the pinned kubelet, runtime and Ubuntu release";
}

function launchSteps(node: CattleNode): Step[] {
  return [
    { pool: node.pool, node: node.node, action: "launch", userData: node.userData },
    { pool: node.pool, node: node.node, action: "wait-ready" },
  ];
}

/** Position of each node of a config in the dependsOn chain the components declare. */
function oldChainOrder(config: KubeherdConfig): Map<string, number> {
  const order = new Map<string, number>();
  for (const pool of poolsInRolloutOrder(config)) {
    const names = pool.mode === "cattle" ? Array.from({ length: pool.size }, (_, i) => cattleNodeName(pool, i)) : petsNodeNames(pool);
    for (const node of names) order.set(`${pool.name}/${node}`, order.size);
  }
  return order;
}
