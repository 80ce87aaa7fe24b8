/**
 * The disruption preview: what draining each node of a plan would do to the workloads on it, computed from one
 * read of the cluster (a `ClusterSnapshot`) with the drain's own filters (drain-filters.ts), so the preview and the
 * drain cannot disagree on which pods go, stay or stop the drain. Pure: no client, no clock.
 *
 * Nodes of one batch drain together: their PDB needs add up and none of them takes the others' pods. Nodes of
 * later batches are assumed back by then (the hooks' preflight makes sure of it), so each batch is judged against
 * the cluster as it is now.
 */
import type { V1Deployment, V1Node, V1Pod, V1PodDisruptionBudget, V1ReplicaSet, V1StatefulSet } from "@kubernetes/client-node";
import { budgetLimits, chargeOf, coversPod, ignoresBudgets, isPodReady, type BudgetLimits } from "./budgets";
import { controllerOf, MIRROR_ANNOTATION, podName, selectPods, type DrainPolicy } from "./drain-filters";
import { candidate, checkRoom, holdsResources, isSchedulable, type Candidate, type RoomCheck } from "./room";

export interface ClusterSnapshot {
  nodes: V1Node[];
  pods: V1Pod[];
  pdbs: V1PodDisruptionBudget[];
  replicasets: V1ReplicaSet[];
  deployments: V1Deployment[];
  statefulsets: V1StatefulSet[];
}

export interface DrainTarget {
  pool: string;
  /** The plan's name of the node (`workers-0`, `dev-cp-1`). */
  node: string;
  /** The Node the drain would take, when found. */
  kubeNode?: V1Node;
  /** How it was looked for, for a node not found: `Node dev-cp-1`, `a Node labelled kubeherd.io/node=workers-0`. */
  lookup: string;
  /** A missing pets node has nothing to drain (the hook says so and goes on); a missing node kubeherd created was
   *  not found by its labels, so what its drain does is unknown. */
  whenMissing: "nothing-to-drain" | "unknown";
  policy: DrainPolicy;
  batch?: number;
  /** Surge: the node's replacement is up before it goes, and offers what it offers. */
  replacedFirst?: boolean;
  /** Why the hook will not drain this node at all (a pets node adopted as it is). */
  undrained?: string;
}

export const VERDICTS = ["ok", "waits", "refused", "no-room", "unknown"] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface BudgetNeed {
  name: string;
  rule: string;
  allowedNow: number;
  mostEver: number;
  /** Disruptions this node's pods take. */
  needs: number;
  /** Disruptions its whole batch takes (equal to `needs` outside batches). */
  batchNeeds: number;
  /** Not-Ready pods it holds back until it is healthy again. */
  heldUnready: string[];
  /** It can never allow what this node needs: the drain would wait until its deadline. */
  never: boolean;
  healthy: { current: number; desired: number };
}

export interface UnavailableWorkload {
  workload: string;
  replicas: number;
  why: string;
}

export interface NodeLive {
  pool: string;
  node: string;
  /** The Kubernetes node name. */
  kubeNode?: string;
  batch?: number;
  verdict: Verdict;
  /** The drain would never finish: the verdict makes `plan --live` exit 3. */
  blocking: boolean;
  /** The verdict's reasons, one sentence each, naming the pods and PDBs. */
  why: string[];
  evict: { owner: string; pods: string[] }[];
  leave: { pod: string; owner: string; reason: string }[];
  refuse: { pod: string; owner: string; reason: string }[];
  /** Already terminating: the drain waits for them. */
  terminating: string[];
  budgets: BudgetNeed[];
  unavailable: UnavailableWorkload[];
  room?: RoomCheck;
}

const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? "";
const nsOf = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? "default";

interface Owner {
  key: string;
  label: string;
  replicas?: number;
}

/** The snapshot with what the preview looks up again and again, computed once: it stays linear in the pods. */
interface Index {
  snapshot: ClusterSnapshot;
  owner: Map<V1Pod, Owner | undefined>;
  /** Pods by owner key. */
  siblings: Map<string, V1Pod[]>;
  /** Pods by node name. */
  podsOn: Map<string, V1Pod[]>;
  /** The PDBs that select each pod. */
  budgetsOf: Map<V1Pod, V1PodDisruptionBudget[]>;
  /** Each schedulable node with what it has free now (checkRoom copies it before placing pods). */
  candidates: Candidate[];
}

function indexOf(snapshot: ClusterSnapshot): Index {
  const ix: Index = { snapshot, owner: new Map(), siblings: new Map(), podsOn: new Map(), budgetsOf: new Map(), candidates: [] };
  for (const pod of snapshot.pods) {
    const owner = resolveOwner(pod, snapshot);
    ix.owner.set(pod, owner);
    if (owner) push(ix.siblings, owner.key, pod);
    const node = pod.spec?.nodeName;
    if (node) push(ix.podsOn, node, pod);
    ix.budgetsOf.set(pod, snapshot.pdbs.filter((pdb) => coversPod(pdb, pod)));
  }
  ix.candidates = snapshot.nodes.filter(isSchedulable).map((n) => candidate(n, ix.podsOn.get(nameOf(n)) ?? []));
  return ix;
}

const ownerOf = (pod: V1Pod, ix: Index) => ix.owner.get(pod);
const budgetsOf = (pod: V1Pod, ix: Index) => ix.budgetsOf.get(pod) ?? [];

function push<T>(map: Map<string, T[]>, key: string, value: T) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The workload behind a pod: a ReplicaSet's pods belong to its Deployment. */
function resolveOwner(pod: V1Pod, snapshot: ClusterSnapshot): Owner | undefined {
  const ref = controllerOf(pod);
  if (!ref) return undefined;
  const ns = nsOf(pod);
  const find = <T extends { metadata?: { name?: string; namespace?: string } }>(list: T[], name: string) => list.find((o) => nameOf(o) === name && nsOf(o) === ns);
  if (ref.kind === "ReplicaSet") {
    const rs = find(snapshot.replicasets, ref.name);
    const dep = (rs?.metadata?.ownerReferences ?? []).find((o) => o.controller === true && o.kind === "Deployment");
    if (dep) return { key: `Deployment/${ns}/${dep.name}`, label: `Deployment ${ns}/${dep.name}`, replicas: find(snapshot.deployments, dep.name)?.spec?.replicas ?? rs?.spec?.replicas };
    return { key: `ReplicaSet/${ns}/${ref.name}`, label: `ReplicaSet ${ns}/${ref.name}`, replicas: rs?.spec?.replicas };
  }
  if (ref.kind === "StatefulSet") return { key: `StatefulSet/${ns}/${ref.name}`, label: `StatefulSet ${ns}/${ref.name}`, replicas: find(snapshot.statefulsets, ref.name)?.spec?.replicas };
  return { key: `${ref.kind}/${ns}/${ref.name}`, label: `${ref.kind} ${ns}/${ref.name}` };
}

interface Drained {
  target: DrainTarget;
  node: V1Node;
  pods: V1Pod[];
  selection: ReturnType<typeof selectPods>;
}

/** Previews the drains of `targets`, in their order; consecutive targets with the same `batch` drain together. */
export function previewDrains(snapshot: ClusterSnapshot, targets: readonly DrainTarget[]): NodeLive[] {
  const ix = indexOf(snapshot);
  const limits = new Map(snapshot.pdbs.map((pdb) => [pdb, budgetLimits(pdb, snapshot.pods)] as const));
  const out: NodeLive[] = [];
  for (const group of batches(targets)) {
    const drained: Drained[] = [];
    for (const target of group) {
      if (!target.kubeNode || target.undrained) continue;
      const name = nameOf(target.kubeNode);
      const pods = ix.podsOn.get(name) ?? [];
      drained.push({ target, node: target.kubeNode, pods, selection: selectPods(pods, target.policy) });
    }
    const room = drained.length ? groupRoom(ix, drained) : undefined;
    const batchNeeds = new Map<V1PodDisruptionBudget, number>();
    for (const d of drained) for (const [pdb, n] of disruptionsTaken(d.selection.evict, ix, limits)) batchNeeds.set(pdb, (batchNeeds.get(pdb) ?? 0) + n);
    for (const target of group) {
      const d = drained.find((x) => x.target === target);
      out.push(d ? previewNode(ix, d, drained, limits, batchNeeds, room!) : missing(target));
    }
  }
  return out;
}

function batches(targets: readonly DrainTarget[]): DrainTarget[][] {
  const groups: DrainTarget[][] = [];
  for (const t of targets) {
    const last = groups.at(-1);
    if (last && t.batch !== undefined && last[0].batch === t.batch) last.push(t);
    else groups.push([t]);
  }
  return groups;
}

function missing(target: DrainTarget): NodeLive {
  const unknown = !target.undrained && target.whenMissing === "unknown";
  return {
    pool: target.pool,
    node: target.node,
    ...(target.batch !== undefined ? { batch: target.batch } : {}),
    verdict: unknown ? "unknown" : "ok",
    blocking: false,
    ...(target.kubeNode ? { kubeNode: nameOf(target.kubeNode) } : {}),
    why: [
      target.undrained
        ? target.undrained
        : unknown
        ? `not found: no ${target.lookup} (kubeherd labels the nodes it brings back; during pulumi up the hooks find it by its instance)`
        : `no ${target.lookup} in the cluster: the drain has nothing to do`,
    ],
    evict: [],
    leave: [],
    refuse: [],
    terminating: [],
    budgets: [],
    unavailable: [],
  };
}

/** Disruptions each budget takes from evicting `pods`: one per Ready pod it covers. */
function disruptionsTaken(pods: readonly V1Pod[], ix: Index, limits: ReadonlyMap<V1PodDisruptionBudget, BudgetLimits>): Map<V1PodDisruptionBudget, number> {
  const taken = new Map<V1PodDisruptionBudget, number>();
  for (const pod of pods) {
    const covering = budgetsOf(pod, ix);
    if (covering.length !== 1) continue;
    const pdb = covering[0];
    if (chargeOf(pod, pdb, limits.get(pdb)!) === "disruption") taken.set(pdb, (taken.get(pdb) ?? 0) + 1);
  }
  return taken;
}

function groupRoom(ix: Index, drained: readonly Drained[]): RoomCheck {
  const leaving = new Set(drained.map((d) => nameOf(d.node)));
  const candidates: Candidate[] = ix.candidates.filter((c) => !leaving.has(nameOf(c.node)));
  for (const d of drained) {
    if (!d.target.replacedFirst) continue;
    // A surge replacement: the same instance type from the same template, empty, and not cordoned.
    const labels = { ...(d.node.metadata?.labels ?? {}) };
    delete labels["kubernetes.io/hostname"];
    const replacement: V1Node = { metadata: { name: `${nameOf(d.node)} (replacement)`, labels }, spec: { taints: d.node.spec?.taints }, status: d.node.status };
    candidates.push(candidate(replacement, []));
  }
  // Pods a controller recreates need room; unmanaged pods are deleted for good, finished ones are not restarted.
  const moving = drained.flatMap((d) => d.selection.evict.filter((p) => controllerOf(p) !== undefined && holdsResources(p)));
  return checkRoom(candidates, moving);
}

function previewNode(
  ix: Index,
  d: Drained,
  group: readonly Drained[],
  limits: ReadonlyMap<V1PodDisruptionBudget, BudgetLimits>,
  batchNeeds: ReadonlyMap<V1PodDisruptionBudget, number>,
  room: RoomCheck,
): NodeLive {
  const { target, selection } = d;
  const { snapshot } = ix;
  const why: string[] = [];

  const label = (pod: V1Pod) => ownerOf(pod, ix)?.label ?? (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined ? "static pod (kubelet)" : "no controller");
  const refuse = selection.refused.map(({ pod, reason }) => ({ pod: podName(pod), owner: label(pod), reason }));
  for (const pod of selection.evict) {
    if (ignoresBudgets(pod)) continue;
    const covering = budgetsOf(pod, ix);
    if (covering.length > 1) {
      refuse.push({ pod: podName(pod), owner: label(pod), reason: `is covered by ${covering.length} PDBs (${covering.map((b) => limits.get(b)!.name).join(", ")}): the eviction API answers 500 and the drain stops` });
    }
  }

  const evict = new Map<string, { owner: string; pods: string[] }>();
  for (const pod of selection.evict) {
    const owner = ownerOf(pod, ix);
    const key = owner?.key ?? "unmanaged";
    if (!evict.has(key)) evict.set(key, { owner: owner?.label ?? "no controller (deleted for good)", pods: [] });
    evict.get(key)!.pods.push(podName(pod));
  }

  const taken = disruptionsTaken(selection.evict, ix, limits);
  const budgets: BudgetNeed[] = [];
  for (const pdb of snapshot.pdbs) {
    const covered = selection.evict.filter((p) => budgetsOf(p, ix).includes(pdb));
    if (covered.length === 0) continue;
    const l = limits.get(pdb)!;
    const needs = taken.get(pdb) ?? 0;
    const heldUnready = covered.filter((p) => chargeOf(p, pdb, l) === "needs-healthy-budget").map(podName);
    budgets.push({ name: l.name, rule: l.rule, allowedNow: l.allowedNow, mostEver: l.mostEver, needs, batchNeeds: batchNeeds.get(pdb) ?? needs, heldUnready, never: needs > 0 && l.mostEver < 1, healthy: l.healthy });
  }

  const unavailable = unavailableWorkloads(ix, group, selection.evict, limits);

  const never = budgets.filter((b) => b.never);
  const slow = budgets.filter((b) => !b.never && (b.batchNeeds > b.allowedNow || b.heldUnready.length > 0));
  if (refuse.length > 0) why.push(`refused: ${refuse.map((r) => `${r.pod} ${r.reason}`).join("; ")}`);
  for (const b of never) why.push(`waits until the drain times out on PDB ${b.name}: ${b.rule}, so it can never allow a disruption, and this node needs ${b.needs}`);
  if (!room.fits) why.push(`no room: ${room.unplaced.map((u) => `${u.pod} ${u.why}`).join("; ")}`);
  for (const b of slow) {
    const batch = b.batchNeeds !== b.needs ? ` (its batch needs ${b.batchNeeds})` : "";
    const held = b.heldUnready.length ? `; not-Ready ${b.heldUnready.join(", ")} wait until it is healthy (${b.healthy.current} healthy, it wants ${b.healthy.desired})` : "";
    why.push(`waits on PDB ${b.name}: it allows ${b.allowedNow} now and this node needs ${b.needs}${batch}; the rest go as their replacements become Ready${held}`);
  }
  // In the order the drain meets them: a refusal before any eviction, then a budget that never gives way; missing
  // room leaves replacements Pending for good, where a slow budget only takes time.
  const verdict: Verdict = refuse.length > 0 ? "refused" : never.length > 0 ? "waits" : !room.fits ? "no-room" : slow.length > 0 ? "waits" : "ok";
  const blocking = refuse.length > 0 || never.length > 0 || !room.fits;

  return {
    pool: target.pool,
    node: target.node,
    kubeNode: nameOf(d.node),
    ...(target.batch !== undefined ? { batch: target.batch } : {}),
    verdict,
    blocking,
    why,
    evict: [...evict.values()],
    leave: selection.skipped.map(({ pod, reason }) => ({ pod: podName(pod), owner: label(pod), reason })),
    refuse,
    terminating: selection.wait.map(podName),
    budgets,
    unavailable,
    room,
  };
}

/**
 * Workloads with no Ready pod left while theirs move: a single replica on this node, or every replica on the
 * nodes of this batch, with no PDB that makes the drain wait for a replacement first.
 */
function unavailableWorkloads(ix: Index, group: readonly Drained[], evicting: readonly V1Pod[], limits: ReadonlyMap<V1PodDisruptionBudget, BudgetLimits>): UnavailableWorkload[] {
  const leavingNodes = new Set(group.map((g) => nameOf(g.node)));
  const seen = new Map<string, UnavailableWorkload>();
  const checked = new Set<string>();
  for (const pod of evicting) {
    const owner = ownerOf(pod, ix);
    if (!owner || checked.has(owner.key) || !holdsResources(pod)) continue;
    checked.add(owner.key);
    const siblings = ix.siblings.get(owner.key) ?? [];
    if (siblings.some((p) => isPodReady(p) && !leavingNodes.has(p.spec?.nodeName ?? ""))) continue;
    // A budget below the workload's size makes the drain wait for each replacement before the next eviction; one
    // that never allows a disruption keeps the pod where it is (the drain waits instead).
    const guarded = budgetsOf(pod, ix).some((pdb) => limits.get(pdb)!.mostEver < siblings.length);
    if (guarded) continue;
    const replicas = owner.replicas ?? siblings.length;
    seen.set(owner.key, {
      workload: owner.label,
      replicas,
      why: replicas <= 1 ? "a single replica: unavailable until its replacement is Ready" : `all ${siblings.length} pods are on ${leavingNodes.size > 1 ? "this batch's nodes" : "this node"}: unavailable until a replacement is Ready`,
    });
  }
  return [...seen.values()];
}
