import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { drainNode } from "../../components/kube/drain";
import { livePreview } from "../../components/kube/live";
import { MANAGED_BY } from "../../components/kube/nodes";
import { NODE_LABEL, POOL_LABEL } from "../../components/disruption/stack-nodes";
import { readOnly } from "../../components/kube/read-only";
import { planRollout, type Plan } from "../../components/rollout/plan";
import { buildScenario } from "../support/scenarios/build";
import { SCENARIOS, scenarioStack } from "../support/scenarios/disruption";
import { expectVerdicts } from "../support/scenarios/verdicts";
import { currentConfig } from "../support/fixtures/config";
import { clock, startApi } from "../support/kube-api/harness";

const kubeconfigOf = (text: string) => {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc;
};

describe("livePreview: one scenario per verdict, built through the API", () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", async (_, scenario) => {
    const h = await startApi();
    await buildScenario(kubeconfigOf(h.api.kubeconfig), scenario);
    const { plan, config } = scenarioStack(scenario);
    const preview = await livePreview(readOnly(h.client), plan, config, clock);
    expectVerdicts(preview, scenario);
    expect(preview.blocking).toBe(scenario.expect.some((e) => e.blocking));
  });
});

describe("the drain does what the live preview said it would", () => {
  const defaults = { deleteEmptyDirData: true, deleteUnmanagedPods: false };
  it.each(SCENARIOS.filter((s) => s.expect[0].verdict !== "no-room").map((s) => [s.name, s] as const))("%s", async (_, scenario) => {
    const h = await startApi();
    await buildScenario(kubeconfigOf(h.api.kubeconfig), scenario);
    const { plan, config } = scenarioStack(scenario);
    const first = (await livePreview(readOnly(h.client), plan, config, clock)).nodes[0];
    const outcome = await drainNode(h.client, clock, first.kubeNode!, { policy: { ...defaults, ...scenario.rollout }, timeoutSeconds: 2, log: h.log }).then(
      () => "drained",
      (e: unknown) => (e as Error).message,
    );
    if (first.verdict === "ok" || (first.verdict === "waits" && !first.blocking)) expect(outcome).toBe("drained");
    else if (first.verdict === "refused") expect(outcome).toMatch(/refusing to drain|failed: This pod has more than one PodDisruptionBudget/);
    else expect(outcome).toMatch(/drain timed out after 2s/);
  });
});

/** Plan of the fixture stack whose kubelet goes 1.30.1 -> 1.30.2: drains cp-1, cp-2, workers-0..2, storage-1. */
function bumpPlan(patch: Record<string, unknown> = {}): { plan: Plan; config: ReturnType<typeof currentConfig> } {
  const base = currentConfig({ ...patch, versions: { kubernetes: "1.30.1", kubeadm: "1.30.1-1.1", kubelet: "1.30.1-1.1", kubectl: "1.30.1-1.1" } });
  const config = currentConfig(patch);
  return { plan: planRollout({ stack: "test", base, target: config, region: "eu-west-1" }), config };
}

const cattle = (node: string) => ({ labels: { [POOL_LABEL]: "workers", [NODE_LABEL]: node } });

describe("livePreview on the fixture stack", () => {
  it("finds cattle nodes by the labels the ready hook sets, and says which ones it cannot find", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    for (const n of ["cp-1", "cp-2", "storage-1"]) c.addNode(n);
    c.addNode("ip-10-0-1-7", cattle("workers-0"));
    c.addNode("ip-10-0-2-8", cattle("workers-1"));
    c.addDeployment("shop", "web", ["ip-10-0-1-7", "ip-10-0-2-8", "storage-1"]);
    const { plan, config } = bumpPlan();
    const preview = await livePreview(h.client, plan, config, clock);
    expect(preview.nodes.map((n) => [n.node, n.kubeNode ?? null, n.verdict])).toEqual([
      ["cp-1", "cp-1", "ok"],
      ["cp-2", "cp-2", "ok"],
      ["workers-0", "ip-10-0-1-7", "ok"],
      ["workers-1", "ip-10-0-2-8", "ok"],
      ["workers-2", null, "unknown"],
      ["storage-1", "storage-1", "ok"],
    ]);
    expect(preview.nodes[2].evict).toEqual([{ owner: "Deployment shop/web", pods: ["shop/web-5d9c8b7f6-0"] }]);
    expect(preview.nodes[4].why[0]).toContain("Node labelled kubeherd.io/pool=workers, kubeherd.io/node=workers-2");
    expect(preview.blocking).toBe(false);
  });

  it("a pets node adopted on its first deployment is not drained when it already runs the pins, as the hook decides", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    c.addNode("cp-1");
    c.addNode("cp-2", { annotations: { [MANAGED_BY]: "kubeherd" } });
    c.addNode("storage-1", { kubeletVersion: "v1.30.1" });
    const { labels } = c.addStatefulSet("data", "pg", ["cp-1", "cp-2", "storage-1"]);
    c.addPdb("data", "pg-pdb", { matchLabels: labels }, { maxUnavailable: 0 });
    const config = currentConfig();
    const first = planRollout({ stack: "test", target: config, region: "eu-west-1" });
    const preview = await livePreview(h.client, first, config, clock);
    expect(preview.nodes.map((n) => [n.node, n.verdict])).toEqual([
      ["cp-1", "ok"],
      ["cp-2", "waits"],
      ["storage-1", "waits"],
    ]);
    expect(preview.nodes[0].why).toEqual(["adopted without a drain: it already runs kubelet v1.30.2 and containerd 1.7.19 on Ubuntu 22.04, and kubeherd has not rolled it before"]);
  });

  it("a pets node missing from the cluster has nothing to drain, as the hook finds", async () => {
    const h = await startApi();
    const { plan, config } = bumpPlan();
    const preview = await livePreview(h.client, plan, config, clock);
    expect(preview.nodes[0]).toMatchObject({ node: "cp-1", verdict: "ok", blocking: false, why: ["no Node cp-1 in the cluster: the drain has nothing to do"] });
  });

  it("never writes: every request it makes is a GET, and the read-only client refuses writes outright", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    for (const n of ["cp-1", "cp-2", "storage-1"]) c.addNode(n);
    c.addDeployment("shop", "web", ["cp-1", "storage-1"]);
    const { plan, config } = bumpPlan();
    await livePreview(readOnly(h.client), plan, config, clock);
    expect(h.api.requests.length).toBeGreaterThan(0);
    expect(h.api.requests.filter((r) => r.method !== "GET")).toEqual([]);
    await expect(readOnly(h.client).patchNode("cp-1", {})).rejects.toThrow("patch node cp-1: refused, this client is read-only");
    await expect(readOnly(h.client).evictPod("shop", "web-5d9c8b7f6-0")).rejects.toThrow(/read-only/);
    await expect(readOnly(h.client).deleteNode("cp-1")).rejects.toThrow(/read-only/);
    expect(h.api.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("previews a removed cattle node with the hooks' default policy, and surge old nodes with room from their replacements", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    // workers-0 runs a big pod; the other worker is full: only a surge replacement of the same size has room.
    c.addNode("ip-10-0-1-7", cattle("workers-0"));
    c.addNode("ip-10-0-2-8", { ...cattle("workers-1"), allocatable: { cpu: "1" } });
    c.addDeployment("batch", "crunch", ["ip-10-0-1-7"]);
    const crunch = c.podsOn("ip-10-0-1-7")[0];
    crunch.spec!.containers[0].resources = { requests: { cpu: "3" } };
    c.put("pods", crunch);
    const pools = (size: number, strategy: string) => ({ pools: [{ name: "workers", role: "worker", mode: "cattle", size, instanceType: "m6i.large", subnets: ["subnet-0a1b2c3d4e5f60001"], securityGroups: ["sg-0a1b2c3d4e5f60001"], rollout: { strategy } }] });
    const rolling = bumpPlan(pools(2, "rolling"));
    const surge = bumpPlan(pools(2, "surge"));
    const byRolling = await livePreview(h.client, rolling.plan, rolling.config, clock);
    const bySurge = await livePreview(h.client, surge.plan, surge.config, clock);
    expect(byRolling.nodes.find((n) => n.node === "workers-0")?.verdict).toBe("no-room");
    expect(bySurge.nodes.find((n) => n.node === "workers-0")?.verdict).toBe("ok");
  });

  it("holds back a not-Ready pod while its budget is unhealthy, and lets it go under AlwaysAllow", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    for (const n of ["cp-1", "cp-2", "storage-1"]) c.addNode(n);
    c.addStatefulSet("data", "pg", ["cp-1", "cp-2", "storage-1"]);
    // Two of three pods fail their readiness probe: the budget (minAvailable 2) has 1 healthy, so it is not healthy.
    for (const name of ["pg-0", "pg-1"]) {
      const pod = c.get("pods", name, "data")!;
      pod.status = { phase: "Running", conditions: [{ type: "Ready", status: "False" }] };
      c.put("pods", pod);
    }
    c.addPdb("data", "pg-pdb", { matchLabels: { app: "pg" } }, { minAvailable: 2 });
    const { plan, config } = bumpPlan();
    const first = await livePreview(h.client, plan, config, clock);
    expect(first.nodes[0].budgets[0]).toMatchObject({ name: "data/pg-pdb", needs: 0, heldUnready: ["data/pg-0"] });
    expect(first.nodes[0]).toMatchObject({ verdict: "waits", blocking: false });
    const pdb = c.get("poddisruptionbudgets", "pg-pdb", "data")!;
    pdb.spec!.unhealthyPodEvictionPolicy = "AlwaysAllow";
    c.put("poddisruptionbudgets", pdb);
    const second = await livePreview(h.client, plan, config, clock);
    expect(second.nodes[0]).toMatchObject({ verdict: "ok" });
  });

  it("adds up a batch's needs on one PDB, and keeps a batch's pods off its own nodes", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    for (const n of ["cp-1", "cp-2", "storage-1"]) c.addNode(n);
    c.addNode("ip-10-0-1-7", cattle("workers-0"));
    c.addNode("ip-10-0-2-8", cattle("workers-1"));
    c.addNode("ip-10-0-3-9", cattle("workers-2"));
    const { labels } = c.addDeployment("shop", "web", ["ip-10-0-1-7", "ip-10-0-2-8", "ip-10-0-3-9"]);
    c.addPdb("shop", "web-pdb", { matchLabels: labels }, { maxUnavailable: 1 });
    const { plan, config } = bumpPlan();
    // Batches as the planner numbers them once the pool's maxUnavailable is 2: workers-0 and workers-1 together.
    const batch: Record<string, number> = { "cp-1": 1, "cp-2": 2, "workers-0": 3, "workers-1": 3, "workers-2": 4, "storage-1": 5 };
    const batched = { ...plan, steps: plan.steps.map((s) => ({ ...s, batch: batch[s.node] })) };
    const preview = await livePreview(h.client, batched, config, clock);
    const w0 = preview.nodes.find((n) => n.node === "workers-0")!;
    expect(w0).toMatchObject({ batch: 3, verdict: "waits", blocking: false });
    expect(w0.budgets[0]).toMatchObject({ name: "shop/web-pdb", allowedNow: 1, needs: 1, batchNeeds: 2 });
    expect(w0.room?.nodes).toBe(4);
    expect(preview.nodes.find((n) => n.node === "workers-2")).toMatchObject({ batch: 4, verdict: "ok" });
  });
});
