/**
 * What the real API showed during an `up`: a watch of Nodes, Pods and PodDisruptionBudgets from before the `up`
 * starts until after it ends, kept as a timeline. The scenarios judge the rollout from this record (never from
 * kubeherd's own logs): how many nodes were unschedulable at once, whether a PDB's healthy count ever fell below
 * what it promises, in which order nodes were cordoned and at which kubelet version they came back.
 */
import { writeFileSync } from "node:fs";
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { KubeClient, Kind, ObjectOf, Watcher } from "../../../components/kube/client";

export interface NodeSnapshot {
  name: string;
  unschedulable: boolean;
  ready: boolean;
  kubeletVersion: string;
  /** `nodeInfo.containerRuntimeVersion`, `containerd://1.7.25`. */
  runtimeVersion: string;
  annotations: Record<string, string>;
}

export interface PdbSnapshot {
  name: string;
  currentHealthy: number;
  desiredHealthy: number;
  disruptionsAllowed: number;
}

export type Entry =
  | { at: number; kind: "node"; type: string; node: NodeSnapshot }
  | { at: number; kind: "pod"; type: string; pod: { key: string; node: string; ready: boolean; deleting: boolean; labels: Record<string, string> } }
  | { at: number; kind: "pdb"; type: string; pdb: PdbSnapshot };

export function nodeSnapshot(n: V1Node): NodeSnapshot {
  return {
    name: n.metadata?.name ?? "",
    unschedulable: n.spec?.unschedulable === true,
    ready: n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? "",
    runtimeVersion: n.status?.nodeInfo?.containerRuntimeVersion ?? "",
    annotations: n.metadata?.annotations ?? {},
  };
}

function podSnapshot(p: V1Pod) {
  return {
    key: `${p.metadata?.namespace}/${p.metadata?.name}`,
    node: p.spec?.nodeName ?? "",
    ready: p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    deleting: p.metadata?.deletionTimestamp !== undefined,
    labels: p.metadata?.labels ?? {},
  };
}

function pdbSnapshot(p: V1PodDisruptionBudget): PdbSnapshot {
  return {
    name: `${p.metadata?.namespace}/${p.metadata?.name}`,
    currentHealthy: p.status?.currentHealthy ?? 0,
    desiredHealthy: p.status?.desiredHealthy ?? 0,
    disruptionsAllowed: p.status?.disruptionsAllowed ?? 0,
  };
}

export class ApiRecorder {
  readonly entries: Entry[] = [];
  private watchers: Watcher[] = [];
  private stopped = false;
  private readonly nodeState = new Map<string, NodeSnapshot>();
  private readonly waiting = new Set<() => void>();

  constructor(private readonly client: KubeClient) {}

  /** Lists each kind (its objects are the first entries) and watches it from there, re-listing if a watch ends. */
  async start(): Promise<void> {
    await Promise.all([
      this.follow("nodes", (type, o) => this.nodeEntry(type, nodeSnapshot(o))),
      this.follow("pods", (type, o) => this.entries.push({ at: Date.now(), kind: "pod", type, pod: podSnapshot(o) })),
      this.follow("poddisruptionbudgets", (type, o) => this.entries.push({ at: Date.now(), kind: "pdb", type, pdb: pdbSnapshot(o) })),
    ]);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers.splice(0)) w.stop();
  }

  private nodeEntry(type: string, node: NodeSnapshot): void {
    this.entries.push({ at: Date.now(), kind: "node", type, node });
    if (type === "DELETED") this.nodeState.delete(node.name);
    else this.nodeState.set(node.name, node);
    for (const check of [...this.waiting]) check();
  }

  /**
   * Resolves on the very node event after which `seen` holds of the nodes as the record has them (checked at once
   * and on each node event, not polled: a moment a few hundred milliseconds long is not missed); stops waiting
   * when `signal` aborts.
   */
  until(seen: (nodes: ReadonlyMap<string, NodeSnapshot>) => boolean, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (signal.aborted || seen(this.nodeState)) {
          this.waiting.delete(check);
          resolve();
        }
      };
      this.waiting.add(check);
      signal.addEventListener("abort", check, { once: true });
      check();
    });
  }

  private async follow<K extends Kind>(kind: K, record: (type: string, o: ObjectOf[K]) => void): Promise<void> {
    const list = await this.client.list(kind);
    for (const o of list.items) record("LISTED", o);
    const w = await this.client.watch(kind, { resourceVersion: list.resourceVersion }, (type, o) => record(type, o), () => this.refollow(kind, record));
    this.watchers.push(w);
  }

  /** Lists and watches again after a watch ended, retrying while the API server is away (a control plane restart). */
  private refollow<K extends Kind>(kind: K, record: (type: string, o: ObjectOf[K]) => void): void {
    if (this.stopped) return;
    this.follow(kind, record).catch(() => setTimeout(() => this.refollow(kind, record), 500));
  }

  /** Writes the record as JSON lines, for the post-mortem of a failed scenario. */
  save(path: string): void {
    writeFileSync(path, this.entries.map((e) => JSON.stringify(e)).join("\n") + "\n");
  }

  /** The node states after each node event, in order. */
  private nodeTimeline(): Map<string, NodeSnapshot>[] {
    const state = new Map<string, NodeSnapshot>();
    const out: Map<string, NodeSnapshot>[] = [];
    for (const e of this.entries) {
      if (e.kind !== "node") continue;
      if (e.type === "DELETED") state.delete(e.node.name);
      else state.set(e.node.name, e.node);
      out.push(new Map(state));
    }
    return out;
  }

  /** The most nodes that were unschedulable at the same moment, and which. */
  maxUnschedulable(): { count: number; nodes: string[] } {
    let best: string[] = [];
    for (const s of this.nodeTimeline()) {
      const now = [...s.values()].filter((n) => n.unschedulable).map((n) => n.name);
      if (now.length > best.length) best = now;
    }
    return { count: best.length, nodes: best.sort() };
  }

  /** The nodes in the order they were first cordoned during the record. */
  cordonOrder(): string[] {
    const order: string[] = [];
    const was = new Map<string, boolean>();
    for (const e of this.entries) {
      if (e.kind !== "node") continue;
      const before = was.get(e.node.name) ?? false;
      if (e.node.unschedulable && !before && e.type !== "LISTED") order.push(e.node.name);
      was.set(e.node.name, e.node.unschedulable);
    }
    return order;
  }

  /** Every PDB status the disruption controller reported with fewer healthy pods than the PDB promises. */
  pdbViolations(): PdbSnapshot[] {
    return this.entries.flatMap((e) => (e.kind === "pdb" && e.pdb.desiredHealthy > 0 && e.pdb.currentHealthy < e.pdb.desiredHealthy ? [e.pdb] : []));
  }

  /**
   * The fewest Ready pods (not being deleted) carrying all of `labels` at any moment of the record: what a PDB's
   * selector saw, counted from the pods themselves rather than from the controller's status.
   */
  minReady(labels: Record<string, string>): number {
    const ready = new Map<string, boolean>();
    let min = Number.POSITIVE_INFINITY;
    let seen = false;
    for (const e of this.entries) {
      if (e.kind !== "pod" || !Object.entries(labels).every(([k, v]) => e.pod.labels[k] === v)) continue;
      if (e.type === "DELETED") ready.delete(e.pod.key);
      else ready.set(e.pod.key, e.pod.ready && !e.pod.deleting);
      if (e.type === "LISTED") continue;
      seen = true;
      min = Math.min(min, [...ready.values()].filter(Boolean).length);
    }
    return seen ? min : [...ready.values()].filter(Boolean).length;
  }

  /** The last state of each node in the record. */
  lastNodes(): Map<string, NodeSnapshot> {
    return this.nodeTimeline().pop() ?? new Map();
  }
}
