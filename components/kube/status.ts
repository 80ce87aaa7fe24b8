/**
 * The rollout status of a stack: each of its nodes, in rollout order, against the pins (kubelet, container runtime)
 * and `os.release`, with its readiness and cordon; read once, or followed through a watch of Nodes for a second
 * terminal during `pulumi up`.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { KubeherdConfig } from "../config/schema";
import { nodeExpectations } from "../rollout/nodes";
import type { KubeClient } from "./client";
import { Deadline, type Clock } from "./clock";
import { reportOf, runsRuntime } from "./nodes";
import { watchUntil } from "./observe";
import { describeLookup, findStackNodes, stackNodes } from "../disruption/stack-nodes";

export interface Check {
  have?: string;
  want: string;
  ok: boolean;
}

export interface NodeStatus {
  pool: string;
  node: string;
  /** The Kubernetes node name; undefined when no Node is found. */
  kubeNode?: string;
  /** How the node was looked for, when not found. */
  lookup?: string;
  ready: boolean;
  readiness: string;
  kubelet: Check;
  runtime: Check;
  os: Check;
  cordoned: "no" | "by-kubeherd" | "by-someone-else";
  onPins: boolean;
}

export interface StackStatus {
  stack: string;
  nodes: NodeStatus[];
  /** Plan nodes (one per stack node, however many Nodes carry its labels during a surge). */
  total: number;
  onPins: number;
  summary: string;
}

function rowOf(pool: string, node: string, kube: V1Node, config: KubeherdConfig): NodeStatus {
  const want = nodeExpectations(config, pool);
  const report = reportOf(kube);
  const kubelet = { have: report.kubeletVersion, want: `v${want.kubeletVersion}`, ok: report.kubeletVersion === `v${want.kubeletVersion}` };
  const runtime = { have: report.runtime ? `${report.runtime.name} ${report.runtime.version}` : undefined, want: `${want.runtime.name} ${want.runtime.version}`, ok: runsRuntime(report, want.runtime) };
  const image = kube.status?.nodeInfo?.osImage;
  const os = { have: image, want: `Ubuntu ${config.os.release}`, ok: (image ?? "").startsWith(`Ubuntu ${config.os.release}`) };
  return {
    pool,
    node,
    kubeNode: kube.metadata?.name,
    ready: report.ready,
    readiness: report.readiness,
    kubelet,
    runtime,
    os,
    cordoned: !report.unschedulable ? "no" : report.cordonedByKubeherd ? "by-kubeherd" : "by-someone-else",
    onPins: kubelet.ok && runtime.ok && os.ok,
  };
}

const missing = (pool: string, node: string, lookup: string, config: KubeherdConfig): NodeStatus => {
  const want = nodeExpectations(config, pool);
  return {
    pool, node, lookup, ready: false, readiness: "not found",
    kubelet: { want: `v${want.kubeletVersion}`, ok: false },
    runtime: { want: `${want.runtime.name} ${want.runtime.version}`, ok: false },
    os: { want: `Ubuntu ${config.os.release}`, ok: false },
    cordoned: "no", onPins: false,
  };
};

/** The status of every node of `config` among `nodes` (the cluster's Node objects). */
export function stackStatus(stack: string, config: KubeherdConfig, nodes: readonly V1Node[]): StackStatus {
  const rows: NodeStatus[] = [];
  let onPins = 0;
  const refs = stackNodes(config);
  const notFound: string[] = [];
  for (const ref of refs) {
    const found = findStackNodes(nodes, ref);
    if (found.length === 0) {
      rows.push(missing(ref.pool, ref.node, describeLookup(ref), config));
      notFound.push(ref.node);
      continue;
    }
    const mine = found.map((n) => rowOf(ref.pool, ref.node, n, config));
    rows.push(...mine);
    if (mine.every((r) => r.onPins)) onPins++;
  }
  const list = (what: string, names: string[]) => (names.length ? `; ${names.length} ${what}: ${names.join(", ")}` : "");
  const nameOf = (r: NodeStatus) => r.node;
  const summary =
    `${onPins}/${refs.length} nodes on the pins` +
    list("cordoned by kubeherd", rows.filter((r) => r.cordoned === "by-kubeherd").map(nameOf)) +
    list("cordoned by someone else", rows.filter((r) => r.cordoned === "by-someone-else").map(nameOf)) +
    list("not Ready", rows.filter((r) => r.kubeNode && !r.ready).map(nameOf)) +
    list("not found", notFound);
  return { stack, nodes: rows, total: refs.length, onPins, summary };
}

export async function status(client: KubeClient, stack: string, config: KubeherdConfig): Promise<StackStatus> {
  return stackStatus(stack, config, (await client.list("nodes")).items);
}

/** Watches are renewed after this long; a single Deadline can wait no longer than a timer allows (~24.8 days). */
const WATCH_ROUND_SECONDS = 24 * 3600;

/**
 * Calls `onChange` with the status now, then again whenever a change of a Node changes it (a watch: list, then
 * watch from the list's resourceVersion). Resolves when `signal` aborts; rejects when the API refuses to serve it.
 */
export async function watchStatus(client: KubeClient, clock: Clock, stack: string, config: KubeherdConfig, onChange: (s: StackStatus) => void, signal: AbortSignal): Promise<void> {
  let last = "";
  while (!signal.aborted) {
    await watchUntil(
      client,
      clock,
      { kind: "nodes" },
      (objects) => {
        const now = stackStatus(stack, config, [...objects.values()]);
        const key = JSON.stringify(now);
        if (key !== last) {
          last = key;
          onChange(now);
        }
        return undefined;
      },
      new Deadline(clock, WATCH_ROUND_SECONDS),
      { signal },
    );
  }
}
