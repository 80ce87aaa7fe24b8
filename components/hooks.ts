/**
 * The named Pulumi resource hooks that make node changes safe: drain before a node goes (cattle) or is upgraded
 * (pets), wait until it is back and its workloads with it, and forget the Node of a terminated instance. They
 * are defined here once, at top level, for every program run: the engine takes delete hooks from the old state
 * and fails a delete whose hook is not registered, even after no resource binds it any more (FACTS.md §2).
 *
 * The callbacks stay thin: they hand the hook's arguments and the node's context to components/kube/hook-actions.
 */
import * as pulumi from "@pulumi/pulumi";
import { clientFromKubeconfig } from "./kube/api-client";
import type { KubeClient } from "./kube/client";
import { systemClock } from "./kube/clock";
import {
  drainBeforeChange,
  forgetAfterDelete,
  readyAfterChange,
  type HookArgs,
  type HookEnv,
  type NodeHookContext,
} from "./kube/hook-actions";
import type { NodeIdentity } from "./kube/nodes";
import type { DrainRecord } from "./kube/workloads";

export type { NodeHookContext } from "./kube/hook-actions";

/** How long a hook waits for the stack's kubeconfig to resolve before it gives up. */
const KUBECONFIG_TIMEOUT_MS = 60_000;

const contexts = new Map<string, NodeHookContext>();
const identities = new Map<string, NodeIdentity>();
const records = new Map<string, DrainRecord>();
let kubeconfig: Promise<string> | undefined;
let client: Promise<KubeClient> | undefined;

/** Registers what the hooks need to know about one node resource, under its Pulumi resource name. */
export function registerNodeContext(resourceName: string, ctx: NodeHookContext): void {
  contexts.set(resourceName, ctx);
}

/** Registers how to find a cattle instance's Kubernetes node once its outputs are known (the preflight of later
 *  nodes checks that it is back). */
export function registerNodeIdentity(resourceName: string, identity: NodeIdentity): void {
  identities.set(resourceName, identity);
}

/** Called once by index.ts with the stack's kubeconfig (a secret Output); the hooks build their client from it. */
export function configureKubeconfig(value: pulumi.Input<string>): void {
  // Hooks never run in preview (no onDryRun), where the value may be unknown; in an update it resolves.
  kubeconfig = new Promise((resolve) => {
    pulumi.output(value).apply((text) => {
      resolve(text);
      return text;
    });
  });
  client = undefined;
}

async function kubeClient(): Promise<KubeClient> {
  if (!kubeconfig) throw new Error("kubeherd hooks: configureKubeconfig() was not called, so no Kubernetes API is known");
  const pending = kubeconfig;
  client ??= (async () => {
    const stop = new AbortController();
    const timeout = systemClock.sleep(KUBECONFIG_TIMEOUT_MS, stop.signal).then(() => undefined);
    const text = await Promise.race([pending, timeout]);
    stop.abort();
    if (text === undefined) throw new Error(`kubeherd hooks: the kubeconfig did not resolve within ${KUBECONFIG_TIMEOUT_MS / 1000}s`);
    return clientFromKubeconfig(text);
  })();
  return client.catch((err: unknown) => {
    client = undefined;
    throw err;
  });
}

const env: HookEnv = {
  contexts,
  identities,
  records,
  client: kubeClient,
  clock: systemClock,
  log: (message) => pulumi.log.info(message),
  get stack() {
    return pulumi.getStack();
  },
};

const run = (action: (args: HookArgs, env: HookEnv) => Promise<void>) => (args: pulumi.ResourceHookArgs) => action(args, env);

/** cattle `beforeDelete`, pets `beforeCreate`: cordon and drain the node (adopting pets nodes already on the pins). */
export const drainHook = new pulumi.ResourceHook("kubeherd-drain", run(drainBeforeChange));

/** `afterCreate`: wait-ready with the pinned kubelet, uncordon (only if kubeherd cordoned it), workload gate. */
export const readyHook = new pulumi.ResourceHook("kubeherd-ready", run(readyAfterChange));

/** cattle `afterDelete`: delete the Node object of the terminated instance (no NotReady ghosts). */
export const forgetNodeHook = new pulumi.ResourceHook("kubeherd-forget-node", run(forgetAfterDelete));

/** The three hooks as the pool components bind them (components/node-options.ts). */
export const nodeHooks = { drain: drainHook, ready: readyHook, forget: forgetNodeHook };
