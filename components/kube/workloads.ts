/**
 * The workload gate: before the rollout moves on, every workload that had a pod on the drained node is back at
 * its desired ready count, and every PodDisruptionBudget that covered those pods allows at least as many
 * disruptions as before the drain. The drain records what the gate checks (`DrainRecord`).
 */
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { KubeClient, ObjectOf } from "./client";
import { Deadline, elapsed, type Clock } from "./clock";
import { controllerOf } from "../disruption/drain-filters";
import { watchUntil } from "./observe";
import { selects } from "../disruption/selectors";

export type WorkloadKind = "deployments" | "statefulsets" | "daemonsets" | "replicasets";

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export interface BudgetRef {
  namespace: string;
  name: string;
  /** `status.disruptionsAllowed` just before the drain. */
  disruptionsAllowed: number;
}

/** What a drain leaves for the gate after the node is back. */
export interface DrainRecord {
  node: string;
  workloads: WorkloadRef[];
  budgets: BudgetRef[];
  /** How many pods the drain evicted (set once it finished). */
  evicted?: number;
}

const KIND_NAMES: Record<WorkloadKind, string> = {
  deployments: "Deployment",
  statefulsets: "StatefulSet",
  daemonsets: "DaemonSet",
  replicasets: "ReplicaSet",
};

export const describeWorkload = (w: WorkloadRef) => `${KIND_NAMES[w.kind]} ${w.namespace}/${w.name}`;

const refKey = (w: WorkloadRef) => `${w.kind}/${w.namespace}/${w.name}`;

/**
 * The workloads behind `pods`: a ReplicaSet's pods count for the Deployment that owns it (one read per
 * ReplicaSet), a StatefulSet's and a DaemonSet's for themselves. Pods without a controller have no workload.
 */
export async function workloadsOf(client: KubeClient, pods: readonly V1Pod[]): Promise<WorkloadRef[]> {
  const replicaSets = new Map<string, Promise<WorkloadRef>>();
  const refs = await Promise.all(
    pods.map(async (pod): Promise<WorkloadRef | undefined> => {
      const owner = controllerOf(pod);
      const namespace = pod.metadata?.namespace ?? "default";
      if (owner?.kind === "StatefulSet") return { kind: "statefulsets", namespace, name: owner.name };
      if (owner?.kind === "DaemonSet") return { kind: "daemonsets", namespace, name: owner.name };
      if (owner?.kind !== "ReplicaSet") return undefined;
      const key = `${namespace}/${owner.name}`;
      let ref = replicaSets.get(key);
      if (!ref) {
        ref = client.get("replicasets", owner.name, namespace).then((rs): WorkloadRef => {
          const deployment = (rs?.metadata?.ownerReferences ?? []).find((o) => o.controller === true && o.kind === "Deployment");
          return deployment
            ? { kind: "deployments", namespace, name: deployment.name }
            : { kind: "replicasets", namespace, name: owner.name };
        });
        replicaSets.set(key, ref);
      }
      return ref;
    }),
  );
  const unique = new Map<string, WorkloadRef>();
  for (const ref of refs) if (ref) unique.set(refKey(ref), ref);
  return [...unique.values()];
}

/** The budgets that select at least one of `pods` (same namespace, selector matches its labels). */
export function budgetsCovering(pdbs: readonly V1PodDisruptionBudget[], pods: readonly V1Pod[]): V1PodDisruptionBudget[] {
  return pdbs.filter((pdb) =>
    pods.some((pod) => pod.metadata?.namespace === pdb.metadata?.namespace && selects(pdb.spec?.selector, pod.metadata?.labels)),
  );
}

/** Desired and ready counts, as each controller reports them. */
export function readiness(kind: WorkloadKind, object: ObjectOf[WorkloadKind]): { desired: number; ready: number } {
  if (kind === "daemonsets") {
    const status = (object as ObjectOf["daemonsets"]).status;
    return { desired: status?.desiredNumberScheduled ?? 0, ready: status?.numberReady ?? 0 };
  }
  const scaled = object as ObjectOf["deployments" | "statefulsets" | "replicasets"];
  return { desired: scaled.spec?.replicas ?? 1, ready: scaled.status?.readyReplicas ?? 0 };
}

export interface GateOptions {
  timeoutSeconds: number;
  log: (message: string) => void;
}

type Verdict = { ok: true } | { ok: false; why: string };

function workloadVerdict(ref: WorkloadRef, object: ObjectOf[WorkloadKind] | undefined): Verdict {
  // A workload deleted since the drain has nothing left to wait for.
  if (!object) return { ok: true };
  const { desired, ready } = readiness(ref.kind, object);
  return ready >= desired ? { ok: true } : { ok: false, why: `${describeWorkload(ref)} has ${ready}/${desired} ready` };
}

function budgetVerdict(ref: BudgetRef, pdb: V1PodDisruptionBudget | undefined): Verdict {
  if (!pdb) return { ok: true };
  const now = pdb.status?.disruptionsAllowed ?? 0;
  return now >= ref.disruptionsAllowed
    ? { ok: true }
    : { ok: false, why: `PDB ${ref.namespace}/${ref.name} allows ${now} disruptions (${ref.disruptionsAllowed} before the drain)` };
}

/**
 * Waits until the gate of `record` holds, watching each (kind, namespace) the record names. Throws, naming
 * every workload and budget still short, when `timeoutSeconds` pass first.
 */
export async function waitForWorkloads(client: KubeClient, clock: Clock, record: DrainRecord, options: GateOptions): Promise<void> {
  const start = clock.now();
  const deadline = new Deadline(clock, options.timeoutSeconds);
  type Entry = { kind: WorkloadKind | "poddisruptionbudgets"; namespace: string; verdict: (objects: Iterable<ObjectOf[keyof ObjectOf]>) => Verdict };
  const entries: Entry[] = [
    ...record.workloads.map((ref): Entry => ({
      kind: ref.kind,
      namespace: ref.namespace,
      verdict: (objects) => workloadVerdict(ref, find(objects, ref.name) as ObjectOf[WorkloadKind] | undefined),
    })),
    ...record.budgets.map((ref): Entry => ({
      kind: "poddisruptionbudgets",
      namespace: ref.namespace,
      verdict: (objects) => budgetVerdict(ref, find(objects, ref.name) as V1PodDisruptionBudget | undefined),
    })),
  ];
  if (entries.length === 0) return;
  const groups = new Map<string, Entry[]>();
  for (const entry of entries) {
    const key = `${entry.kind}/${entry.namespace}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  const shortfalls = new Map<string, string[]>();
  options.log(`node ${record.node}: waiting for ${record.workloads.length} workloads and ${record.budgets.length} PDBs to recover`);
  const results = await Promise.all(
    [...groups.entries()].map(([key, group]) =>
      watchUntil(
        client,
        clock,
        { kind: group[0].kind, query: { namespace: group[0].namespace } },
        (objects) => {
          const short = group.map((e) => e.verdict(objects.values())).flatMap((v) => (v.ok ? [] : [v.why]));
          shortfalls.set(key, short);
          return short.length === 0 ? true : undefined;
        },
        deadline,
      ),
    ),
  );
  if (results.every((r) => r === true)) {
    options.log(`node ${record.node}: workloads recovered in ${elapsed(clock, start)}`);
    return;
  }
  const still = [...shortfalls.values()].flat();
  throw new Error(
    `node ${record.node}: workloads not recovered after ${options.timeoutSeconds}s: ${still.length ? still.join("; ") : "the API could not be read"}`,
  );
}

function find(objects: Iterable<ObjectOf[keyof ObjectOf]>, name: string) {
  for (const o of objects) if (o.metadata?.name === name) return o;
  return undefined;
}

