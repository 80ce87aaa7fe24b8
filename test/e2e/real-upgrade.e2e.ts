/**
 * A patch upgrade over real kubeadm on real nodes (test/support/real-nodes/), by hand as kubeadm's documentation has a user do it
 * (kubeherd's own converge scripts and packages are not yet wired to these nodes): the control-plane node gets the new
 * kubeadm, `kubeadm upgrade apply` moves its static pods to the new images and the kubelet restarts them, then each
 * node gets the new kubelet (the worker `kubeadm upgrade node` first) and reports the new version.
 *
 * The "new" release is v1.34.2's source stamped v1.34.3 at link time (kubernetes-node.ts): this proves what the
 * version drives (kubeadm's upgrade plan and skew checks, the image tags it writes into the manifests, the static
 * pods' replacement, the versions the API server and kubelets report), not anything about the code that changed
 * between the two real releases.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, VersionApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureKubernetesNode } from "../toolchain/kubernetes-node";
import { ensureNodeImages, IMAGE_REPOSITORY, type NodeImages } from "../support/real-nodes/node-images";
import { RealCluster } from "../support/real-nodes/real-cluster";
import type { RealNode } from "../support/real-nodes/real-node";
import { STAMPED_VERSION } from "../support/real-nodes/real-toolchain";
import { sweepAbandonedRealClusters } from "../support/real-nodes/sweep";
import { eventually } from "../support/control-plane/eventually";

const log = (line: string) => process.stderr.write(`${line}\n`);
const TO = STAMPED_VERSION;
/**
 * kubeadm 1.34's upgrade preflight checks CoreDNS's migration even when its addon is disabled (the clusters skip
 * `addon/coredns`: no CoreDNS image is built here), and fails reading the version of a CoreDNS that is not there
 * ("start version '' not supported"). Nothing else is ignored.
 */
const IGNORE = "--ignore-preflight-errors=CoreDNSUnsupportedPlugins,CoreDNSMigration";

let cluster: RealCluster | undefined;
let dir: string;
let core: CoreV1Api;
let kc: KubeConfig;
let next: Awaited<ReturnType<typeof ensureKubernetesNode>>;
let nextImages: NodeImages;

beforeAll(async () => {
  await sweepAbandonedRealClusters();
  dir = mkdtempSync(join(tmpdir(), "kubeherd-real-upgrade-"));
  next = await ensureKubernetesNode(TO, "v1.34.2");
  nextImages = await ensureNodeImages(TO, next);
  cluster = await RealCluster.start({ workers: 1, dir, say: log });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
}, 3_600_000);

afterAll(async () => {
  try {
    await cluster?.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

async function kubeletVersion(name: string): Promise<string | undefined> {
  return (await core.readNode({ name })).status?.nodeInfo?.kubeletVersion;
}

async function installKubelet(node: RealNode): Promise<void> {
  await node.installFile(next.paths.kubelet, "/usr/bin/kubelet");
  await node.restartKubelet();
  await eventually(`${node.name} reporting kubelet ${TO}`, 120, async () => (await kubeletVersion(node.name)) === TO);
}

describe(`a patch upgrade over real kubeadm, v1.34.2 -> ${TO} (stamped)`, () => {
  it("kubeadm upgrade apply moves the control plane's static pods to the new images", async () => {
    const cp = cluster?.controlPlane;
    if (cp === undefined) throw new Error("no control plane");
    await cp.installFile(next.paths.kubeadm, "/usr/bin/kubeadm");
    for (const [name, archive] of Object.entries(nextImages.archives)) if (name.endsWith(`:${TO}`)) await cp.importImage(archive);
    const plan = await cp.shOrThrow(`kubeadm upgrade plan ${IGNORE} 2>&1`);
    expect(plan.stdout).toContain(TO);
    const started = Date.now();
    const apply = await cp.sh(`kubeadm upgrade apply ${TO} --yes ${IGNORE} >/var/log/kubeadm-upgrade.log 2>&1`, 900_000);
    log(`kubeadm upgrade apply: exit ${apply.code} in ${Math.round((Date.now() - started) / 1000)} s`);
    if (apply.code !== 0) throw new Error(`kubeadm upgrade apply failed:\n${cp.log("kubeadm-upgrade", 60)}`);
    for (const c of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
      expect(cp.root.read(`/etc/kubernetes/manifests/${c}.yaml`)).toContain(`image: ${IMAGE_REPOSITORY}/${c}:${TO}`);
    }
    const version = await eventually("the API server reporting the new version", 120, async () => {
      const v = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
      return v === TO ? v : undefined;
    });
    expect(version).toBe(TO);
    // the running containers are the new images' (the kubelet replaced the static pods)
    const running = await cp.shOrThrow("ctr -n k8s.io containers list");
    for (const c of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) expect(running.stdout).toContain(`${IMAGE_REPOSITORY}/${c}:${TO}`);
    await installKubelet(cp);
  });

  it("the worker's kubeadm upgrade node and new kubelet bring it back Ready on the new version", async () => {
    const worker = cluster?.nodes.find((n) => n.name === "worker-1");
    if (worker === undefined) throw new Error("no worker");
    await worker.installFile(next.paths.kubeadm, "/usr/bin/kubeadm");
    const upgrade = await worker.sh("kubeadm upgrade node >/var/log/kubeadm-upgrade.log 2>&1", 600_000);
    if (upgrade.code !== 0) throw new Error(`kubeadm upgrade node failed:\n${worker.log("kubeadm-upgrade", 60)}`);
    await installKubelet(worker);
    const nodes = await eventually("both nodes Ready on the new kubelet", 120, async () => {
      const items = (await core.listNode()).items;
      const ok = items.every((n) => n.status?.nodeInfo?.kubeletVersion === TO && (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"));
      return items.length === 2 && ok ? items : undefined;
    });
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(["cp-1", "worker-1"]);
  });
});
