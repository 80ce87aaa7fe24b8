/**
 * A real kubeadm cluster on this machine (test/support/real-nodes/): one control-plane node by `kubeadm init` (its control plane
 * as static pods run by its kubelet) and one worker by `kubeadm join`, real kubelets and containerd in node roots of
 * the Debian harness. Both Nodes Ready, a pod's real container Running on the worker, the project's own drain
 * evicting it and the kubelet killing the container within its grace period, and nothing left after stop.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientFromKubeconfig } from "../../components/kube/api-client";
import { systemClock } from "../../components/kube/clock";
import { drainNode } from "../../components/kube/drain";
import { IMAGE_REPOSITORY, STUBBORN_IMAGE } from "../support/real-nodes/node-images";
import { RealCluster } from "../support/real-nodes/real-cluster";
import { sweepAbandonedRealClusters } from "../support/real-nodes/sweep";
import { eventually } from "../support/control-plane/eventually";

const log = (line: string) => process.stderr.write(`${line}\n`);
const PAUSE = `${IMAGE_REPOSITORY}/pause:3.10.1`;
// The workload ignores SIGTERM, so the kubelet kills it only when its grace period ends.
const GRACE = 8;

let cluster: RealCluster | undefined;
let dir: string;
let core: CoreV1Api;
let apps: AppsV1Api;
let kubeconfig: string;

const ready = (n: V1Node) => (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

beforeAll(async () => {
  const swept = await sweepAbandonedRealClusters();
  if (swept.length > 0) log(`removed what killed real clusters left: ${swept.join(", ")}`);
  dir = mkdtempSync(join(tmpdir(), "kubeherd-real-e2e-"));
  const started = Date.now();
  cluster = await RealCluster.start({ workers: 1, dir, say: log });
  log(`real cluster up in ${Math.round((Date.now() - started) / 1000)} s`);
  kubeconfig = readFileSync(cluster.kubeconfig, "utf8");
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
}, 3_600_000);

afterAll(async () => {
  try {
    await cluster?.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe("a real kubeadm cluster, 1 control plane + 1 worker", () => {
  it("has both Nodes Ready on the kubelet built here, the control plane running as static pods", async () => {
    const nodes = await eventually("both nodes Ready", 180, async () => {
      const items = (await core.listNode()).items;
      return items.length === 2 && items.every(ready) ? items : undefined;
    });
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(["cp-1", "worker-1"]);
    for (const n of nodes) {
      expect(n.status?.nodeInfo?.kubeletVersion).toBe("v1.34.2");
      expect(n.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
      // each node reports the images in its containerd, the pause image among them
      expect((n.status?.images ?? []).flatMap((i) => i.names ?? [])).toContain(PAUSE);
    }
    const cp = cluster?.controlPlane;
    expect(cp?.root.exists("/etc/kubernetes/manifests/kube-apiserver.yaml")).toBe(true);
    const mirror = await eventually("the control plane's mirror pods Running", 120, async () => {
      const pods = (await core.listNamespacedPod({ namespace: "kube-system" })).items.filter((p) => p.spec?.nodeName === "cp-1");
      const running = pods.filter((p) => p.status?.phase === "Running").map((p) => p.metadata?.name);
      return ["etcd-cp-1", "kube-apiserver-cp-1", "kube-controller-manager-cp-1", "kube-scheduler-cp-1"].every((n) => running.includes(n)) ? running : undefined;
    });
    expect(mirror.length).toBeGreaterThanOrEqual(4);
  });

  it("runs a pod's real container on the worker, and the project's drain has the kubelet kill it at the end of its grace period", async () => {
    await apps.createNamespacedDeployment({
      namespace: "default",
      body: {
        metadata: { name: "sleeper" },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "sleeper" } },
          template: {
            metadata: { labels: { app: "sleeper" } },
            spec: {
              terminationGracePeriodSeconds: GRACE,
              containers: [{ name: "stubborn", image: STUBBORN_IMAGE, imagePullPolicy: "Never" }],
            },
          },
        },
      },
    });
    const pod = await eventually("the pod Running on worker-1", 180, async () => {
      const p = (await core.listNamespacedPod({ namespace: "default", labelSelector: "app=sleeper" })).items[0];
      return p?.status?.phase === "Running" && p.spec?.nodeName === "worker-1" ? p : undefined;
    });
    const containerId = pod.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, "");
    expect(containerId).toMatch(/^[0-9a-f]{64}$/);
    const worker = cluster?.nodes.find((n) => n.name === "worker-1");
    if (worker === undefined || containerId === undefined) throw new Error("no worker-1 or no container id");
    // the container is a real task of the worker's containerd, a process in the worker's pid namespace
    const tasks = await worker.shOrThrow("ctr -n k8s.io tasks ls");
    expect(tasks.stdout).toMatch(new RegExp(`${containerId}\\s+\\d+\\s+RUNNING`));

    const started = Date.now();
    await drainNode(clientFromKubeconfig(kubeconfig), systemClock, "worker-1", {
      policy: { deleteEmptyDirData: true, deleteUnmanagedPods: false },
      timeoutSeconds: 120,
      log,
    });
    const drained = (Date.now() - started) / 1000;
    log(`drain of worker-1 took ${drained.toFixed(1)} s`);
    // the drain returns once the pod is gone, which the kubelet allows only after the container stopped: the
    // container ignored SIGTERM, so not before its grace period ended, and not long after
    expect(drained).toBeGreaterThanOrEqual(GRACE - 1);
    expect(drained).toBeLessThan(GRACE + 10);
    const after = await worker.shOrThrow("ctr -n k8s.io tasks ls");
    expect(after.stdout).not.toMatch(new RegExp(`${containerId}\\s+\\d+\\s+RUNNING`));
    const node = await core.readNode({ name: "worker-1" });
    expect(node.spec?.unschedulable).toBe(true);
  });
});
