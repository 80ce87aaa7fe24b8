/**
 * The resource options of a node, in one place for both pool components (and the engine suite, which runs them
 * through the real Pulumi engine): these options are what makes `pulumi up` take the planner's order.
 *
 * Every node depends on every node before it in the rollout, not only on the previous one. The chain alone orders
 * creates, but the engine schedules deferred deletes (surge replacements, removed nodes) by the old graph's edges
 * between the deleted resources themselves: a chain that passes through a node that is not deleted (an unchanged
 * pets node between two cattle pools) would let two pools' deletes run at once.
 */
import type * as pulumi from "@pulumi/pulumi";

export interface NodeHooks {
  drain: pulumi.ResourceHook;
  ready: pulumi.ResourceHook;
  forget: pulumi.ResourceHook;
}

/** A cattle instance: replaced delete-before-create when rolling, create-before-delete when surging. */
export function cattleNodeOptions(args: {
  strategy: "rolling" | "surge";
  fingerprint: string;
  earlier: readonly pulumi.Resource[];
  hooks: NodeHooks;
  /** What the node needs before it boots (its pool's join token), not part of the rollout order. */
  needs?: readonly pulumi.Resource[];
}): pulumi.CustomResourceOptions {
  return {
    // Never another node's outputs as inputs: that would pull dependents into an early delete (FACTS.md §1).
    dependsOn: [...(args.needs ?? []), ...args.earlier],
    deleteBeforeReplace: args.strategy === "rolling",
    replacementTrigger: args.fingerprint,
    hooks: { beforeDelete: [args.hooks.drain], afterCreate: [args.hooks.ready], afterDelete: [args.hooks.forget] },
  };
}

/** A pets node's converge command: re-created when its triggers change, drained before and waited for after. */
export function petsNodeOptions(args: { earlier: readonly pulumi.Resource[]; hooks: NodeHooks }): pulumi.CustomResourceOptions {
  return {
    dependsOn: [...args.earlier],
    hooks: { beforeCreate: [args.hooks.drain], afterCreate: [args.hooks.ready] },
  };
}
