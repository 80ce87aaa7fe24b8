/**
 * Nodes due in a rollout, and the `PreferNoSchedule` taint they carry until they are back (issue 19 item 4, as kOps
 * taints every node due for update at the start of a rolling update): pods evicted from one node then prefer the
 * nodes this rollout leaves alone over the ones it drains next.
 *
 * Which nodes a `pulumi up` will really change is the engine's to decide, node by node, so it is read from the nodes
 * themselves: the ready hook writes on each node it brings back the digest of what the node converged to (its pets
 * command's triggers, its cattle instance's replacement trigger: `nodeTarget`). At the start of a rollout (the first
 * drain hook) a node is due when that digest differs from its pool's target for it in this program. A node that
 * carries no digest (never brought back by this kubeherd) is left alone: its change is not known, and an unchanged
 * node is never tainted. The ready hook takes the taint off with the uncordon.
 */
import { createHash } from "node:crypto";
import type { V1Node, V1Taint } from "@kubernetes/client-node";
import { NODE_LABEL, POOL_LABEL } from "../disruption/stack-nodes";
import { KubeApiError, type KubeClient } from "./client";

/** The taint's key (effect PreferNoSchedule): the node is due in the rollout under way. */
export const ROLLOUT_PENDING = "kubeherd.io/rollout-pending";
/** The annotation the ready hook writes: the digest of what the node converged to (`nodeTarget`). */
export const CONVERGED_TO = "kubeherd.io/converged-to";

/** The digest of what a node converges to: its command's triggers (pets) or its replacement trigger (cattle). */
export function nodeTarget(trigger: string | readonly string[]): string {
  return `sha256:${createHash("sha256").update(JSON.stringify(trigger)).digest("hex")}`;
}

/** A node of the program, as the due test needs it: where it is in the plan and what it converges to. */
export interface PlannedNode {
  pool: string;
  node: string;
  mode: "cattle" | "pets";
  /** Pets: the Kubernetes node name (or the host's DNS name). */
  kubeNodeName?: string;
  /** `nodeTarget` of the node in this program. */
  target: string;
}

export interface DueVerdict {
  /** Nodes that converged to something else than their target: this rollout changes them. */
  due: string[];
  /** Nodes already on their target: this rollout leaves them alone. */
  current: string[];
}

/** Which of `nodes` are due, by the digest each carries against the planned node it is (pure). */
export function dueNodes(nodes: readonly V1Node[], planned: readonly PlannedNode[]): DueVerdict {
  const verdict: DueVerdict = { due: [], current: [] };
  for (const node of nodes) {
    const name = node.metadata?.name;
    const converged = node.metadata?.annotations?.[CONVERGED_TO];
    const plan = name ? planned.find((p) => isPlanned(node, name, p)) : undefined;
    if (!name || !plan || converged === undefined) continue;
    (converged === plan.target ? verdict.current : verdict.due).push(name);
  }
  return verdict;
}

/** A node is the planned one by kubeherd's labels (every node it brought back), or a pets host by its name. */
function isPlanned(node: V1Node, name: string, plan: PlannedNode): boolean {
  const labels = node.metadata?.labels ?? {};
  if (labels[POOL_LABEL] !== undefined || labels[NODE_LABEL] !== undefined) return labels[POOL_LABEL] === plan.pool && labels[NODE_LABEL] === plan.node;
  if (plan.mode !== "pets") return false;
  const host = plan.kubeNodeName ?? plan.node;
  return name === host || name === host.split(".")[0];
}

export const hasRolloutTaint = (node: V1Node): boolean => (node.spec?.taints ?? []).some((t) => t.key === ROLLOUT_PENDING);

/**
 * Puts the taint on `name` (`present`) or takes it off, keeping every other taint. The patch carries the node's
 * resourceVersion, so a taint another controller added meanwhile is not lost: on a conflict it reads again.
 * Returns whether it changed the node.
 */
export async function setRolloutTaint(client: KubeClient, name: string, present: boolean): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const node = await client.get("nodes", name);
    if (!node || hasRolloutTaint(node) === present) return false;
    const others = (node.spec?.taints ?? []).filter((t) => t.key !== ROLLOUT_PENDING);
    const taint: V1Taint = { key: ROLLOUT_PENDING, value: "true", effect: "PreferNoSchedule" };
    const taints = present ? [...others, taint] : others;
    try {
      await client.patchNode(name, { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints: taints.length > 0 ? taints : null } });
      return true;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409) || attempt >= 5) throw err;
    }
  }
}

/**
 * The start of a rollout: taints the due nodes and takes a leftover taint (an earlier `up` that stopped) off the
 * nodes that are not due any more. Returns the verdict.
 */
export async function taintDueNodes(client: KubeClient, planned: readonly PlannedNode[], log: (line: string) => void): Promise<DueVerdict> {
  const nodes = (await client.list("nodes")).items;
  const verdict = dueNodes(nodes, planned);
  for (const name of verdict.due) await setRolloutTaint(client, name, true);
  for (const name of verdict.current) if (await setRolloutTaint(client, name, false)) log(`node ${name}: already on its target; took off a ${ROLLOUT_PENDING} taint left by an earlier rollout`);
  if (verdict.due.length > 0) log(`nodes due in this rollout, tainted ${ROLLOUT_PENDING}:PreferNoSchedule until each is back: ${verdict.due.join(", ")}`);
  return verdict;
}
