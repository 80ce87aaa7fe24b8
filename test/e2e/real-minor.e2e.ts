/**
 * kubeherd's pets rollout of a MINOR bump on real kubeadm nodes (issue 17): 1 control-plane and 2 worker nodes of a
 * real cluster at v1.33.6 (the v1.34.2 source stamped v1.33.6, test/e2e/README.md says what that proves), their
 * kubeadm, kubelet and kubectl installed with apt from the v1.33 repository and held, a Deployment of real pause
 * containers under a PDB. The stack's pins move to the real v1.34.2 build, and its Kubernetes repository line (with
 * `{minor}`) from the v1.33 repository to the v1.34 one: a real `pulumi up` of index.ts drains each node through the
 * API and runs kubeherd's converge script over real SSH on it: the node's apt source moves to v1.34, apt-get installs
 * the new packages, `kubeadm upgrade apply v1.34.2` on the control-plane node (etcd 3.5.24 to 3.6.5 with it) and
 * `kubeadm upgrade node` on the workers run for real, and `systemctl restart kubelet` restarts the real kubelet.
 * Judged from the API's record of the `up` and from what runs on each node.
 */
import { VersionApi, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sourceFile } from "../../components/versions/repositories";
import { isCall } from "../support/node-root/call-log";
import { IMAGE_REPOSITORY } from "../support/real-nodes/node-images";
import type { RealNode } from "../support/real-nodes/real-node";
import { REAL_REPO_IN_NODE } from "../support/real-nodes/real-packages";
import { realVersions, RealPetsWorld } from "../support/real-nodes/real-pets-world";
import { STAMPED_MINOR_VERSION } from "../support/real-nodes/real-toolchain";
import { KUBERNETES_VERSION } from "../toolchain/kubernetes";
import type { UpRecord } from "../support/world/world";

const log = (line: string) => process.stderr.write(`${line}\n`);
const FROM = STAMPED_MINOR_VERSION; // v1.33.6, stamped
const TO = KUBERNETES_VERSION; // v1.34.2, the real build
const PINS = ["kubeadm", "kubelet", "kubectl", "containerd.io"];
const CONTROL_PLANE = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const PAUSE = `${IMAGE_REPOSITORY}/pause:3.10.1`;
const KUBERNETES_SOURCE = sourceFile("kubernetes");
const repositoryOf = (minor: string) => `file:${REAL_REPO_IN_NODE}/kubernetes/v${minor}/deb/ /`;
const crictl = "crictl --runtime-endpoint unix:///run/containerd/containerd.sock";

/** The pid of the node's running kubelet, as its service manager recorded it. */
async function kubeletPid(node: RealNode): Promise<string> {
  return (await node.shOrThrow("cat /run/kubeherd-units/kubelet.pid")).stdout.trim();
}

/** The images of the containers running on the node, by container name (crictl, from the cri-tools package). */
async function runningImages(node: RealNode): Promise<Map<string, string[]>> {
  const ps = JSON.parse((await node.shOrThrow(`${crictl} ps -o json`)).stdout) as { containers: { imageRef: string; metadata: { name: string } }[] };
  const list = JSON.parse((await node.shOrThrow(`${crictl} images -o json`)).stdout) as { images: { id: string; repoTags: string[] }[] };
  const tags = new Map(list.images.map((i) => [i.id, i.repoTags]));
  return new Map(ps.containers.map((c) => [c.metadata.name, tags.get(c.imageRef) ?? [c.imageRef]]));
}

describe("kubeherd's pets rollout of a minor bump (1.33 → 1.34) on real kubeadm nodes, 1 control plane + 2 workers", () => {
  let world: RealPetsWorld;
  let adopt: UpRecord;
  let bump: UpRecord;
  let again: UpRecord;
  const sourcesAfterAdopt = new Map<string, string>();
  const etcdBefore: string[] = [];
  const pidsBefore = new Map<string, string>();
  const pidsAfter = new Map<string, string>();
  const restartsDuringBump = new Map<string, number>();

  beforeAll(async () => {
    world = await RealPetsWorld.start({ stack: "real-minor", workers: 2, log, from: FROM, to: TO });
    await world.workloads.deployment("web", 3, {
      terminationGracePeriodSeconds: 5,
      containers: [{ name: "app", image: PAUSE, imagePullPolicy: "Never", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
    });
    await world.workloads.pdb("web", "web", { maxUnavailable: 1 });
    await world.workloads.waitReady("deployment", "web", 3, 180_000);
    await world.workloads.waitPdb("web");
    adopt = await world.up(realVersions(FROM));
    log(`adopting up: ${adopt.report.result} ${adopt.report.error ?? ""}`);
    etcdBefore.push(...((await runningImages(world.node("cp-1"))).get("etcd") ?? []));
    for (const n of world.cluster.nodes) {
      sourcesAfterAdopt.set(n.name, n.root.read(KUBERNETES_SOURCE));
      n.root.clearCalls();
      pidsBefore.set(n.name, await kubeletPid(n));
    }
    bump = await world.up(realVersions(TO));
    log(`bump up: ${bump.report.result} ${bump.report.error ?? ""}`);
    for (const n of world.cluster.nodes) {
      pidsAfter.set(n.name, await kubeletPid(n));
      restartsDuringBump.set(n.name, n.root.calls().filter(isCall("systemctl", "restart", "kubelet")).length);
      n.root.clearCalls();
    }
    again = await world.up(realVersions(TO));
  }, 3_600_000);

  afterAll(async () => {
    await world?.stop();
  }, 180_000);

  it("adopts the v1.33.6 cluster on its pins without draining a node, the nodes' apt source on the v1.33 repository", async () => {
    expect(adopt.report.error).toBeUndefined();
    expect(adopt.report.result).toBe("succeeded");
    expect(adopt.record.cordonOrder()).toEqual([]);
    for (const n of world.cluster.nodes) expect(sourcesAfterAdopt.get(n.name), n.name).toContain(repositoryOf("1.33"));
    // kubeadm's table for 1.33 (the stamped version's minor) gave the cluster etcd 3.5.24
    expect(etcdBefore).toContain(`${IMAGE_REPOSITORY}/etcd:3.5.24-0`);
  });

  it("rolls the control plane first, then the workers, one node at a time", () => {
    expect(bump.report.error).toBeUndefined();
    expect(bump.report.result).toBe("succeeded");
    expect(bump.record.cordonOrder()).toEqual(["cp-1", ...world.workerNames]);
    expect(bump.record.maxUnschedulable().count).toBe(1);
  });

  it("keeps the Deployment of real containers within its PDB and brings it back", async () => {
    expect(bump.record.pdbViolations()).toEqual([]);
    expect(bump.record.minReady({ app: "web" })).toBeGreaterThanOrEqual(2);
    expect(await world.workloads.ready("deployment", "web")).toBe(3);
  });

  it("kubeadm upgrade apply moved the control plane's static pods and etcd to v1.34's images, and they run", async () => {
    const cp = world.node("cp-1");
    for (const c of CONTROL_PLANE) expect(cp.root.read(`/etc/kubernetes/manifests/${c}.yaml`), c).toContain(`image: ${IMAGE_REPOSITORY}/${c}:${TO}`);
    // etcd follows kubeadm 1.34's table: 3.5.24 to 3.6.5
    expect(cp.root.read("/etc/kubernetes/manifests/etcd.yaml")).toContain(`image: ${IMAGE_REPOSITORY}/etcd:3.6.5-0`);
    const running = await runningImages(cp);
    for (const c of CONTROL_PLANE) expect(running.get(c), c).toContain(`${IMAGE_REPOSITORY}/${c}:${TO}`);
    expect(running.get("etcd")).toContain(`${IMAGE_REPOSITORY}/etcd:3.6.5-0`);
    const kc = new KubeConfig();
    kc.loadFromString(world.adminKubeconfig);
    expect((await kc.makeApiClient(VersionApi).getCode()).gitVersion).toBe(TO);
    // the cluster's own record of its version, which `upgrade apply` writes and `upgrade node` reads
    const config = (await cp.shOrThrow("kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}'")).stdout;
    expect(config).toContain(`kubernetesVersion: ${TO}`);
    // kubeadm's own backups of what it replaced, which only `upgrade apply` makes: the manifests, and etcd's data
    // before its upgrade
    const tmp = (await cp.shOrThrow("ls /etc/kubernetes/tmp")).stdout;
    expect(tmp).toMatch(/kubeadm-backup-manifests-/);
    expect(tmp).toMatch(/kubeadm-backup-etcd-/);
    // kubeherd's own snapshot before the upgrade, taken by the etcdctl of the etcd container (no etcdctl on a kubeadm
    // host): a bbolt database (its meta page's magic 0xED0CDAED), not a stand-in's few bytes
    const snapshots = (await cp.shOrThrow("ls /var/lib/kubeherd/etcd-snapshots")).stdout.split("\n").filter(Boolean);
    expect(snapshots).toEqual([expect.stringMatching(new RegExp(`^kubeherd-etcd-.*-${FROM}-to-${TO}\\.db$`))]);
    const snapshot = `/var/lib/kubeherd/etcd-snapshots/${snapshots[0]}`;
    expect(Number((await cp.shOrThrow(`stat -c %s ${snapshot}`)).stdout.trim())).toBeGreaterThan(100_000);
    expect((await cp.shOrThrow(`od -An -tx1 -j16 -N4 ${snapshot}`)).stdout.trim()).toBe("ed da 0c ed");
  });

  it("ran kubeadm upgrade node on the workers and never upgrade apply", async () => {
    for (const w of world.workerNames) {
      const tmp = (await world.node(w).shOrThrow("ls /etc/kubernetes/tmp 2>/dev/null || true")).stdout;
      expect(tmp, w).not.toMatch(/kubeadm-backup-manifests-/);
      // `upgrade node` backs up the kubelet's configuration before it writes the new one
      expect(tmp, w).toMatch(/kubeadm-kubelet-config/);
    }
  });

  it("leaves every node on the v1.34 packages, held, its apt source moved to the v1.34 repository", () => {
    const want = Object.fromEntries(PINS.map((p) => [p, realVersions(TO)[p]]));
    for (const n of world.cluster.nodes) {
      expect(n.root.versions(PINS), n.name).toEqual(want);
      expect(n.root.held(), n.name).toEqual(expect.arrayContaining(PINS));
      const source = n.root.read(KUBERNETES_SOURCE);
      expect(source, n.name).toContain(repositoryOf("1.34"));
      expect(source, n.name).not.toContain("v1.33");
    }
  });

  it("restarted every real kubelet once through systemctl, on the v1.34.2 binary", async () => {
    for (const n of world.cluster.nodes) {
      expect(restartsDuringBump.get(n.name), n.name).toBe(1);
      expect(pidsAfter.get(n.name), n.name).not.toBe(pidsBefore.get(n.name));
      const version = (await n.shOrThrow(`/proc/${pidsAfter.get(n.name)}/exe --version`)).stdout.trim();
      expect(version, n.name).toBe(`Kubernetes ${TO}`);
    }
  });

  it("brings every Node back Ready on kubelet v1.34.2 and uncordoned", () => {
    const last = bump.record.lastNodes();
    for (const name of ["cp-1", ...world.workerNames]) {
      expect(last.get(name), name).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: TO });
    }
  });

  it("changes nothing on a second up", () => {
    expect(again.report.result).toBe("succeeded");
    expect(again.record.cordonOrder()).toEqual([]);
    // "read" is the program's StackReference to the stack's own rolledOut (the transition gate reads it every up)
    expect(Object.keys(again.report.resourceChanges).filter((k) => k !== "same" && k !== "read")).toEqual([]);
    for (const n of world.cluster.nodes) expect(n.root.calls().filter(isCall("systemctl", "restart")), n.name).toEqual([]);
  });
});
