/**
 * What a `pulumi up` does through the Kubernetes API, as RBAC names it: the least a kubeconfig bound to
 * rbac/kubeherd-rollout.yaml is given (a test holds the two equal, and another that the rollout uses each of them).
 * The drain hook asks the API server (SelfSubjectAccessReview) for all of them before it cordons the first node, so
 * an identity that lacks one is refused up front, naming the verb and the resource, not half-way through a rollout.
 */
import { describeAccess, type KubeClient, type ResourceAccess } from "./client";
import { scannedResources } from "../versions/removed-api-gate";

export interface RolloutAccess extends ResourceAccess {
  /** Who needs it: the node hooks, the first control-plane node's removed-API pre-flight (only for a bump that
   *  crosses a removal), or the stack's Kubernetes provider (the join token Secrets). */
  by: "hooks" | "removed-api-preflight" | "provider";
  why: string;
}

/** Lists and watches (components/kube/observe.ts: list, then watch from its resourceVersion); `get` where a hook reads one object. */
const read = (group: string, resource: string, why: string, verbs: readonly string[] = ["list", "watch"]): RolloutAccess[] =>
  verbs.map((verb) => ({ verb, group, resource, by: "hooks" as const, why }));

const HOOK_ACCESS: readonly RolloutAccess[] = [
  ...read("", "nodes", "find each node, wait until it is Ready on its pins, check earlier batches are back", ["get", "list", "watch"]),
  { verb: "patch", group: "", resource: "nodes", by: "hooks", why: "cordon and uncordon, mark and label the nodes it brings back" },
  { verb: "delete", group: "", resource: "nodes", by: "hooks", why: "forget the Node of a terminated cattle instance" },
  ...read("", "pods", "find what a drain evicts and wait until it is gone"),
  { verb: "create", group: "", resource: "pods", subresource: "eviction", by: "hooks", why: "evict pods through their PodDisruptionBudgets" },
  ...read("policy", "poddisruptionbudgets", "wait on the budgets a drain touched"),
  ...read("apps", "deployments", "wait until the workloads a drain displaced are back"),
  ...read("apps", "statefulsets", "wait until the workloads a drain displaced are back"),
  ...read("apps", "replicasets", "find a pod's Deployment, wait until its workload is back", ["get", "list", "watch"]),
  ...read("apps", "daemonsets", "wait until the workloads a drain displaced are back"),
  { verb: "create", group: "", resource: "events", namespace: "default", by: "hooks", why: "record on each Node what kubeherd did to it" },
];

/** The kinds the removed-API pre-flight lists that the hooks may not list already (components/versions/removed-api-gate.ts). */
const PREFLIGHT_ACCESS: readonly RolloutAccess[] = scannedResources()
  .filter(({ group, resource }) => !HOOK_ACCESS.some((a) => a.verb === "list" && a.group === group && a.resource === resource))
  .map(({ group, resource }) => ({
    verb: "list",
    group,
    resource,
    by: "removed-api-preflight",
    why: "find objects written through an API version the target minor removes, before kubeadm upgrade apply",
  }));

export const ROLLOUT_ACCESS: readonly RolloutAccess[] = [
  ...HOOK_ACCESS,
  ...PREFLIGHT_ACCESS,
  ...(["get", "create", "patch", "delete"] as const).map((verb): RolloutAccess => ({
    verb,
    group: "",
    resource: "secrets",
    namespace: "kube-system",
    by: "provider",
    why: "keep the join tokens (bootstrap-token Secrets) that cattle nodes join with",
  })),
];

/** The rights of ROLLOUT_ACCESS this identity lacks, asked of the API server, in the list's order. */
export async function missingAccess(client: KubeClient, wanted: readonly RolloutAccess[] = ROLLOUT_ACCESS): Promise<RolloutAccess[]> {
  const answers = await Promise.all(wanted.map((access) => client.mayDo(strip(access))));
  return wanted.filter((_, i) => !answers[i]);
}

/** Throws one line per missing right (verb, resource and why), before anything is cordoned. */
export async function checkRolloutAccess(client: KubeClient): Promise<void> {
  const missing = await missingAccess(client);
  if (missing.length === 0) return;
  const lines = missing.map((a) => `may not ${a.verb} ${describeAccess(a)} (needed to ${a.why})`);
  throw new Error(
    `the kubeconfig's identity lacks what the rollout needs, so no node was cordoned:\n  ${lines.join("\n  ")}\nBind it to the ClusterRole and Role in rbac/kubeherd-rollout.yaml, then run pulumi up again.`,
  );
}

function strip(access: RolloutAccess): ResourceAccess {
  const { verb, group, resource, subresource, namespace } = access;
  return { verb, group, resource, ...(subresource ? { subresource } : {}), ...(namespace ? { namespace } : {}) };
}
