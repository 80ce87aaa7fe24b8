/**
 * The pure planner: (base config, target config) -> the ordered steps a `pulumi up` will take.
 *
 * The order is the one the Pulumi engine produces for the resources the pool components declare
 * (FACTS.md §1, components/node-options.ts): batch after batch (./batches.ts), the nodes of one batch at once;
 * rolling cattle nodes are replaced delete-before-create; surge cattle replacements and removed nodes are deleted at
 * the end of the update, batch by batch in reverse order of the old config's batches; pets nodes re-run their
 * converge script when their triggers change.
 */
import type { KubeherdConfig, Pool } from "../config/schema";
import { batchSize, rolloutBatches, type Batch } from "./batches";
import { configChanges, type Change } from "./changes";
import { clientOnly, runNote } from "./step-notes";
import { describeWindow } from "./window";
import { cattleNodes, petsNodes, poolsInRolloutOrder, type CattleNode } from "./nodes";
import { cattleNodesWithKubectl, kubectlOnly } from "./cattle-client-only";
import { pinList, poolVersions } from "../versions/pins";

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
  /** The batch the step belongs to: a number across the cluster in rollout order; the steps of one batch run at
   *  once, node by node. Deferred deletes at the end get the numbers after the cluster's last batch. */
  batch: number;
  /** On a journey (components/versions/journey.ts): the stage the step belongs to, 1, 2, … in order. */
  stage?: number;
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
  /** Batches this plan takes in the pool (deferred deletes included). */
  batches: number;
  /** Nodes per batch (surge pools: replacements per batch). */
  batchSize: number;
  /** `rollout.window`, described; undefined when the pool has none. */
  window?: string;
}

export interface Plan {
  stack: string;
  changes: Change[];
  steps: Step[];
  pools: PoolSummary[];
  warnings: string[];
  /** On a journey: its stages in order (the steps carry their `stage`). */
  stages?: { number: number; kind: "control-plane" | "workers"; minor: string; pools: string[]; kubernetes: string }[];
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
  /** The node's batch in the base config: the engine deletes the old batches last first. */
  order: number;
  /** Position inside that batch. */
  position: number;
  steps: Omit<Step, "batch">[];
}

export function planRollout({ stack, base, target, region }: PlanInput): Plan {
  const steps: Step[] = [];
  const deferred: Deferred[] = [];
  const warnings: string[] = [];
  const pools: PoolSummary[] = [];
  const baseOrder = base ? batchOrder(rolloutBatches(base)) : new Map<string, [number, number]>();
  const targetBatches = rolloutBatches(target);
  const deleteLater = (pool: string, node: string, note: string) =>
    deferred.push({
      order: baseOrder.get(`${pool}/${node}`)?.[0] ?? -1,
      position: baseOrder.get(`${pool}/${node}`)?.[1] ?? -1,
      steps: [
        { pool, node, action: "drain", note },
        { pool, node, action: "terminate", note },
      ],
    });

  const batchOf = new Map<string, number>(targetBatches.flatMap((b) => b.nodes.map((n) => [`${b.pool}/${n}`, b.number] as const)));
  const inBatchOrder = <T extends { node: string }>(pool: Pool, nodes: T[]) =>
    [...nodes].sort((a, b) => (batchOf.get(`${pool.name}/${a.node}`) ?? 0) - (batchOf.get(`${pool.name}/${b.node}`) ?? 0));
  const push = (...batchSteps: Omit<Step, "batch">[]) =>
    steps.push(...batchSteps.map((s) => ({ ...s, batch: batchOf.get(`${s.pool}/${s.node}`) ?? 0 })));

  for (const pool of poolsInRolloutOrder(target)) {
    const before = base?.pools.find((p) => p.name === pool.name && p.mode === pool.mode);
    const summary: PoolSummary = {
      pool: pool.name, role: pool.role, mode: pool.mode, nodes: 0, changedNodes: 0, addedNodes: 0, removedNodes: 0, batches: 0, batchSize: 1,
      ...(pool.rollout.window ? { window: describeWindow(pool.rollout.window) } : {}),
    };
    pools.push(summary);

    if (pool.mode === "cattle") {
      summary.strategy = pool.rollout.strategy;
      const now = cattleNodes(target, pool, region);
      const old = before?.mode === "cattle" && base ? cattleNodes(base, before, region) : [];
      summary.nodes = now.length;
      summary.batchSize = batchSize(pool, now.length);
      // kubectl alone: a new template version for new nodes, no instance replaced (./cattle-client-only.ts).
      const basePins = before && base ? Object.fromEntries(pinList(poolVersions(base, before))) : undefined;
      const asLaunched = basePins?.kubectl !== undefined && kubectlOnly(basePins, Object.fromEntries(pinList(poolVersions(target, pool))))
        ? cattleNodesWithKubectl(target, pool, basePins.kubectl, region)
        : undefined;
      const kept = asLaunched !== undefined && asLaunched.every((n, i) => old[i]?.fingerprint === n.fingerprint);
      if (kept) {
        warnings.push(`cattle pool ${pool.name}: only kubectl changes (${basePins?.kubectl} -> ${poolVersions(target, pool).kubectl}): a new launch template version for new nodes; no instance is replaced, the running ones keep kubectl ${basePins?.kubectl}`);
      }
      for (const node of inBatchOrder(pool, now)) {
        const prior = old[node.index];
        if (kept && prior) continue;
        const launch = launchSteps(node);
        if (!prior) {
          summary.addedNodes++;
          push(...launch);
        } else if (prior.fingerprint !== node.fingerprint) {
          summary.changedNodes++;
          if (pool.rollout.strategy === "rolling") {
            push({ pool: node.pool, node: node.node, action: "drain" }, { pool: node.pool, node: node.node, action: "terminate" }, ...launch);
          } else {
            push(...launch.map((s) => ({ ...s, note: "surge: the replacement comes up before the old node goes" })));
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
    summary.batchSize = batchSize(pool, now.length);
    for (const node of inBatchOrder(pool, now)) {
      const prior = old.find((n) => n.node === node.node);
      const changed = !prior || prior.triggers.join("\n") !== node.triggers.join("\n");
      if (!changed) continue;
      const adopt = !prior;
      if (adopt) summary.addedNodes++;
      else summary.changedNodes++;
      if (clientOnly(prior?.triggers, node.triggers)) {
        // kubectl alone: a client install that restarts nothing; the drain hook lets the node be (rollout/client-only.ts).
        push(
          { pool: node.pool, node: node.node, action: "run", script: node.script, note: runNote(prior?.triggers, node.triggers, node.kubeadm) },
          { pool: node.pool, node: node.node, action: "wait-ready" },
        );
        continue;
      }
      push(
        { pool: node.pool, node: node.node, action: "drain", ...(adopt ? { note: adoptionNote(target) } : {}) },
        { pool: node.pool, node: node.node, action: "run", script: node.script, note: runNote(prior?.triggers, node.triggers, node.kubeadm) },
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

  // The engine deletes in rounds by the old graph's edges: the old batches, last first, each at once (node-options.ts).
  let number = targetBatches.length;
  let round: number | undefined;
  deferred.sort((a, b) => b.order - a.order || b.position - a.position).forEach((d) => {
    if (d.order !== round) {
      round = d.order;
      number++;
    }
    steps.push(...d.steps.map((s) => ({ ...s, batch: number })));
  });
  for (const summary of pools) summary.batches = new Set(steps.filter((s) => s.pool === summary.pool).map((s) => s.batch)).size;
  return { stack, changes: configChanges(base, target), steps, pools, warnings };
}


/** The hooks adopt an existing node undrained only when nothing in its script would restart anything. */
function adoptionNote(config: KubeherdConfig): string {
  return config.os.systemUpgrade !== undefined
    ? "adoption: drained, as the system upgrade token makes the script dist-upgrade the node"
    : "adoption: skipped when the node already runs the pinned kubelet, runtime and Ubuntu release";
}

function launchSteps(node: CattleNode): Omit<Step, "batch">[] {
  return [
    { pool: node.pool, node: node.node, action: "launch", userData: node.userData },
    { pool: node.pool, node: node.node, action: "wait-ready" },
  ];
}

/** Each node's batch number and position in it, by `pool/node`. */
function batchOrder(batches: Batch[]): Map<string, [number, number]> {
  return new Map(batches.flatMap((b) => b.nodes.map((n, i) => [`${b.pool}/${n}`, [b.number, i]] as const)));
}
