/**
 * Before kubeherd takes a node out, every node before it in the rollout must be back: registered, Ready and not
 * left cordoned by kubeherd. The engine does not re-run a failed `afterCreate` ready hook (it has recorded the new
 * node by then), so without this check the `pulumi up` after a node that never came back would go on to drain the
 * next one, and two nodes would be out at once.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { KubeClient } from "./client";
import { removedApiPreflight } from "./removed-api-scan";
import { removedApiRefusal, type ControlPlaneTransition, type RemovedApiAcceptance } from "../versions/removed-api-gate";
import { describeIdentity, findNode, reportOf, type NodeIdentity } from "./nodes";

export interface EarlierNode {
  /** The node's name in the plan, for the message. */
  node: string;
  identity: NodeIdentity;
}

/** One line per earlier node that is not back; empty when all are. */
export async function earlierNodesNotBack(client: KubeClient, earlier: readonly EarlierNode[]): Promise<string[]> {
  if (earlier.length === 0) return [];
  const nodes: V1Node[] = (await client.list("nodes")).items;
  const problems: string[] = [];
  for (const { node, identity } of earlier) {
    const found = findNode(nodes, identity);
    if (!found) {
      problems.push(`${node} (${describeIdentity(identity)}) has no Kubernetes node: it never joined`);
      continue;
    }
    const report = reportOf(found);
    if (!report.ready) problems.push(`${node} (node ${found.metadata?.name}) is not Ready: ${report.readiness}`);
    else if (report.cordonedByKubeherd) problems.push(`${node} (node ${found.metadata?.name}) is still cordoned by kubeherd`);
  }
  return problems;
}

/**
 * The removed-API pre-flight of the node that runs `kubeadm upgrade apply` (issue 18): the same reading and verdict
 * as `plan --live` (components/kube/removed-api-scan.ts), so an `up` cannot cross a removal the preview would
 * block. The refusal line, or undefined when the bump may go on (nothing crossed, nothing found, or accepted).
 */
export async function removedApisRefusal(
  client: KubeClient,
  node: string,
  transition: ControlPlaneTransition,
  acceptance: RemovedApiAcceptance,
  log: (message: string) => void,
): Promise<string | undefined> {
  const verdict = await removedApiPreflight(client, transition, acceptance);
  if (verdict.crossed.length === 0) return undefined;
  if (verdict.metricsNote) log(`${node}: ${verdict.metricsNote}`);
  const refusal = removedApiRefusal(node, verdict);
  if (!refusal) log(`${node}: removed-API pre-flight ${verdict.transition.from} → ${verdict.transition.to}: ${verdict.summary}`);
  return refusal;
}
