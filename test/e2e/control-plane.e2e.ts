/**
 * The e2e control plane itself, before anything is built on it: a real kube-apiserver, controller-manager and
 * scheduler with KWOK nodes must behave, where kubeherd looks, as a kubeadm cluster with kubelets does: nodes turn
 * Ready and keep the versions their kubelet reports, controllers make pods, PDBs refuse evictions with 429, a
 * deleted pod lingers for its grace period, and the project's drain works through all of it.
 */
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clientFromKubeconfig } from "../../components/kube/api-client";
import { systemClock } from "../../components/kube/clock";
import { drainNode } from "../../components/kube/drain";
import { CORDONED_BY } from "../../components/kube/nodes";
import { startControlPlane, type ControlPlane } from "../support/control-plane/control-plane";
import { eventually } from "../support/control-plane/eventually";
import { isReady, registerKwokNode } from "../support/control-plane/kwok-nodes";

let cp: ControlPlane;
let core: CoreV1Api;
let apps: AppsV1Api;
let policy: PolicyV1Api;
let coordination: CoordinationV1Api;
const log = (line: string) => process.stderr.write(`${line}\n`);
const NODES = ["kwok-a", "kwok-b", "kwok-c"];
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

const podReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

async function pods(namespace: string, app: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

async function deployment(namespace: string, app: string, replicas: number, grace: number) {
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: app },
      spec: {
        replicas,
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels: { app } },
          spec: { terminationGracePeriodSeconds: grace, containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }] },
        },
      },
    },
  });
  await policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: { metadata: { name: app }, spec: { maxUnavailable: 1, selector: { matchLabels: { app } } } },
  });
  await eventually(`${replicas} Ready pods of ${app}`, 60, async () => (await pods(namespace, app)).filter(podReady).length === replicas);
}

async function setUnschedulable(names: string[], unschedulable: boolean) {
  for (const name of names) {
    await core.patchNode({ name, body: { spec: { unschedulable } } }, mergePatch);
  }
}

async function evictionStatus(namespace: string, name: string): Promise<number> {
  try {
    await core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } } });
    return 201;
  } catch (err) {
    return Number((err as { code?: number }).code ?? 0);
  }
}

describe("the e2e control plane", () => {
  beforeAll(async () => {
    cp = await startControlPlane({ tools: inject("toolchain"), log });
    const kc = new KubeConfig();
    kc.loadFromString(cp.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    policy = kc.makeApiClient(PolicyV1Api);
    coordination = kc.makeApiClient(CoordinationV1Api);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it("turns a registered KWOK node Ready, with the kubelet and runtime versions it registered", async () => {
    for (const name of NODES) {
      const node = await registerKwokNode(cp.kubeconfig, { name, kubeletVersion: "v1.34.2", containerRuntimeVersion: "containerd://1.7.24" });
      expect(isReady(node)).toBe(true);
      expect(node.status?.nodeInfo?.kubeletVersion).toBe("v1.34.2");
      expect(node.status?.nodeInfo?.containerRuntimeVersion).toBe("containerd://1.7.24");
      expect(node.status?.allocatable?.pods).toBe("110");
    }
    // KWOK renews each node's Lease, as a kubelet does; the node lifecycle controller reads it.
    const lease = await eventually("kwok-a's Lease", 30, async () => {
      try {
        return await coordination.readNamespacedLease({ name: "kwok-a", namespace: "kube-node-lease" });
      } catch {
        return undefined;
      }
    });
    // Held by KWOK (its own identity, not the node's name as a kubelet would), and renewed.
    const renewed = (l: typeof lease) => new Date(l.spec?.renewTime ?? 0).getTime();
    const first = renewed(lease);
    await eventually("kwok-a's Lease renewed", 30, async () => {
      const l = await coordination.readNamespacedLease({ name: "kwok-a", namespace: "kube-node-lease" });
      return renewed(l) > first;
    }, 500);
  });

  it("runs a Deployment of three replicas under a PDB: its pods are scheduled, Running and Ready", async () => {
    await core.createNamespace({ body: { metadata: { name: "web" } } });
    await deployment("web", "web", 3, 30);
    const running = await pods("web", "web");
    expect(running.map((p) => p.status?.phase)).toEqual(["Running", "Running", "Running"]);
    expect(running.every((p) => NODES.includes(p.spec?.nodeName ?? ""))).toBe(true);
    const pdb = await eventually("the PDB's status", 30, async () => {
      const b = await policy.readNamespacedPodDisruptionBudget({ name: "web", namespace: "web" });
      return b.status?.currentHealthy === 3 ? b : undefined;
    });
    expect(pdb.status?.disruptionsAllowed).toBe(1);
  });

  it("answers 429 to the eviction of a second pod while one is disrupted", async () => {
    // No room for replacements: the disrupted pod stays disrupted until the test lets it go.
    await setUnschedulable(NODES, true);
    try {
      const [first, second] = await pods("web", "web");
      expect(await evictionStatus("web", first.metadata!.name!)).toBe(201);
      expect(await evictionStatus("web", second.metadata!.name!)).toBe(429);
    } finally {
      await setUnschedulable(NODES, false);
    }
    await eventually("web back to 3 Ready pods", 60, async () => (await pods("web", "web")).filter(podReady).length === 3);
  });

  it("keeps a deleted pod for its 2 s grace period, then removes it", async () => {
    const name = "graceful";
    await core.createNamespacedPod({
      namespace: "web",
      body: { metadata: { name }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }] } },
    });
    await eventually("the pod Running", 30, async () => podReady(await core.readNamespacedPod({ name, namespace: "web" })));
    const deleted = Date.now();
    await core.deleteNamespacedPod({ name, namespace: "web" });
    let seenTerminating = false;
    await eventually("the pod gone", 30, async () => {
      try {
        const p = await core.readNamespacedPod({ name, namespace: "web" });
        seenTerminating ||= p.metadata?.deletionTimestamp !== undefined;
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    }, 20);
    const seconds = (Date.now() - deleted) / 1000;
    log(`a pod with a 2 s grace period was gone ${seconds.toFixed(2)} s after its deletion`);
    expect(seenTerminating).toBe(true);
    expect(seconds).toBeGreaterThanOrEqual(2);
  });

  it("keeps a kubelet version reported through the status subresource across KWOK's heartbeats", async () => {
    const name = "kwok-c";
    const patched = Date.now();
    await core.patchNodeStatus(
      { name, body: { status: { nodeInfo: { kubeletVersion: "v1.34.3", containerRuntimeVersion: "containerd://1.7.25" } } } },
      mergePatch,
    );
    const heartbeat = (n: Awaited<ReturnType<CoreV1Api["readNode"]>>) =>
      new Date(n.status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime ?? 0).getTime();
    const seen: string[] = [];
    // At least 30 s, and at least one heartbeat of KWOK's after the patch (they come every 30-35 s).
    await eventually("30 s and a heartbeat after the patch", 60, async () => {
      const n = await core.readNode({ name });
      seen.push(`${n.status?.nodeInfo?.kubeletVersion} ${n.status?.nodeInfo?.containerRuntimeVersion} ${isReady(n)}`);
      return Date.now() - patched >= 30_000 && heartbeat(n) >= Math.floor(patched / 1000) * 1000 + 1000;
    }, 1_000);
    expect([...new Set(seen)]).toEqual(["v1.34.3 containerd://1.7.25 true"]);
  });

  it("drains a node with the project's drainNode, one pod at a time through the PDB", async () => {
    await core.createNamespace({ body: { metadata: { name: "api" } } });
    // All four replicas on kwok-a: the other nodes are cordoned while they are placed.
    await setUnschedulable(["kwok-b", "kwok-c"], true);
    await deployment("api", "api", 4, 2);
    await setUnschedulable(["kwok-b", "kwok-c"], false);
    expect(new Set((await pods("api", "api")).map((p) => p.spec?.nodeName))).toEqual(new Set(["kwok-a"]));

    let fewestReady = 4;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        fewestReady = Math.min(fewestReady, (await pods("api", "api")).filter(podReady).length);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const client = clientFromKubeconfig(cp.kubeconfig);
    let record;
    try {
      record = await drainNode(client, systemClock, "kwok-a", { policy: { deleteEmptyDirData: true, deleteUnmanagedPods: false }, timeoutSeconds: 120, log });
    } finally {
      watching = false;
      await watch;
    }

    expect(record.budgets.map((b) => `${b.namespace}/${b.name}`)).toContain("api/api");
    const node = await core.readNode({ name: "kwok-a" });
    expect(node.spec?.unschedulable).toBe(true);
    expect(node.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
    const left = (await pods("api", "api")).filter((p) => p.spec?.nodeName === "kwok-a");
    expect(left).toEqual([]);
    // maxUnavailable 1 held all along: never fewer than three of the four Ready.
    expect(fewestReady).toBeGreaterThanOrEqual(3);
    await eventually("api back to 4 Ready pods elsewhere", 60, async () => (await pods("api", "api")).filter(podReady).length === 4);
  });
});
