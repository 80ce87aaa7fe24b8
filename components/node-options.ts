/**
 * The resource options of a node and the gates between batches, in one place for both pool components (and the
 * engine suite, which runs them through the real Pulumi engine): these are what make `pulumi up` take the planner's
 * order (components/rollout/batches.ts), with a graph that grows linearly in the number of nodes.
 *
 * Between two batches stands a gate, a `pulumi.Stash` (built into the engine: no provider, no cloud call) that
 * depends on every node of its batch and on the gate before it; every node of the next batch depends on the gate
 * alone. So:
 *
 * - creates: the SDK registers a node only once its gate's registration returned, which waits for every node of
 *   the batch before, whose registrations return after their `afterCreate` hooks (FACTS.md §1). Nodes of one batch
 *   depend on nothing of each other and change at once.
 * - deferred deletes (surge replacements, removed nodes and pools) are scheduled in rounds by the direct edges
 *   among the resources deleted in the same update. The gates' `replacementTrigger` (`gateTrigger`) changes in every
 *   update that can delete nodes at the end, so the old gates are deleted too, and the chain
 *   node → gate → gate → … → node between any two old nodes consists of deleted resources: the rounds go batch by
 *   batch, last first, even across an unchanged pets pool.
 * - stored edges: two per node (to its gate, from the next gate) and one per gate (to the gate before), where
 *   "every node depends on every node before it" stored n(n-1)/2.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Batch } from "./rollout/batches";

export interface NodeHooks {
  drain: pulumi.ResourceHook;
  ready: pulumi.ResourceHook;
  forget: pulumi.ResourceHook;
}

/**
 * The Pulumi name of a node's resource, which is also the key under which the node's context and identity are
 * handed to its hooks (the engine gives a hook the resource's name). A cattle instance is named after its node
 * (`workers-0`), a pets command after its pool component and node (`storage-storage-1`). Names make URNs: never
 * change one.
 */
export function nodeResourceName(mode: "cattle" | "pets", component: string, node: string): string {
  return mode === "cattle" ? node : `${component}-${node}`;
}

/**
 * A journey's stage resource for a node (components/rollout/journey-plan.ts): the node's resource name and the
 * minor the stage reaches, `storage-storage-1-to-1-32`. Deleted by the `up` after the journey, running nothing.
 */
export function stageResourceName(resourceName: string, minor: string): string {
  return `${resourceName}-to-${minor.replace(/\./g, "-")}`;
}

/** A cattle instance: replaced delete-before-create when rolling, create-before-delete when surging. */
export function cattleNodeOptions(args: {
  strategy: "rolling" | "surge";
  fingerprint: string;
  /** The gate after the previous batch; none for the cluster's first batch. */
  after?: pulumi.Resource;
  hooks: NodeHooks;
  /** A kubectl-only change (rollout/cattle-client-only.ts): the instance keeps the template version it was made from. */
  keepLaunchTemplate?: boolean;
}): pulumi.CustomResourceOptions {
  return {
    ...(args.keepLaunchTemplate ? { ignoreChanges: ["launchTemplate"] } : {}),
    // Never another node's outputs as inputs: that would pull dependents into an early delete (FACTS.md §1).
    dependsOn: args.after ? [args.after] : [],
    deleteBeforeReplace: args.strategy === "rolling",
    replacementTrigger: args.fingerprint,
    hooks: { beforeDelete: [args.hooks.drain], afterCreate: [args.hooks.ready], afterDelete: [args.hooks.forget] },
  };
}

/** A pets node's converge command: re-created when its triggers change, drained before and waited for after. */
export function petsNodeOptions(args: { after?: pulumi.Resource; hooks: NodeHooks }): pulumi.CustomResourceOptions {
  return {
    dependsOn: args.after ? [args.after] : [],
    hooks: { beforeCreate: [args.hooks.drain], afterCreate: [args.hooks.ready] },
  };
}

export interface BatchGateArgs {
  /** The batch's number across the cluster and its nodes' plan names (kept in the state, for people reading it). */
  batch: number;
  nodes: string[];
  /** The batch's node resources. */
  resources: readonly pulumi.Resource[];
  /** The gate after the previous batch. */
  previous?: pulumi.Resource;
  /** `gateTrigger(config, region)` (components/rollout/batches.ts). */
  trigger: string;
  parent: pulumi.Resource;
}

/** The gate after a batch: the next batch's nodes depend on it alone. */
export function batchGate(name: string, args: BatchGateArgs): pulumi.Stash {
  return new pulumi.Stash(name, { input: { batch: args.batch, nodes: args.nodes } }, {
    parent: args.parent,
    dependsOn: [...(args.previous ? [args.previous] : []), ...args.resources],
    replacementTrigger: args.trigger,
  });
}

export interface BatchesArgs<N extends { node: string }> {
  /** The pool component's name; the gates are `${name}-batch-${number}`. */
  name: string;
  pool: string;
  /** The pool's batches (components/rollout/batches.ts), in rollout order. */
  batches: readonly Batch[];
  /** The pool's nodes as the planner gives them (rollout/nodes.ts). */
  nodes: readonly N[];
  /** The gate after the previous pool's last batch; none when this pool goes first. */
  after?: pulumi.Resource;
  /** `gateTrigger(config, region)`. */
  trigger: string;
  parent: pulumi.Resource;
}

/**
 * Declares a pool's nodes batch by batch: `declare` makes one node's resource behind `after` (the gate of the batch
 * before), then a gate closes the batch. Returns the node resources in rollout order and the pool's last gate.
 */
export function declareBatches<N extends { node: string }, R extends pulumi.Resource>(
  args: BatchesArgs<N>,
  declare: (node: N, index: number, batch: Batch, after: pulumi.Resource | undefined) => R,
): { resources: R[]; lastGate?: pulumi.Resource } {
  const resources: R[] = [];
  let after = args.after;
  for (const batch of args.batches) {
    const members = batch.nodes.map((name) => {
      const index = args.nodes.findIndex((n) => n.node === name);
      if (index < 0) throw new Error(`batch ${batch.number} names ${name}, which is not a node of pool ${args.pool}`);
      return declare(args.nodes[index], index, batch, after);
    });
    resources.push(...members);
    after = batchGate(`${args.name}-batch-${batch.number}`, { batch: batch.number, nodes: batch.nodes, resources: members, previous: after, trigger: args.trigger, parent: args.parent });
  }
  return { resources, lastGate: after };
}
