/**
 * Disruption scenarios as plain data: the nodes, workloads and PDBs of a cluster, the stack whose plan drains its
 * nodes, and what the live preview must say about each node, naming the exact pods and PDBs. `build.ts` makes a
 * scenario's objects through @kubernetes/client-node, so the same definitions run against the in-process API
 * (test/kube/live.test.ts) and against a real control plane (the end-to-end tier).
 */
import type { KubeherdConfig } from "../../../components/config/schema";
import type { Verdict } from "../../../components/disruption/drain-preview";
import { planRollout, type Plan } from "../../../components/rollout/plan";
import { config, currentInput, patched } from "../fixtures/config";

export interface ScenarioNode {
  name: string;
  /** Allocatable. @default cpu 4, memory 16Gi, pods 110 */
  cpu?: string;
  memory?: string;
  pods?: number;
  unschedulable?: boolean;
  labels?: Record<string, string>;
}

export interface ScenarioWorkload {
  kind: "Deployment" | "StatefulSet";
  namespace: string;
  name: string;
  /** The node of each pod, in order (a node may repeat). */
  on: string[];
  requests?: { cpu?: string; memory?: string };
  emptyDir?: boolean;
}

export interface ScenarioPdb {
  namespace: string;
  name: string;
  /** The workload (by name, same namespace) whose pods it selects. */
  selects: string;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
}

export interface Expectation {
  /** The plan's node name. */
  node: string;
  verdict: Verdict;
  blocking: boolean;
  /** Each must appear in the node's reasons (`why`): the pods and PDBs the verdict is about. */
  names?: string[];
  /** Workloads listed as unavailable while they move. */
  unavailable?: string[];
}

export interface Scenario {
  name: string;
  nodes: ScenarioNode[];
  workloads?: ScenarioWorkload[];
  /** Pods no controller manages: `namespace/name` on a node. */
  bare?: { namespace: string; name: string; on: string; emptyDir?: boolean }[];
  daemonSets?: { namespace: string; name: string }[];
  pdbs?: ScenarioPdb[];
  /** The drain policy of the pool (`kubeherd:pools[].rollout`). */
  rollout?: { deleteEmptyDirData?: boolean; deleteUnmanagedPods?: boolean };
  expect: Expectation[];
}

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKwk";

/**
 * The stack of a scenario as a stack file says it (`kubeherd:*` values): one pets worker pool whose listed hosts
 * are the scenario's nodes (found by name), with a kubelet patch bump from base to target, so the plan drains
 * every node in order. The control-plane pool of the fixture stays; its nodes are not in the scenario's cluster.
 */
export function scenarioStackInput(s: Scenario): { base: Record<string, unknown>; target: Record<string, unknown> } {
  const pool = {
    name: "workers",
    role: "worker",
    mode: "pets",
    nodes: s.nodes.map((n, i) => ({ name: n.name, host: `10.0.9.${i + 1}`, hostKey: `${HOST_KEY}${i}` })),
    ssh: {},
    rollout: s.rollout ?? {},
  };
  const cp = (currentInput.pools as Record<string, unknown>[])[0];
  const target = patched(currentInput, { pools: [cp, pool] });
  const base = patched(currentInput, { pools: [cp, pool], versions: { kubernetes: "1.30.1", kubeadm: "1.30.1-1.1", kubelet: "1.30.1-1.1", kubectl: "1.30.1-1.1" } });
  return { base, target };
}

/** The scenario's stack, validated, and its plan with the workers' drains only. */
export function scenarioStack(s: Scenario): { plan: Plan; config: KubeherdConfig; base: KubeherdConfig } {
  const input = scenarioStackInput(s);
  const target = config(input.target);
  const base = config(input.base);
  const plan = planRollout({ stack: s.name, base, target, region: "eu-west-1" });
  // The control-plane nodes are not part of a scenario: keep the workers' drains only.
  return { plan: { ...plan, steps: plan.steps.filter((st) => st.pool === "workers") }, config: target, base };
}

const three = ["w-1", "w-2", "w-3"].map((name) => ({ name }));

export const SCENARIOS: Scenario[] = [
  {
    name: "ok: a PDB that allows the one eviction this node needs; a DaemonSet pod is left",
    nodes: three,
    workloads: [{ kind: "Deployment", namespace: "shop", name: "web", on: ["w-1", "w-2", "w-3"] }],
    daemonSets: [{ namespace: "kube-system", name: "agent" }],
    pdbs: [{ namespace: "shop", name: "web-pdb", selects: "web", maxUnavailable: 1 }],
    expect: [
      { node: "w-1", verdict: "ok", blocking: false },
      { node: "w-2", verdict: "ok", blocking: false },
      { node: "w-3", verdict: "ok", blocking: false },
    ],
  },
  {
    name: "waits: the node holds two pods of a budget that allows one at a time, and the drain goes through",
    nodes: three,
    workloads: [{ kind: "Deployment", namespace: "shop", name: "web", on: ["w-1", "w-1", "w-2", "w-3"] }],
    pdbs: [{ namespace: "shop", name: "web-pdb", selects: "web", maxUnavailable: 1 }],
    expect: [
      { node: "w-1", verdict: "waits", blocking: false, names: ["shop/web-pdb"] },
      { node: "w-2", verdict: "ok", blocking: false },
    ],
  },
  {
    name: "waits forever: maxUnavailable 0 never allows an eviction",
    nodes: three,
    workloads: [{ kind: "StatefulSet", namespace: "data", name: "pg", on: ["w-1", "w-2", "w-3"] }],
    pdbs: [{ namespace: "data", name: "pg-pdb", selects: "pg", maxUnavailable: 0 }],
    expect: [
      { node: "w-1", verdict: "waits", blocking: true, names: ["data/pg-pdb", "maxUnavailable 0"] },
      { node: "w-2", verdict: "waits", blocking: true, names: ["data/pg-pdb"] },
    ],
  },
  {
    name: "waits forever: minAvailable equal to the replicas of a single-replica Deployment",
    nodes: three,
    workloads: [{ kind: "Deployment", namespace: "ops", name: "solo", on: ["w-2"] }],
    pdbs: [{ namespace: "ops", name: "solo-pdb", selects: "solo", minAvailable: 1 }],
    expect: [
      { node: "w-1", verdict: "ok", blocking: false },
      { node: "w-2", verdict: "waits", blocking: true, names: ["ops/solo-pdb", "minAvailable 1 of 1"] },
    ],
  },
  {
    name: "refused: a pod no controller manages, and emptyDir data with deleteEmptyDirData false",
    nodes: three,
    workloads: [{ kind: "Deployment", namespace: "shop", name: "cache", on: ["w-2", "w-3"], emptyDir: true }],
    bare: [{ namespace: "default", name: "debug", on: "w-1" }],
    rollout: { deleteEmptyDirData: false },
    expect: [
      { node: "w-1", verdict: "refused", blocking: true, names: ["default/debug", "no controller"] },
      { node: "w-2", verdict: "refused", blocking: true, names: ["shop/cache-", "emptyDir"] },
    ],
  },
  {
    name: "no-room: the nodes that stay cannot take what the node runs",
    nodes: [{ name: "w-1" }, { name: "w-2", cpu: "1" }, { name: "w-3", cpu: "1" }],
    workloads: [{ kind: "Deployment", namespace: "batch", name: "crunch", on: ["w-1"], requests: { cpu: "2", memory: "1Gi" } }],
    expect: [
      { node: "w-1", verdict: "no-room", blocking: true, names: ["batch/crunch-", "cpu 2"], unavailable: ["Deployment batch/crunch"] },
      { node: "w-2", verdict: "ok", blocking: false },
    ],
  },
  {
    name: "ok, but a single-replica Deployment without a PDB is down while its pod moves",
    nodes: three,
    workloads: [{ kind: "Deployment", namespace: "ops", name: "dashboard", on: ["w-1"] }],
    expect: [{ node: "w-1", verdict: "ok", blocking: false, unavailable: ["Deployment ops/dashboard"] }],
  },
  {
    name: "refused: a pod under two PDBs, which the eviction API refuses with a 500",
    nodes: three,
    workloads: [{ kind: "Deployment", namespace: "shop", name: "api", on: ["w-1", "w-2", "w-3"] }],
    pdbs: [
      { namespace: "shop", name: "api-pdb", selects: "api", maxUnavailable: 1 },
      { namespace: "shop", name: "api-pdb-too", selects: "api", minAvailable: 1 },
    ],
    expect: [{ node: "w-1", verdict: "refused", blocking: true, names: ["shop/api-pdb", "shop/api-pdb-too"] }],
  },
];
