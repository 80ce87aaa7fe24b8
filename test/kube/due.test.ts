/**
 * The nodes due in a rollout carry a PreferNoSchedule taint from its first drain until each is back (issue 19
 * item 4, as kOps does): GIVEN nodes that carry the digest of what they converged to, WHEN the first drain hook
 * runs, THEN exactly the nodes whose digest differs from their target in this program are tainted, an unchanged
 * node never is, and the ready hook takes the taint off with the uncordon.
 */
import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { rolloutSchema } from "../../components/config/schema";
import { NODE_LABEL, POOL_LABEL } from "../../components/disruption/stack-nodes";
import { CONVERGED_TO, dueNodes, nodeTarget, ROLLOUT_PENDING, setRolloutTaint, type PlannedNode } from "../../components/kube/due";
import { drainBeforeChange, readyAfterChange, type HookArgs, type HookEnv, type NodeHookContext } from "../../components/kube/hook-actions";
import { petsNodes, cattleNodes } from "../../components/rollout/nodes";
import { clock, startApi, type Harness } from "../support/kube-api/harness";
import { currentConfig } from "../support/fixtures/config";

const COMMAND = "command:remote:Command";
const rollout = rolloutSchema.parse({ readyTimeoutSeconds: 10, workloadTimeoutSeconds: 10, drainTimeoutSeconds: 10 });
const OLD = nodeTarget(["kubelet=1.30.1-1.1"]);
const NEW = nodeTarget(["kubelet=1.30.2-1.1"]);

const pets = (pool: string, node: string, target: string, extra: Partial<NodeHookContext> = {}): NodeHookContext => ({
  pool, node, mode: "pets", kubeNodeName: node, kubeletVersion: "1.30.2", runtime: { name: "containerd", version: "1.7.19" }, rollout, target, ...extra,
});

function envFor(h: Harness, contexts: Record<string, NodeHookContext>): HookEnv {
  return { contexts: new Map(Object.entries(contexts)), records: new Map(), client: async () => h.client, clock, log: h.log };
}

const taintsOf = (h: Harness, name: string) => (h.api.cluster.get("nodes", name)?.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
const pending = `${ROLLOUT_PENDING}:PreferNoSchedule`;

describe("the due test (pure)", () => {
  const node = (name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): V1Node => ({ metadata: { name, annotations, labels } });
  const planned: PlannedNode[] = [
    { pool: "control-plane", node: "cp-1", mode: "pets", kubeNodeName: "cp-1", target: NEW },
    { pool: "workers", node: "workers-0", mode: "cattle", target: NEW },
    { pool: "workers", node: "workers-1", mode: "cattle", target: NEW },
  ];

  it("is due when the digest a node converged to differs from its target; current when equal", () => {
    const nodes = [
      node("cp-1", { [CONVERGED_TO]: OLD }),
      node("ip-10-0-1-7", { [CONVERGED_TO]: OLD }, { [POOL_LABEL]: "workers", [NODE_LABEL]: "workers-0" }),
      node("ip-10-0-1-8", { [CONVERGED_TO]: NEW }, { [POOL_LABEL]: "workers", [NODE_LABEL]: "workers-1" }),
    ];
    expect(dueNodes(nodes, planned)).toEqual({ due: ["cp-1", "ip-10-0-1-7"], current: ["ip-10-0-1-8"] });
  });

  it("leaves alone a node with no digest, a node of no planned pool, and a cattle node without labels", () => {
    const nodes = [
      node("cp-1"),
      node("ip-10-0-9-9", { [CONVERGED_TO]: OLD }, { [POOL_LABEL]: "gone", [NODE_LABEL]: "gone-0" }),
      node("ip-10-0-1-7", { [CONVERGED_TO]: OLD }),
    ];
    expect(dueNodes(nodes, planned)).toEqual({ due: [], current: [] });
  });

  it("finds a launched pets host by its DNS name's first label", () => {
    const dns: PlannedNode = { pool: "storage", node: "storage-0", mode: "pets", kubeNodeName: "ip-10-0-3-20.eu-west-1.compute.internal", target: NEW };
    expect(dueNodes([node("ip-10-0-3-20", { [CONVERGED_TO]: OLD })], [dns]).due).toEqual(["ip-10-0-3-20"]);
  });

  it("gives each node of a bumped pool a new target, and the nodes of a pool that keeps its pins the same one", () => {
    const before = currentConfig();
    const after = currentConfig({ pools: before.pools.map((p) => (p.name === "storage" ? { ...p, versions: { kubelet: "1.30.2-1.1", kubeadm: "1.30.2-1.1", kubectl: "1.30.2-1.1" } } : p)) });
    const bumped = { ...after, versions: { ...after.versions, kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } };
    const targets = (c: typeof before) => c.pools.flatMap((p) => (p.mode === "pets" ? petsNodes(c, p).map((n) => nodeTarget(n.triggers)) : cattleNodes(c, p, "eu-west-1").map((n) => nodeTarget(n.fingerprint))));
    const [was, now] = [targets(before), targets(bumped)];
    // cp-1, cp-2 and the three workers move; storage-1 keeps its own pins (and the cluster's runtime).
    expect(was.map((t, i) => t === now[i])).toEqual([false, false, false, false, false, true]);
  });
});

describe("the taint in a rollout (in-process API)", () => {
  const drain = (name: string): HookArgs => ({ name, type: COMMAND, newInputs: { triggers: [] } });

  it("taints exactly the nodes due at the first drain, never an unchanged one, and takes each taint off with its uncordon", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    const managed = (pool: string, node: string, target: string) => ({ kubeletVersion: "v1.30.1", annotations: { [CONVERGED_TO]: target }, labels: { [POOL_LABEL]: pool, [NODE_LABEL]: node } });
    c.addNode("w-1", managed("workers", "w-1", OLD));
    c.addNode("w-2", managed("workers", "w-2", OLD));
    c.addNode("s-1", { ...managed("storage", "s-1", NEW), kubeletVersion: "v1.30.2" });
    c.addNode("other", { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] });
    c.addDeployment("web", "web", ["w-1", "w-2"]);
    const env = envFor(h, {
      "workers-w-1": pets("workers", "w-1", NEW, { batch: 1 }),
      "workers-w-2": pets("workers", "w-2", NEW, { batch: 2 }),
      "storage-s-1": pets("storage", "s-1", NEW, { batch: 3 }),
    });

    await drainBeforeChange(drain("workers-w-1"), env);
    expect(taintsOf(h, "w-1")).toEqual([pending]);
    expect(taintsOf(h, "w-2")).toEqual([pending]);
    expect(taintsOf(h, "s-1")).toEqual([]);
    expect(taintsOf(h, "other")).toEqual(["dedicated:NoSchedule"]);
    expect(h.api.events.filter((e) => e.reason === "KubeherdRolloutPending").map((e) => e.involvedObject?.name).sort()).toEqual(["w-1", "w-2"]);

    setTimeout(() => c.setNodeStatus("w-1", { kubeletVersion: "v1.30.2" }), 50);
    await readyAfterChange({ ...drain("workers-w-1"), id: "w-1", newOutputs: {} }, env);
    expect(taintsOf(h, "w-1")).toEqual([]);
    expect(c.get("nodes", "w-1")?.spec?.unschedulable).toBeFalsy();
    expect(c.get("nodes", "w-1")?.metadata?.annotations?.[CONVERGED_TO]).toBe(NEW);
    expect(taintsOf(h, "w-2")).toEqual([pending]);

    // The next drain does not taint again (once per program run); w-2 keeps its taint until it is back.
    await drainBeforeChange(drain("workers-w-2"), env);
    expect(taintsOf(h, "w-1")).toEqual([]);
    setTimeout(() => c.setNodeStatus("w-2", { kubeletVersion: "v1.30.2" }), 50);
    await readyAfterChange({ ...drain("workers-w-2"), id: "w-2", newOutputs: {} }, env);
    expect(taintsOf(h, "w-2")).toEqual([]);
  });

  it("takes off a taint an interrupted rollout left on a node that is not due any more, and taints no node kubectl-only changes", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    c.addNode("w-1", { kubeletVersion: "v1.30.1", annotations: { [CONVERGED_TO]: OLD } });
    c.addNode("w-2", { kubeletVersion: "v1.30.2", annotations: { [CONVERGED_TO]: NEW }, taints: [{ key: ROLLOUT_PENDING, value: "true", effect: "PreferNoSchedule" }] });
    c.addNode("w-3", { kubeletVersion: "v1.30.2", annotations: { [CONVERGED_TO]: OLD } });
    const env = envFor(h, { "workers-w-1": pets("workers", "w-1", NEW), "workers-w-2": pets("workers", "w-2", NEW), "workers-w-3": pets("workers", "w-3", NEW, { clientOnly: true }) });
    await drainBeforeChange(drain("workers-w-1"), env);
    expect(taintsOf(h, "w-1")).toEqual([pending]);
    expect(taintsOf(h, "w-2")).toEqual([]);
    expect(taintsOf(h, "w-3")).toEqual([]);
    expect(h.lines).toContain(`node w-2: already on its target; took off a ${ROLLOUT_PENDING} taint left by an earlier rollout`);
  });

  it("keeps the other taints of a node when it puts its own on and takes it off", async () => {
    const h = await startApi();
    h.api.cluster.addNode("n", { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] });
    expect(await setRolloutTaint(h.client, "n", true)).toBe(true);
    expect(await setRolloutTaint(h.client, "n", true)).toBe(false);
    expect(taintsOf(h, "n")).toEqual(["dedicated:NoSchedule", pending]);
    expect(await setRolloutTaint(h.client, "n", false)).toBe(true);
    expect(taintsOf(h, "n")).toEqual(["dedicated:NoSchedule"]);
  });
});
