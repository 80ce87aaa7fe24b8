import { describe, expect, it } from "vitest";
import { rolloutSchema } from "../../components/config/schema";
import {
  drainBeforeChange,
  forgetAfterDelete,
  readyAfterChange,
  type HookArgs,
  type HookEnv,
  type NodeHookContext,
} from "../../components/kube/hook-actions";
import { CORDONED_BY, MANAGED_BY } from "../../components/kube/nodes";
import { NODE_LABEL, POOL_LABEL } from "../../components/disruption/stack-nodes";
import type { DrainRecord } from "../../components/kube/workloads";
import { clock, startApi, type Harness } from "../support/kube-api/harness";

const INSTANCE = "aws:ec2/instance:Instance";
const COMMAND = "command:remote:Command";

function envFor(h: Harness, contexts: Record<string, NodeHookContext> = {}): HookEnv & { records: Map<string, DrainRecord> } {
  return { contexts: new Map(Object.entries(contexts)), records: new Map(), client: async () => h.client, clock, log: h.log };
}

const rollout = (patch: Record<string, unknown> = {}) => rolloutSchema.parse({ readyTimeoutSeconds: 10, workloadTimeoutSeconds: 10, drainTimeoutSeconds: 10, ...patch });

const cattle = (strategy: "rolling" | "surge" = "rolling"): NodeHookContext => ({
  pool: "workers",
  node: "workers-0",
  mode: "cattle",
  kubeletVersion: "1.30.2",
  runtime: { name: "containerd", version: "1.7.19" },
  rollout: rollout({ strategy }),
});

const pets = (name = "cp-1"): NodeHookContext => ({
  pool: "control-plane",
  node: name,
  mode: "pets",
  kubeNodeName: name,
  kubeletVersion: "1.30.2",
  runtime: { name: "containerd", version: "1.7.19" },
  rollout: rollout(),
});

const oldInstance = { id: "i-0old", privateDns: "ip-10-0-1-7.eu-west-1.compute.internal", privateIp: "10.0.1.7" };
const newInstance = { id: "i-0new", privateDns: "ip-10-0-1-9.eu-west-1.compute.internal", privateIp: "10.0.1.9" };
const deleting: HookArgs = { name: "workers-0", type: INSTANCE, id: "i-0old", oldOutputs: oldInstance };
const created: HookArgs = { name: "workers-0", type: INSTANCE, id: "i-0new", newInputs: {}, newOutputs: newInstance };

describe("cattle hooks", () => {
  it("drains the old instance's node, forgets it, then waits for the new node and the workloads it displaced", async () => {
    const h = await startApi();
    const c = h.api.cluster;
    c.addNode("ip-10-0-1-7", { providerID: "aws:///eu-west-1a/i-0old", internalIP: "10.0.1.7" });
    c.addNode("ip-10-0-1-8", { providerID: "aws:///eu-west-1a/i-0other", internalIP: "10.0.1.8" });
    c.addDeployment("web", "web", ["ip-10-0-1-7", "ip-10-0-1-8"]);
    const env = envFor(h, { "workers-0": cattle() });

    await drainBeforeChange(deleting, env);
    expect(c.podsOn("ip-10-0-1-7")).toEqual([]);
    expect(env.records.get("workers-0")?.workloads).toEqual([{ kind: "deployments", namespace: "web", name: "web" }]);

    await forgetAfterDelete(deleting, env);
    expect(c.get("nodes", "ip-10-0-1-7")).toBeUndefined();
    expect(env.records.has("workers-0")).toBe(true);

    setTimeout(() => c.addNode("ip-10-0-1-9", { ready: false, providerID: "aws:///eu-west-1a/i-0new", internalIP: "10.0.1.9" }), 100);
    setTimeout(() => c.setNodeStatus("ip-10-0-1-9", { ready: true }), 250);
    await readyAfterChange(created, env);
    expect(env.records.has("workers-0")).toBe(false);
    expect(c.get("nodes", "ip-10-0-1-9")?.metadata?.annotations?.[MANAGED_BY]).toBe("kubeherd");
    // The plan knows this node only as workers-0: the labels let the live preview and status find it.
    expect(c.get("nodes", "ip-10-0-1-9")?.metadata?.labels).toMatchObject({ [POOL_LABEL]: "workers", [NODE_LABEL]: "workers-0" });
    expect(h.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^node ip-10-0-1-7: drained 1 pods in/),
        "node ip-10-0-1-7: deleted the Node of terminated instance i-0old (ip-10-0-1-7.eu-west-1.compute.internal, 10.0.1.7)",
        expect.stringMatching(/^node ip-10-0-1-9: Ready with kubelet v1\.30\.2 after/),
        expect.stringMatching(/^node ip-10-0-1-7: workloads recovered in/),
      ]),
    );
  });

  it("with the surge strategy, runs the workload gate after the old node is deleted", async () => {
    const h = await startApi();
    h.api.cluster.addNode("ip-10-0-1-7", { providerID: "aws:///eu-west-1a/i-0old" });
    h.api.cluster.addNode("ip-10-0-1-9", { providerID: "aws:///eu-west-1a/i-0new" });
    h.api.cluster.addDeployment("web", "web", ["ip-10-0-1-7"]);
    const env = envFor(h, { "workers-0": cattle("surge") });
    await drainBeforeChange(deleting, env);
    await forgetAfterDelete(deleting, env);
    expect(env.records.size).toBe(0);
    expect(h.lines.at(-1)).toMatch(/workloads recovered/);
  });

  it("drains a removed instance without a context, with the schema's default policy", async () => {
    const h = await startApi();
    h.api.cluster.addNode("ip-10-0-1-7", { internalIP: "10.0.1.7" });
    h.api.cluster.addNode("ip-10-0-1-8");
    h.api.cluster.addDeployment("web", "web", ["ip-10-0-1-7"]);
    h.api.cluster.addPod({ name: "debug", node: "ip-10-0-1-7" });
    // Default policy: unmanaged pods are refused.
    await expect(drainBeforeChange(deleting, envFor(h))).rejects.toThrow("default/debug is managed by no controller");
  });

  it("does nothing for an instance that never registered a node", async () => {
    const h = await startApi();
    const env = envFor(h, { "workers-0": cattle() });
    await drainBeforeChange(deleting, env);
    await forgetAfterDelete(deleting, env);
    expect(h.lines).toEqual([
      "instance i-0old (ip-10-0-1-7.eu-west-1.compute.internal, 10.0.1.7): no Kubernetes node registered, nothing to drain",
      "instance i-0old (ip-10-0-1-7.eu-west-1.compute.internal, 10.0.1.7): no Node object left to delete",
    ]);
  });

  it("waits for Ready without a version check when the context is missing", async () => {
    const h = await startApi();
    h.api.cluster.addNode("ip-10-0-1-9", { providerID: "aws:///eu-west-1a/i-0new", kubeletVersion: "v1.29.0" });
    await readyAfterChange(created, envFor(h));
    expect(h.lines[0]).toBe("workers-0: no node context registered; waiting for Ready without a kubelet version check");
  });
});

describe("pets hooks", () => {
  const create: HookArgs = { name: "control-plane-cp-1", type: COMMAND, newInputs: { triggers: [] } };

  it("adopts a node that already runs the pins on the first deployment, without draining it", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.2", runtime: "containerd://1.7.19" });
    h.api.cluster.addNode("cp-2");
    h.api.cluster.addDeployment("web", "web", ["cp-1"]);
    await drainBeforeChange(create, envFor(h, { "control-plane-cp-1": pets() }));
    expect(h.api.cluster.get("nodes", "cp-1")?.spec?.unschedulable).toBeFalsy();
    expect(h.api.cluster.evictions).toEqual([]);
    expect(h.lines).toEqual(["node cp-1: already runs kubelet v1.30.2 and containerd 1.7.19; adopting it without a drain"]);
  });

  it("adopts a docker node whose runtime reports the version without leading zeros", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.13.2", runtime: "docker://18.6.2" });
    const ctx = { ...pets(), kubeletVersion: "1.13.2", runtime: { name: "docker" as const, version: "18.06.2" } };
    await drainBeforeChange(create, envFor(h, { "control-plane-cp-1": ctx }));
    expect(h.lines[0]).toContain("adopting it without a drain");
  });

  it.each([
    { why: "its kubelet is not the pin yet", node: { kubeletVersion: "v1.30.1" } },
    { why: "its runtime is not the pin yet", node: { runtime: "containerd://1.7.18" } },
    { why: "kubeherd has rolled it before (a replacement, e.g. a system upgrade)", node: { annotations: { [MANAGED_BY]: "kubeherd" } } },
    { why: "it runs another Ubuntu release than the pinned one (a release upgrade is due)", node: { osImage: "Ubuntu 20.04.6 LTS" } },
    { why: "a system upgrade token is set (the script will dist-upgrade it)", node: {}, ctx: { maintenance: true } },
  ])("drains a node when $why", async ({ node, ctx }: { node: Parameters<Harness["api"]["cluster"]["addNode"]>[1]; ctx?: Partial<NodeHookContext> }) => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", node);
    h.api.cluster.addNode("cp-2");
    h.api.cluster.addDeployment("web", "web", ["cp-1"]);
    const env = envFor(h, { "control-plane-cp-1": { ...pets(), osRelease: "22.04", ...ctx } });
    await drainBeforeChange(create, env);
    expect(h.api.cluster.get("nodes", "cp-1")?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
    expect(env.records.has("control-plane-cp-1")).toBe(true);
  });

  it("uncordons the node it drained once it is back, then marks it as rolled", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.1" });
    h.api.cluster.addNode("cp-2");
    const env = envFor(h, { "control-plane-cp-1": pets() });
    await drainBeforeChange(create, env);
    setTimeout(() => h.api.cluster.setNodeStatus("cp-1", { kubeletVersion: "v1.30.2" }), 100);
    await readyAfterChange({ ...create, id: "cp-1", newOutputs: {} }, env);
    const n = h.api.cluster.get("nodes", "cp-1");
    expect(n?.spec?.unschedulable).toBeFalsy();
    expect(n?.metadata?.annotations).toEqual({ [MANAGED_BY]: "kubeherd" });
  });

  it("after a containerd.io bump alone, uncordons the node only once it reports the pinned containerd", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.2", runtime: "containerd://1.7.18" });
    h.api.cluster.addNode("cp-2");
    const env = envFor(h, { "control-plane-cp-1": pets() });
    await drainBeforeChange(create, env);
    // the converge restarted containerd; the kubelet (not restarted) reports the new runtime with its next status
    let reported = false;
    setTimeout(() => {
      reported = true;
      h.api.cluster.setNodeStatus("cp-1", { runtime: "containerd://1.7.19" });
    }, 300);
    await readyAfterChange({ ...create, id: "cp-1", newOutputs: {} }, env);
    expect(reported).toBe(true);
    expect(h.api.cluster.get("nodes", "cp-1")?.spec?.unschedulable).toBeFalsy();
  });

  it("leaves a node somebody else cordoned cordoned", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { unschedulable: true });
    await readyAfterChange({ ...create, id: "cp-1", newOutputs: {} }, envFor(h, { "control-plane-cp-1": pets() }));
    expect(h.api.cluster.get("nodes", "cp-1")?.spec?.unschedulable).toBe(true);
  });

  it("finds a launched pets host by its private DNS name when the node carries the short host name", async () => {
    const h = await startApi();
    h.api.cluster.addNode("ip-10-0-3-20", { kubeletVersion: "v1.30.1" });
    const ctx = { ...pets(), kubeNodeName: "ip-10-0-3-20.eu-west-1.compute.internal" };
    await drainBeforeChange(create, envFor(h, { "control-plane-cp-1": ctx }));
    expect(h.api.cluster.get("nodes", "ip-10-0-3-20")?.spec?.unschedulable).toBe(true);
  });

  it("logs and carries on when a pets resource has no context", async () => {
    const h = await startApi();
    await expect(drainBeforeChange(create, envFor(h))).resolves.toBeUndefined();
    expect(h.lines).toEqual(["control-plane-cp-1: no node to drain (no context and no instance outputs to find it by)"]);
  });
});

describe("the preflight before a node is taken out", () => {
  const indexed = (ctx: NodeHookContext, batch: number): NodeHookContext => ({ ...ctx, batch });
  const earlierWorker = { ...cattle(), node: "workers-0" };
  const thisWorker = { ...cattle(), node: "workers-1" };
  const deletingSecond: HookArgs = { name: "workers-1", type: INSTANCE, id: "i-0second", oldOutputs: { id: "i-0second", privateDns: "ip-10-0-1-8.eu-west-1.compute.internal", privateIp: "10.0.1.8" } };

  const setup = async (earlierNode: Parameters<Harness["api"]["cluster"]["addNode"]>[1] | undefined) => {
    const h = await startApi();
    if (earlierNode) h.api.cluster.addNode("ip-10-0-1-7", { providerID: "aws:///eu-west-1a/i-0first", internalIP: "10.0.1.7", ...earlierNode });
    h.api.cluster.addNode("ip-10-0-1-8", { providerID: "aws:///eu-west-1a/i-0second", internalIP: "10.0.1.8" });
    h.api.cluster.addNode("ip-10-0-1-9", { internalIP: "10.0.1.9" });
    h.api.cluster.addDeployment("web", "web", ["ip-10-0-1-8"]);
    const env = {
      ...envFor(h, { "workers-0": indexed(earlierWorker, 0), "workers-1": indexed(thisWorker, 1) }),
      identities: new Map([["workers-0", { instanceId: "i-0first", privateDns: "ip-10-0-1-7.eu-west-1.compute.internal", privateIp: "10.0.1.7" }]]),
    };
    return { h, env };
  };

  it.each([
    ["never joined", undefined, /workers-0 \(.*\) has no Kubernetes node: it never joined/],
    ["is NotReady", { ready: false }, /workers-0 \(node ip-10-0-1-7\) is not Ready/],
    ["is still cordoned by kubeherd", { unschedulable: true, annotations: { [CORDONED_BY]: "kubeherd" } }, /workers-0 \(node ip-10-0-1-7\) is still cordoned by kubeherd/],
  ])("refuses to drain the next node while an earlier one %s, and touches nothing", async (_, earlierNode, message) => {
    const { h, env } = await setup(earlierNode);
    await expect(drainBeforeChange(deletingSecond, env)).rejects.toThrow(message);
    expect(h.api.cluster.get("nodes", "ip-10-0-1-8")?.spec?.unschedulable).toBeFalsy();
    expect(h.api.cluster.evictions).toEqual([]);
  });

  it("drains the next node once every earlier node is back", async () => {
    const { h, env } = await setup({});
    await drainBeforeChange(deletingSecond, env);
    expect(h.api.cluster.get("nodes", "ip-10-0-1-8")?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
  });

  it("counts a node of its own batch as its own: a batch drains at once", async () => {
    const { h, env } = await setup({ ready: false });
    env.contexts = new Map([["workers-0", indexed(earlierWorker, 1)], ["workers-1", indexed(thisWorker, 1)]]);
    await drainBeforeChange(deletingSecond, env);
    expect(h.api.cluster.get("nodes", "ip-10-0-1-8")?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
  });

  it("refuses outside the pool's maintenance window before cordoning anything, saying when it opens", async () => {
    const { h, env } = await setup({});
    const window = { days: ["mon" as const], start: "22:00", end: "04:00", timeZone: "Europe/Amsterdam" };
    env.contexts = new Map([["workers-1", indexed({ ...thisWorker, rollout: { ...thisWorker.rollout, window } }, 1)]]);
    // Tuesday 2026-12-01 12:00 UTC: the next opening is Monday 2026-12-07 22:00 in Amsterdam (21:00 UTC).
    const closed = { ...env, wallClock: () => new Date("2026-12-01T12:00:00Z") };
    await expect(drainBeforeChange(deletingSecond, closed)).rejects.toThrow(/outside the maintenance window \(mon 22:00–04:00 Europe\/Amsterdam\): it opens at 2026-12-07 22:00 Europe\/Amsterdam \(2026-12-07T21:00Z\)/);
    expect(h.api.cluster.get("nodes", "ip-10-0-1-8")?.spec?.unschedulable).toBeFalsy();
    const open = { ...env, wallClock: () => new Date("2026-12-08T02:30:00Z") };
    await drainBeforeChange(deletingSecond, open);
    expect(h.api.cluster.get("nodes", "ip-10-0-1-8")?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
  });

  it("checks earlier pets nodes by name, and ignores nodes after this one", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { ready: false });
    h.api.cluster.addNode("cp-2", { kubeletVersion: "v1.30.1" });
    h.api.cluster.addNode("cp-3", { ready: false });
    const env = envFor(h, { "control-plane-cp-1": indexed(pets("cp-1"), 0), "control-plane-cp-2": indexed(pets("cp-2"), 1), "control-plane-cp-3": indexed(pets("cp-3"), 2) });
    await expect(drainBeforeChange({ name: "control-plane-cp-2", type: COMMAND, newInputs: {} }, env)).rejects.toThrow(/cp-1 \(node cp-1\) is not Ready/);
    h.api.cluster.setNodeStatus("cp-1", { ready: true });
    await drainBeforeChange({ name: "control-plane-cp-2", type: COMMAND, newInputs: {} }, env);
    expect(h.api.cluster.get("nodes", "cp-2")?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
  });

  it("on a journey, does not hold a node back for its own earlier stage, left cordoned by the stage that failed", async () => {
    const h = await startApi();
    // Stage 2's run on cp-1 failed after its drain: kubeherd's cordon is still on it.
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.33.5", unschedulable: true, annotations: { [CORDONED_BY]: "kubeherd" } });
    h.api.cluster.addNode("w-1", { kubeletVersion: "v1.32.9" });
    const env = envFor(h, {
      "control-plane-cp-1-to-1-33": indexed(pets("cp-1"), 0),
      "control-plane-cp-1": indexed(pets("cp-1"), 1),
      "workers-w-1-to-1-33": indexed({ ...pets("w-1"), pool: "workers" }, 2),
    });
    await drainBeforeChange({ name: "control-plane-cp-1", type: COMMAND, newInputs: {} }, env);
    // The next stage's first node is held back until cp-1 is back.
    await expect(drainBeforeChange({ name: "workers-w-1-to-1-33", type: COMMAND, newInputs: {} }, env)).rejects.toThrow(/cp-1 \(node cp-1\) is still cordoned by kubeherd/);
  });
});
