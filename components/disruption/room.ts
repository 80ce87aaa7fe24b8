/**
 * Room for the pods a drain moves: the schedulable nodes that stay, each with its allocatable minus the requests
 * of the pods it already runs (cpu, memory, pod slots), and a first-fit placement of the moving pods' requests,
 * largest first, on the nodes each pod may go to (its nodeSelector and tolerations). Affinity, topology spread and
 * ports are the scheduler's business and not modelled: room here is necessary, not sufficient.
 */
import type { V1Node, V1Pod, V1Taint, V1Toleration } from "@kubernetes/client-node";
import { podName } from "./drain-filters";
import { formatCpu, formatMemory, parseQuantity } from "./quantity";

export interface Resources {
  /** Cores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  pods: number;
}

const ZERO: Resources = { cpu: 0, memory: 0, pods: 0 };
const add = (a: Resources, b: Resources): Resources => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory, pods: a.pods + b.pods });
const sub = (a: Resources, b: Resources): Resources => ({ cpu: a.cpu - b.cpu, memory: a.memory - b.memory, pods: a.pods - b.pods });
const fits = (need: Resources, free: Resources) => need.cpu <= free.cpu + 1e-9 && need.memory <= free.memory && need.pods <= free.pods;

export const describeResources = (r: Resources) => `cpu ${formatCpu(r.cpu)}, memory ${formatMemory(r.memory)}, ${r.pods} pods`;

function requestsOf(containers: { resources?: { requests?: Record<string, string> } }[] | undefined): { cpu: number; memory: number }[] {
  return (containers ?? []).map((c) => ({
    cpu: parseQuantity(c.resources?.requests?.cpu) ?? 0,
    memory: parseQuantity(c.resources?.requests?.memory) ?? 0,
  }));
}

const requested = new WeakMap<V1Pod, Resources>();

/** What the scheduler reserves for a pod: the larger of its containers' sum and its largest init container, plus overhead. */
export function podRequests(pod: V1Pod): Resources {
  let r = requested.get(pod);
  if (!r) requested.set(pod, (r = computeRequests(pod)));
  return r;
}

function computeRequests(pod: V1Pod): Resources {
  const main = requestsOf(pod.spec?.containers).reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), { cpu: 0, memory: 0 });
  const init = requestsOf(pod.spec?.initContainers);
  const overhead = pod.spec?.overhead ?? {};
  return {
    cpu: Math.max(main.cpu, ...init.map((i) => i.cpu)) + (parseQuantity(overhead.cpu) ?? 0),
    memory: Math.max(main.memory, ...init.map((i) => i.memory)) + (parseQuantity(overhead.memory) ?? 0),
    pods: 1,
  };
}

export function allocatable(node: V1Node): Resources {
  const a = node.status?.allocatable ?? {};
  return { cpu: parseQuantity(a.cpu) ?? 0, memory: parseQuantity(a.memory) ?? 0, pods: parseQuantity(a.pods) ?? 0 };
}

/** Pods that hold resources on their node: everything bound to it that has not finished. */
export const holdsResources = (pod: V1Pod) => pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed";

export const isSchedulable = (node: V1Node) =>
  node.spec?.unschedulable !== true && (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

function tolerates(tolerations: V1Toleration[] | undefined, taint: V1Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === "Exists") return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
  });
}

/** Whether the scheduler may put `pod` on `node` as far as labels and taints go. */
export function mayRunOn(pod: V1Pod, node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  if (Object.entries(pod.spec?.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) return false;
  return (node.spec?.taints ?? []).every((t) => (t.effect !== "NoSchedule" && t.effect !== "NoExecute") || tolerates(pod.spec?.tolerations, t));
}

export interface Candidate {
  node: V1Node;
  free: Resources;
}

/** The free capacity of `node`, given every pod of the cluster. */
export function candidate(node: V1Node, pods: readonly V1Pod[]): Candidate {
  const name = node.metadata?.name;
  const used = pods.filter((p) => p.spec?.nodeName === name && holdsResources(p)).map(podRequests).reduce(add, ZERO);
  return { node, free: sub(allocatable(node), used) };
}

export interface RoomCheck {
  fits: boolean;
  /** The moving pods' requests together. */
  needed: Resources;
  /** What the staying schedulable nodes have free together. */
  free: Resources;
  /** How many nodes could take pods. */
  nodes: number;
  /** Pods for which no staying node has room, and why. */
  unplaced: { pod: string; why: string }[];
}

/** Places `moving` on `candidates`, largest request first, each on the first node it fits on. */
export function checkRoom(candidates: readonly Candidate[], moving: readonly V1Pod[]): RoomCheck {
  const room = candidates.map((c) => ({ node: c.node, free: { ...c.free } }));
  const needed = moving.map(podRequests).reduce(add, ZERO);
  const free = room.map((r) => r.free).reduce(add, ZERO);
  const unplaced: RoomCheck["unplaced"] = [];
  const order = [...moving].sort((a, b) => podRequests(b).cpu - podRequests(a).cpu || podRequests(b).memory - podRequests(a).memory);
  for (const pod of order) {
    const need = podRequests(pod);
    // The cheap test first: most nodes are ruled in or out by their free resources alone.
    const spot = room.find((r) => fits(need, r.free) && mayRunOn(pod, r.node));
    if (spot) {
      spot.free = sub(spot.free, need);
      continue;
    }
    const eligible = room.filter((r) => mayRunOn(pod, r.node));
    const roomiest = [...eligible].sort((a, b) => b.free.cpu - a.free.cpu || b.free.memory - a.free.memory)[0];
    unplaced.push({
      pod: podName(pod),
      why: roomiest
        ? `needs ${describeResources(need).replace(/, 1 pods$/, "")}; the roomiest node it may run on, ${roomiest.node.metadata?.name}, has ${describeResources(roomiest.free)} free`
        : "no staying schedulable node matches its nodeSelector and tolerations",
    });
  }
  return { fits: unplaced.length === 0, needed, free, nodes: room.length, unplaced };
}
