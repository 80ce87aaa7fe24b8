/**
 * Resource hooks named exactly like components/hooks.ts's. Instead of draining and waiting, each appends
 * `<node>:<action>` to the engine log; the drain hook first refuses outside the node's maintenance window, with the
 * real hook's check and words. The real `kubeherd-ready` hook also uncordons the node: the engine cannot
 * see that as a separate event, so one `ready` line stands for both.
 *
 * All three are created on every run, as the real program does: delete hooks come from the old state, and a delete
 * whose hook is not registered fails (FACTS.md §2).
 */
import * as pulumi from "@pulumi/pulumi";
import { appendFileSync } from "node:fs";
import type { RolloutWindow } from "../../../../components/config/schema";
import { windowRefusal } from "../../../../components/rollout/window";
import { ACTION_MS } from "./stand-ins";

export interface NodeHooks {
  drain: pulumi.ResourceHook;
  ready: pulumi.ResourceHook;
  forget: pulumi.ResourceHook;
}

/** The node a hook fires for: a stand-in's `node` input (old inputs for delete hooks, new ones otherwise). */
function hookNode(args: pulumi.ResourceHookArgs): string {
  const node = args.newInputs?.node ?? args.oldInputs?.node;
  if (typeof node !== "string") throw new Error(`hook fired for ${args.urn}, which has no node input`);
  return node;
}

/** Nodes whose drain or ready hook fails (after logging), as a drain blocked by a PDB or a node that never comes back. */
export interface HookFaults {
  drain?: string[];
  ready?: string[];
}

/**
 * The wall clock the drain hook checks maintenance windows against, as the real one does (before it cordons
 * anything, with components/rollout/window.ts): it starts at `start` and moves on `minutesPerNode` with every node
 * back (each `ready`), so the nodes of one batch start at the same time and a window can close between batches.
 */
export interface WallClock {
  /** An ISO instant. */
  start: string;
  minutesPerNode: number;
}

export interface HookOptions {
  faults?: HookFaults;
  clock?: WallClock;
  /** Node name → its pool's `rollout.window`. */
  windows?: Record<string, RolloutWindow | undefined>;
}

export function nodeHooks(logPath: string, { faults = {}, clock, windows = {} }: HookOptions = {}): NodeHooks {
  let back = 0;
  const now = () => new Date(Date.parse(clock?.start ?? new Date().toISOString()) + back * (clock?.minutesPerNode ?? 0) * 60_000);
  const logging = (action: string, failing: string[] = []) => async (args: pulumi.ResourceHookArgs) => {
    const node = hookNode(args);
    if (action === "drain") {
      const refused = windowRefusal(args.name, windows[node], now());
      if (refused) throw new Error(refused);
    }
    appendFileSync(logPath, `${node}:${action}\n`);
    await new Promise((resolve) => setTimeout(resolve, ACTION_MS));
    if (failing.includes(node)) throw new Error(`engine test: the ${action} of ${node} fails (injected)`);
    if (action === "ready") back++;
  };
  return {
    drain: new pulumi.ResourceHook("kubeherd-drain", logging("drain", faults.drain)),
    ready: new pulumi.ResourceHook("kubeherd-ready", logging("ready", faults.ready)),
    forget: new pulumi.ResourceHook("kubeherd-forget-node", logging("forget")),
  };
}
