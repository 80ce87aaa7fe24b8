/**
 * Nodes: which Node object is an EC2 instance or a pets host, what it reports, and the cordon that kubeherd marks
 * as its own so that it never uncordons a node somebody else cordoned.
 */
import type { V1Node } from "@kubernetes/client-node";
import { NODE_LABEL, POOL_LABEL } from "../disruption/stack-nodes";
import type { KubeClient } from "./client";
import { CONVERGED_TO } from "./due";

/** Set with `spec.unschedulable` when kubeherd cordons a node; uncordon touches only nodes that carry it. */
export const CORDONED_BY = "kubeherd.io/cordoned-by";
export const KUBEHERD = "kubeherd";
/** Set once a node has come back from a kubeherd change: a pets node without it is being adopted. */
export const MANAGED_BY = "kubeherd.io/managed-by";
/** What a label value may be (Kubernetes: at most 63 characters, alphanumeric at both ends). */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;

/** How to recognise a node: pets know its name; a cattle instance is known by its EC2 outputs. */
export interface NodeIdentity {
  nodeName?: string;
  instanceId?: string;
  /** `ip-10-0-1-7.eu-west-1.compute.internal`: kubeadm names a node after its host name. */
  privateDns?: string;
  privateIp?: string;
}

export function describeIdentity(id: NodeIdentity): string {
  if (id.nodeName) return `node ${id.nodeName}`;
  const details = [id.privateDns, id.privateIp].filter(Boolean).join(", ");
  const what = id.instanceId ? `instance ${id.instanceId}` : "instance";
  return details ? `${what} (${details})` : what;
}

/** The short name used in log lines: `ip-10-0-1-7` rather than the full private DNS name. */
export function shortName(name: string): string {
  return /^ip-\d/.test(name) ? name.split(".")[0] : name;
}

function instanceIdOf(node: V1Node): string | undefined {
  // aws:///eu-west-1a/i-0abc…: the last path segment.
  const providerId = node.spec?.providerID;
  return providerId ? providerId.slice(providerId.lastIndexOf("/") + 1) : undefined;
}

/**
 * True when `node` is the one `id` names. A node whose providerID names an instance is that instance and no
 * other, even if it shares a recycled IP address; kubeadm clusters without the AWS cloud provider have no
 * providerID, so the host name (full or short) and the InternalIP address decide.
 */
export function matchesNode(node: V1Node, id: NodeIdentity): boolean {
  const name = node.metadata?.name ?? "";
  if (id.nodeName) return name === id.nodeName;
  const instance = instanceIdOf(node);
  if (instance && id.instanceId) return instance === id.instanceId;
  if (id.privateDns && (name === id.privateDns || name === id.privateDns.split(".")[0])) return true;
  if (id.privateIp) {
    return (node.status?.addresses ?? []).some((a) => a.type === "InternalIP" && a.address === id.privateIp);
  }
  return false;
}

export function findNode(nodes: Iterable<V1Node>, id: NodeIdentity): V1Node | undefined {
  for (const node of nodes) if (matchesNode(node, id)) return node;
  return undefined;
}

export async function lookupNode(client: KubeClient, id: NodeIdentity): Promise<V1Node | undefined> {
  if (id.nodeName) return client.get("nodes", id.nodeName);
  if (!id.instanceId && !id.privateDns && !id.privateIp) return undefined;
  return findNode((await client.list("nodes")).items, id);
}

export interface NodeReport {
  ready: boolean;
  /** `Ready=False (KubeletNotReady: container runtime network not ready)` and the like. */
  readiness: string;
  kubeletVersion?: string;
  runtime?: { name: string; version: string };
  unschedulable: boolean;
  cordonedByKubeherd: boolean;
}

export function reportOf(node: V1Node): NodeReport {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === "Ready");
  const detail = ready && (ready.reason || ready.message) ? ` (${[ready.reason, ready.message].filter(Boolean).join(": ")})` : "";
  const runtime = node.status?.nodeInfo?.containerRuntimeVersion;
  const match = runtime ? /^([^:]+):\/\/(.+)$/.exec(runtime) : null;
  return {
    ready: ready?.status === "True",
    readiness: ready ? `Ready=${ready.status}${ready.status === "True" ? "" : detail}` : "no Ready condition yet",
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion,
    runtime: match ? { name: match[1], version: match[2] } : undefined,
    unschedulable: node.spec?.unschedulable === true,
    cordonedByKubeherd: node.metadata?.annotations?.[CORDONED_BY] === KUBEHERD,
  };
}

/** The numeric release in a version string: `5:18.09.2~3-0` → [18, 9, 2], `v1.30.2` → [1, 30, 2]. */
export function releaseNumbers(version: string): number[] | undefined {
  const match = /^(?:\d+:)?v?(\d+(?:\.\d+)*)/.exec(version.trim());
  return match ? match[1].split(".").map(Number) : undefined;
}

/** Same release, compared number by number so that docker-ce `18.06.2` equals the runtime's `18.6.2`. */
export function sameRelease(a: string, b: string): boolean {
  const x = releaseNumbers(a);
  const y = releaseNumbers(b);
  return x !== undefined && y !== undefined && x.length === y.length && x.every((n, i) => n === y[i]);
}

/** The node reports `containerd://1.7.19` or `docker://18.6.2` (also through cri-dockerd). */
export function runsRuntime(report: NodeReport, runtime: { name: "docker" | "containerd"; version: string }): boolean {
  return report.runtime?.name === runtime.name && sameRelease(report.runtime.version, runtime.version);
}

export type CordonResult = "cordoned" | "already-ours" | "cordoned-by-someone-else";

/**
 * Cordons `node`. A node that is already unschedulable without kubeherd's mark stays someone else's: kubeherd
 * drains it but will not uncordon it afterwards.
 */
export async function cordon(client: KubeClient, node: V1Node): Promise<CordonResult> {
  const report = reportOf(node);
  if (report.unschedulable) return report.cordonedByKubeherd ? "already-ours" : "cordoned-by-someone-else";
  await client.patchNode(node.metadata?.name ?? "", {
    metadata: { annotations: { [CORDONED_BY]: KUBEHERD } },
    spec: { unschedulable: true },
  });
  return "cordoned";
}

/** Makes `name` schedulable again if, and only if, kubeherd cordoned it. Returns whether it did. */
export async function uncordon(client: KubeClient, name: string): Promise<boolean> {
  const node = await client.get("nodes", name);
  if (!node || !reportOf(node).cordonedByKubeherd) return false;
  await client.patchNode(name, { metadata: { annotations: { [CORDONED_BY]: null } }, spec: { unschedulable: null } });
  return true;
}

/**
 * Marks a node as one kubeherd has rolled (see MANAGED_BY), with its pool and plan name when known, and with the
 * digest of what it converged to (`target`, ./due.ts) when the program gives one.
 */
export async function markManaged(client: KubeClient, name: string, planNode?: { pool: string; node: string; target?: string }): Promise<void> {
  const labels = planNode && LABEL_VALUE.test(planNode.pool) && LABEL_VALUE.test(planNode.node) ? { [POOL_LABEL]: planNode.pool, [NODE_LABEL]: planNode.node } : undefined;
  const annotations = { [MANAGED_BY]: KUBEHERD, ...(planNode?.target ? { [CONVERGED_TO]: planNode.target } : {}) };
  await client.patchNode(name, { metadata: { annotations, ...(labels ? { labels } : {}) } });
}

/**
 * Deletes the Node object of a terminated instance, so no NotReady ghost lingers until the node lifecycle
 * controller (absent without a cloud provider) would remove it. Returns the deleted node's name.
 */
export async function forgetNode(client: KubeClient, id: NodeIdentity): Promise<string | undefined> {
  const node = await lookupNode(client, id);
  const name = node?.metadata?.name;
  if (!name) return undefined;
  return (await client.deleteNode(name)) ? name : undefined;
}
