/**
 * Resource hooks named exactly like components/hooks.ts's. Instead of draining and waiting, each appends
 * `<node>:<action>` to the engine log. The real `kubeherd-ready` hook also uncordons the node: the engine cannot
 * see that as a separate event, so one `ready` line stands for both.
 *
 * All three are created on every run, as the real program does: delete hooks come from the old state, and a delete
 * whose hook is not registered fails (FACTS.md §2).
 */
import * as pulumi from "@pulumi/pulumi";
import { appendFileSync } from "node:fs";
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

export function nodeHooks(logPath: string, faults: HookFaults = {}): NodeHooks {
  const logging = (action: string, failing: string[] = []) => async (args: pulumi.ResourceHookArgs) => {
    const node = hookNode(args);
    appendFileSync(logPath, `${node}:${action}\n`);
    await new Promise((resolve) => setTimeout(resolve, ACTION_MS));
    if (failing.includes(node)) throw new Error(`engine test: the ${action} of ${node} fails (injected)`);
  };
  return {
    drain: new pulumi.ResourceHook("kubeherd-drain", logging("drain", faults.drain)),
    ready: new pulumi.ResourceHook("kubeherd-ready", logging("ready", faults.ready)),
    forget: new pulumi.ResourceHook("kubeherd-forget-node", logging("forget")),
  };
}
