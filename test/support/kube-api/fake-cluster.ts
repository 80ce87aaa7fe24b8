/**
 * The state behind the in-process Kubernetes API (fake-api-server.ts): objects with resourceVersions and an event
 * log for watches, graceful pod termination over scripted time, the controllers a drain depends on (ReplicaSets
 * and StatefulSets replace lost pods on schedulable nodes, DaemonSets run a pod per node) and the disruption
 * controller's arithmetic, so the Eviction subresource answers 429 exactly when a PDB has no disruption left.
 */
import type {
  V1DaemonSet,
  V1Deployment,
  V1LabelSelector,
  V1Node,
  V1OwnerReference,
  V1Pod,
  V1PodDisruptionBudget,
  V1ReplicaSet,
  V1StatefulSet,
  V1Taint,
} from "@kubernetes/client-node";
import type { Kind, ObjectOf, WatchEventType } from "../../../components/kube/client";
import { selects } from "../../../components/disruption/selectors";
import { budgetStatus, isReady, nodeInfo, nodeReady } from "./fake-status";

export type AnyObject = ObjectOf[Kind];

export interface ClusterEvent {
  rv: number;
  kind: Kind;
  type: WatchEventType;
  object: AnyObject;
}

export interface Timing {
  /** How long a deleted pod takes to terminate (its grace period, scripted). */
  terminationMs: number;
  /** How long after a pod starts terminating its controller has a replacement scheduled. */
  rescheduleMs: number;
  /** How long a new pod takes to become Ready. */
  startMs: number;
}

export interface ApiStatus {
  code: number;
  body: object;
}

export function status(code: number, reason: string, message: string, extra: object = {}): ApiStatus {
  return { code, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: code < 400 ? "Success" : "Failure", message, reason, code, ...extra } };
}

const WORKLOAD_KINDS = ["replicasets", "deployments", "statefulsets", "daemonsets"] as const;
const clone = <T>(o: T): T => structuredClone(o);
const ownerRef = (kind: string, name: string, uid: string): V1OwnerReference => ({ apiVersion: "apps/v1", kind, name, uid, controller: true });

export class FakeCluster {
  readonly timing: Timing;
  private rv = 1;
  private uid = 0;
  private readonly objects = new Map<Kind, Map<string, AnyObject>>();
  private readonly events: ClusterEvent[] = [];
  private readonly listeners = new Set<(e: ClusterEvent) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly podTermination = new Map<string, number>();
  /** Evictions answered so far, by `ns/name`, for assertions. */
  readonly evictions: { pod: string; code: number }[] = [];

  constructor(timing: Partial<Timing> = {}) {
    this.timing = { terminationMs: 100, rescheduleMs: 20, startMs: 50, ...timing };
  }

  // ---- storage, resourceVersions, watch events -------------------------------------------------------------

  get resourceVersion(): number {
    return this.rv;
  }

  static key(namespace: string | undefined, name: string): string {
    return namespace ? `${namespace}/${name}` : name;
  }

  private bucket<K extends Kind>(kind: K): Map<string, ObjectOf[K]> {
    let b = this.objects.get(kind);
    if (!b) this.objects.set(kind, (b = new Map()));
    return b as Map<string, ObjectOf[K]>;
  }

  list<K extends Kind>(kind: K, namespace?: string): ObjectOf[K][] {
    return [...this.bucket(kind).values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace).map(clone);
  }

  get<K extends Kind>(kind: K, name: string, namespace?: string): ObjectOf[K] | undefined {
    const o = this.bucket(kind).get(FakeCluster.key(namespace, name));
    return o && clone(o);
  }

  /** Stores `object` (created or replaced), emits its watch event and lets the controllers react. */
  put<K extends Kind>(kind: K, object: ObjectOf[K]): ObjectOf[K] {
    this.write(kind, object);
    this.reconcile();
    return clone(object);
  }

  remove(kind: Kind, name: string, namespace?: string): boolean {
    const key = FakeCluster.key(namespace, name);
    const o = this.bucket(kind).get(key);
    if (!o) return false;
    this.bucket(kind).delete(key);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rv) };
    this.emit({ rv: this.rv, kind, type: "DELETED", object: clone(o) });
    // Pod garbage collection: the pods bound to a deleted Node go with it.
    if (kind === "nodes") for (const pod of this.podsOn(name)) this.remove("pods", pod.metadata!.name!, pod.metadata!.namespace);
    this.reconcile();
    return true;
  }

  private write(kind: Kind, object: AnyObject) {
    const meta = (object.metadata ??= {});
    const key = FakeCluster.key(meta.namespace, meta.name ?? "");
    const existed = this.bucket(kind).has(key);
    meta.uid ??= `uid-${++this.uid}`;
    meta.creationTimestamp ??= new Date();
    meta.resourceVersion = String(++this.rv);
    this.bucket(kind).set(key, clone(object));
    this.emit({ rv: this.rv, kind, type: existed ? "MODIFIED" : "ADDED", object: clone(object) });
  }

  private emit(e: ClusterEvent) {
    this.events.push(e);
    for (const l of this.listeners) l(e);
  }

  eventsSince(rv: number): ClusterEvent[] {
    return this.events.filter((e) => e.rv > rv);
  }

  subscribe(listener: (e: ClusterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `fn` after `ms` of real time; `close()` cancels what is left. */
  later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  close() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }

  // ---- scenario building ------------------------------------------------------------------------------------

  addNode(
    name: string,
    opts: {
      ready?: boolean;
      kubeletVersion?: string;
      runtime?: string;
      osImage?: string;
      providerID?: string;
      internalIP?: string;
      unschedulable?: boolean;
      annotations?: Record<string, string>;
      labels?: Record<string, string>;
      taints?: V1Taint[];
      /** Allocatable cpu, memory and pods. @default 4 cores, 16Gi, 110 pods */
      allocatable?: { cpu?: string; memory?: string; pods?: string };
    } = {},
  ): V1Node {
    const node: V1Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name, ...opts.labels }, annotations: opts.annotations },
      spec: { providerID: opts.providerID, unschedulable: opts.unschedulable, taints: opts.taints },
      status: {
        allocatable: { cpu: "4", memory: "16Gi", pods: "110", ...opts.allocatable },
        conditions: [nodeReady(opts.ready ?? true)],
        addresses: opts.internalIP ? [{ type: "InternalIP", address: opts.internalIP }, { type: "Hostname", address: name }] : [{ type: "Hostname", address: name }],
        nodeInfo: { ...nodeInfo(opts.kubeletVersion ?? "v1.30.2", opts.runtime ?? "containerd://1.7.19"), ...(opts.osImage ? { osImage: opts.osImage } : {}) },
      },
    };
    return this.put("nodes", node);
  }

  /** Changes a node's status as its kubelet would: readiness, kubelet version, runtime (`containerd://1.7.25`). */
  setNodeStatus(name: string, change: { ready?: boolean; kubeletVersion?: string; reason?: string; runtime?: string }) {
    const node = this.get("nodes", name);
    if (!node) throw new Error(`no node ${name}`);
    if (change.ready !== undefined) node.status!.conditions = [nodeReady(change.ready, change.reason)];
    if (change.kubeletVersion) node.status!.nodeInfo!.kubeletVersion = change.kubeletVersion;
    if (change.runtime) node.status!.nodeInfo!.containerRuntimeVersion = change.runtime;
    this.put("nodes", node);
  }

  addPod(pod: {
    name: string;
    namespace?: string;
    node: string;
    labels?: Record<string, string>;
    owner?: V1OwnerReference;
    annotations?: Record<string, string>;
    phase?: string;
    /** Running but failing its readiness probe. */
    unready?: boolean;
    emptyDir?: boolean;
    terminationMs?: number;
    requests?: { cpu?: string; memory?: string };
  }): V1Pod {
    const namespace = pod.namespace ?? "default";
    if (pod.terminationMs !== undefined) this.podTermination.set(FakeCluster.key(namespace, pod.name), pod.terminationMs);
    const phase = pod.phase ?? "Running";
    return this.put("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: pod.name, namespace, labels: pod.labels, annotations: pod.annotations, ownerReferences: pod.owner ? [pod.owner] : undefined },
      spec: {
        nodeName: pod.node,
        containers: [{ name: "main", image: "registry.example.com/app:1", ...(pod.requests ? { resources: { requests: pod.requests } } : {}) }],
        volumes: pod.emptyDir ? [{ name: "scratch", emptyDir: {} }] : undefined,
      },
      status: { phase, conditions: [{ type: "Ready", status: phase === "Running" && !pod.unready ? "True" : "False" }] },
    });
  }

  /** A Deployment with its ReplicaSet and one Ready pod on each of `nodes` (a node may repeat). */
  addDeployment(namespace: string, name: string, nodes: string[], opts: { terminationMs?: number } = {}): { labels: Record<string, string> } {
    const labels = { app: name };
    const selector: V1LabelSelector = { matchLabels: labels };
    const dep = this.put("deployments", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace, labels }, spec: { replicas: nodes.length, selector, template: { metadata: { labels } } } } as V1Deployment);
    const rsName = `${name}-5d9c8b7f6`;
    const rs = this.put("replicasets", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: rsName, namespace, labels, ownerReferences: [ownerRef("Deployment", name, dep.metadata!.uid!)] },
      spec: { replicas: nodes.length, selector, template: { metadata: { labels } } },
    } as V1ReplicaSet);
    nodes.forEach((node, i) =>
      this.addPod({ name: `${rsName}-${i}`, namespace, node, labels, owner: ownerRef("ReplicaSet", rsName, rs.metadata!.uid!), terminationMs: opts.terminationMs }),
    );
    return { labels };
  }

  addStatefulSet(namespace: string, name: string, nodes: string[]): { labels: Record<string, string> } {
    const labels = { app: name };
    const sts = this.put("statefulsets", { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name, namespace, labels }, spec: { replicas: nodes.length, selector: { matchLabels: labels }, serviceName: name, template: { metadata: { labels } } } } as V1StatefulSet);
    nodes.forEach((node, i) => this.addPod({ name: `${name}-${i}`, namespace, node, labels, owner: ownerRef("StatefulSet", name, sts.metadata!.uid!) }));
    return { labels };
  }

  /** A DaemonSet with a Ready pod on every node there is (and on every node added later). */
  addDaemonSet(namespace: string, name: string): void {
    const labels = { app: name };
    this.put("daemonsets", { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name, namespace, labels }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels } } } } as V1DaemonSet);
  }

  addPdb(namespace: string, name: string, selector: V1LabelSelector, limit: { minAvailable: number | string } | { maxUnavailable: number | string }): void {
    this.put("poddisruptionbudgets", { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name, namespace }, spec: { selector, ...limit } } as V1PodDisruptionBudget);
  }

  /**
   * A POST to a collection: stored as sent, 409 when the name is taken. A pod bound to a Ready node starts as its
   * kubelet would (Pending, then Running and Ready); a Node keeps the status it was created with, as a kubelet's
   * registration does.
   */
  create(kind: Kind, object: AnyObject): ApiStatus {
    const meta = object.metadata ?? {};
    if (!meta.name) return status(422, "Invalid", `${kind}: metadata.name: Required value`);
    if (this.get(kind, meta.name, meta.namespace)) return status(409, "AlreadyExists", `${kind} "${meta.name}" already exists`, { details: { name: meta.name, kind } });
    if (kind === "pods") {
      const pod = object as V1Pod;
      pod.status = { phase: "Pending", conditions: [{ type: "Ready", status: "False" }] };
      const node = pod.spec?.nodeName ? this.get("nodes", pod.spec.nodeName) : undefined;
      if (node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) this.later(this.timing.startMs, () => this.markRunning(meta.namespace ?? "default", meta.name!));
    }
    return { code: 201, body: this.put(kind, object) };
  }

  podsOn(node: string): V1Pod[] {
    return this.list("pods").filter((p) => p.spec?.nodeName === node);
  }

  // ---- pod lifecycle and the Eviction subresource -----------------------------------------------------------

  /** Starts a graceful deletion: the pod is marked terminating now and disappears after its termination time. */
  deletePod(namespace: string, name: string): ApiStatus {
    const pod = this.get("pods", name, namespace);
    if (!pod) return status(404, "NotFound", `pods "${name}" not found`, { details: { name, kind: "pods" } });
    if (!pod.metadata!.deletionTimestamp) {
      const graceMs = this.podTermination.get(FakeCluster.key(namespace, name)) ?? this.timing.terminationMs;
      pod.metadata!.deletionTimestamp = new Date();
      pod.metadata!.deletionGracePeriodSeconds = Math.ceil(graceMs / 1000);
      this.put("pods", pod);
      const uid = pod.metadata!.uid;
      this.later(graceMs, () => {
        if (this.get("pods", name, namespace)?.metadata?.uid === uid) this.remove("pods", name, namespace);
      });
      this.later(this.timing.rescheduleMs, () => this.replace(pod));
    }
    return { code: 200, body: pod };
  }

  /** policy/v1 Eviction, with the API server's checks: one PDB at most, and it must allow a disruption. */
  evict(namespace: string, name: string): ApiStatus {
    const answer = this.evictionAnswer(namespace, name);
    this.evictions.push({ pod: `${namespace}/${name}`, code: answer.code });
    return answer;
  }

  private evictionAnswer(namespace: string, name: string): ApiStatus {
    const pod = this.get("pods", name, namespace);
    if (!pod) return status(404, "NotFound", `pods "${name}" not found`, { details: { name, kind: "pods" } });
    // The API server deletes these without asking any budget (canIgnorePDB in the eviction REST storage).
    const done = ["Succeeded", "Failed", "Pending"].includes(pod.status?.phase ?? "") || pod.metadata?.deletionTimestamp;
    const pdbs = this.list("poddisruptionbudgets", namespace).filter((b) => selects(b.spec?.selector, pod.metadata?.labels));
    if (!done && pdbs.length > 1) {
      return status(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    }
    const pdb = pdbs[0];
    if (!done && pdb && (pdb.status?.disruptionsAllowed ?? 0) <= 0) {
      return status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
        details: {
          causes: [
            {
              reason: "DisruptionBudget",
              message: `The disruption budget ${pdb.metadata!.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently`,
            },
          ],
        },
      });
    }
    this.deletePod(namespace, name);
    return status(201, "", "", { status: "Success" });
  }

  /** What the pod's controller does when one of its pods goes: a new pod on a schedulable node. */
  private replace(pod: V1Pod) {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
    if (!owner || (owner.kind !== "ReplicaSet" && owner.kind !== "StatefulSet")) return;
    const kind = owner.kind === "ReplicaSet" ? "replicasets" : "statefulsets";
    if (!this.get(kind, owner.name, pod.metadata!.namespace)) return;
    const node = this.schedulableNode();
    const name = owner.kind === "StatefulSet" ? pod.metadata!.name! : `${owner.name}-r${++this.uid}`;
    const create = () => {
      if (owner.kind === "StatefulSet" && this.get("pods", name, pod.metadata!.namespace)) return;
      this.addPod({ name, namespace: pod.metadata!.namespace, node: node ?? "", labels: pod.metadata!.labels, owner, phase: "Pending" });
      if (node) this.later(this.timing.startMs, () => this.markRunning(pod.metadata!.namespace!, name));
    };
    // A StatefulSet pod keeps its name: the controller creates it again only once the old one is gone.
    if (owner.kind === "StatefulSet") this.later(this.podTermination.get(FakeCluster.key(pod.metadata!.namespace, name)) ?? this.timing.terminationMs, create);
    else create();
  }

  /** Every pod bound to a node that has not started yet starts now (for tests that hold starts with a long `startMs`). */
  startPendingPods(): void {
    for (const pod of this.list("pods")) {
      const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      if (pod.spec?.nodeName && !ready) this.markRunning(pod.metadata!.namespace!, pod.metadata!.name!);
    }
  }

  private markRunning(namespace: string, name: string) {
    const pod = this.get("pods", name, namespace);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    pod.status = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
    this.put("pods", pod);
  }

  private schedulableNode(): string | undefined {
    const nodes = this.list("nodes").filter((n) => !n.spec?.unschedulable && n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    const load = (n: V1Node) => this.podsOn(n.metadata!.name!).length;
    return nodes.sort((a, b) => load(a) - load(b))[0]?.metadata?.name;
  }

  // ---- controllers: status of workloads and budgets, DaemonSet pods -----------------------------------------

  private reconciling = false;

  /** Brings every derived status up to date; only objects whose status changed get a MODIFIED event. */
  private reconcile() {
    if (this.reconciling) return;
    this.reconciling = true;
    try {
      this.runDaemonSets();
      const pods = this.list("pods");
      const readyOf = (owner: string, kind: string, ns: string | undefined) =>
        pods.filter((p) => p.metadata?.namespace === ns && isReady(p) && p.metadata?.ownerReferences?.some((o) => o.controller && o.kind === kind && o.name === owner)).length;
      for (const kind of WORKLOAD_KINDS) {
        for (const w of this.list(kind)) {
          const ns = w.metadata?.namespace;
          let next: object;
          if (kind === "daemonsets") {
            next = { desiredNumberScheduled: this.list("nodes").length, numberReady: readyOf(w.metadata!.name!, "DaemonSet", ns) };
          } else if (kind === "deployments") {
            const rs = this.list("replicasets", ns).filter((r) => r.metadata?.ownerReferences?.some((o) => o.kind === "Deployment" && o.name === w.metadata!.name));
            const ready = rs.reduce((n, r) => n + readyOf(r.metadata!.name!, "ReplicaSet", ns), 0);
            next = { replicas: (w as V1Deployment).spec?.replicas ?? 1, readyReplicas: ready, availableReplicas: ready };
          } else {
            const ready = readyOf(w.metadata!.name!, kind === "replicasets" ? "ReplicaSet" : "StatefulSet", ns);
            next = { replicas: (w as V1ReplicaSet).spec?.replicas ?? 1, readyReplicas: ready };
          }
          if (JSON.stringify(w.status) !== JSON.stringify(next)) this.write(kind, { ...w, status: next } as AnyObject);
        }
      }
      for (const pdb of this.list("poddisruptionbudgets")) {
        const next = budgetStatus(pdb, pods, (p) => this.expectedCount(p));
        if (JSON.stringify(pdb.status) !== JSON.stringify(next)) this.write("poddisruptionbudgets", { ...pdb, status: next });
      }
    } finally {
      this.reconciling = false;
    }
  }

  /** The disruption controller's expected pod count: the scale of the controllers of the selected pods. */
  private expectedCount(pods: V1Pod[]): number {
    const owners = new Map<string, number>();
    for (const p of pods) {
      const o = p.metadata?.ownerReferences?.find((r) => r.controller);
      if (!o) continue;
      const kind = o.kind === "ReplicaSet" ? "replicasets" : o.kind === "StatefulSet" ? "statefulsets" : undefined;
      const owner = kind && this.get(kind, o.name, p.metadata?.namespace);
      owners.set(`${o.kind}/${o.name}`, (owner as V1ReplicaSet | undefined)?.spec?.replicas ?? 1);
    }
    return owners.size ? [...owners.values()].reduce((a, b) => a + b, 0) : pods.length;
  }

  private runDaemonSets() {
    for (const ds of this.list("daemonsets")) {
      for (const node of this.list("nodes")) {
        const nodeName = node.metadata!.name!;
        const has = this.podsOn(nodeName).some((p) => p.metadata?.ownerReferences?.some((o) => o.kind === "DaemonSet" && o.name === ds.metadata!.name));
        if (has) continue;
        const name = `${ds.metadata!.name}-${nodeName}`;
        const ns = ds.metadata!.namespace!;
        this.write("pods", {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, namespace: ns, labels: ds.spec?.selector?.matchLabels, ownerReferences: [ownerRef("DaemonSet", ds.metadata!.name!, ds.metadata!.uid!)] },
          spec: { nodeName, containers: [{ name: "agent", image: "registry.example.com/agent:1" }] },
          status: { phase: "Pending", conditions: [{ type: "Ready", status: "False" }] },
        });
        const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
        if (ready) this.later(this.timing.startMs, () => this.markRunning(ns, name));
      }
    }
  }
}
