/**
 * kubeherd's own pets rollout on real kubeadm nodes (issue 17): 1 control-plane and 2 worker nodes of a real cluster
 * at v1.34.2, their kubeadm, kubelet, kubectl and containerd.io installed with apt from the real-node packages and
 * held, a Deployment of real pause containers under a PDB. The stack's pins move to 1.34.3 (the same source stamped,
 * test/e2e/README.md says what that proves) and a real `pulumi up` of index.ts drains each node through the API and
 * runs kubeherd's converge script over real SSH on it: apt-get installs the new packages, `kubeadm upgrade apply` on
 * the control-plane node and `kubeadm upgrade node` on the workers run for real, and `systemctl restart kubelet`
 * restarts the real kubelet. Judged from the API's record of the `up` and from what runs on each node.
 */
import { VersionApi, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCall } from "../support/node-root/call-log";
import { IMAGE_REPOSITORY } from "../support/real-nodes/node-images";
import type { RealNode } from "../support/real-nodes/real-node";
import { realVersions, RealPetsWorld } from "../support/real-nodes/real-pets-world";
import type { UpRecord } from "../support/world/world";

const log = (line: string) => process.stderr.write(`${line}\n`);
const FROM = "v1.34.2";
const TO = "v1.34.3";
const PINS = ["kubeadm", "kubelet", "kubectl", "containerd.io"];
const CONTROL_PLANE = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const PAUSE = `${IMAGE_REPOSITORY}/pause:3.10.1`;

/** The pid of the node's running kubelet, as its service manager recorded it. */
async function kubeletPid(node: RealNode): Promise<string> {
  return (await node.shOrThrow("cat /run/kubeherd-units/kubelet.pid")).stdout.trim();
}

describe("kubeherd's pets rollout of a patch bump on real kubeadm nodes, 1 control plane + 2 workers", () => {
  let world: RealPetsWorld;
  let adopt: UpRecord;
  let failed: UpRecord;
  let bump: UpRecord;
  const workerPackagesAfterFailure = new Map<string, Record<string, string>>();
  let cpManifestAfterFailure = "";
  let again: UpRecord;
  const pidsBefore = new Map<string, string>();
  const pidsAfter = new Map<string, string>();
  const restartsDuringBump = new Map<string, number>();

  beforeAll(async () => {
    world = await RealPetsWorld.start({ stack: "real-pets", workers: 2, log });
    await world.workloads.deployment("web", 3, {
      terminationGracePeriodSeconds: 5,
      containers: [{ name: "app", image: PAUSE, imagePullPolicy: "Never", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
    });
    await world.workloads.pdb("web", "web", { maxUnavailable: 1 });
    await world.workloads.waitReady("deployment", "web", 3, 180_000);
    await world.workloads.waitPdb("web");
    adopt = await world.up(realVersions(FROM));
    log(`adopting up: ${adopt.report.result} ${adopt.report.error ?? ""}`);
    for (const n of world.cluster.nodes) {
      n.root.clearCalls();
      pidsBefore.set(n.name, await kubeletPid(n));
    }
    // the registry lacks the new API server image: kubeadm's own preflight on cp-1 fails the first bump
    const apiserver = `${IMAGE_REPOSITORY}/kube-apiserver:${TO}`;
    await world.node("cp-1").shOrThrow(`ctr -n k8s.io images rm ${apiserver}`);
    failed = await world.up(realVersions(TO));
    log(`failing up: ${failed.report.result} ${failed.report.error ?? ""}`);
    for (const w of world.workerNames) workerPackagesAfterFailure.set(w, world.node(w).root.versions(PINS));
    cpManifestAfterFailure = world.node("cp-1").root.read("/etc/kubernetes/manifests/kube-apiserver.yaml");
    // fixed: the image is there again; the next up resumes
    const archive = world.nextImages.archives[apiserver];
    if (archive === undefined) throw new Error(`no archive of ${apiserver}`);
    await world.node("cp-1").importImage(archive);
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

  it("adopts the cluster on its pins without draining a node", () => {
    expect(adopt.report.error).toBeUndefined();
    expect(adopt.report.result).toBe("succeeded");
    expect(adopt.record.cordonOrder()).toEqual([]);
  });

  it("stops the bump at the control-plane node whose kubeadm preflight fails, naming the node and kubeadm's message", () => {
    expect(failed.report.result).toBe("failed");
    expect(failed.report.error).toContain("control-plane-cp-1");
    expect(failed.report.error).toContain(`[ERROR ImagePull]: failed to pull image ${IMAGE_REPOSITORY}/kube-apiserver:${TO}`);
    // drained, not converged, and nothing after it touched
    expect(failed.record.cordonOrder()).toEqual(["cp-1"]);
    expect(cpManifestAfterFailure).toContain(`image: ${IMAGE_REPOSITORY}/kube-apiserver:${FROM}`);
    for (const w of world.workerNames) expect(workerPackagesAfterFailure.get(w), w).toEqual(Object.fromEntries(PINS.map((p) => [p, realVersions(FROM)[p]])));
  });

  it("resumes at that node once it is fixed, then rolls the workers, one node at a time", () => {
    expect(bump.report.error).toBeUndefined();
    expect(bump.report.result).toBe("succeeded");
    // cp-1 was still cordoned from the failed up: its drain and convergence resume, then the workers in order
    expect([...failed.record.cordonOrder(), ...bump.record.cordonOrder()]).toEqual(["cp-1", ...world.workerNames]);
    expect(failed.record.maxUnschedulable().count).toBe(1);
    expect(bump.record.maxUnschedulable().count).toBe(1);
  });

  it("keeps the Deployment of real containers within its PDB and brings it back", async () => {
    expect(failed.record.pdbViolations()).toEqual([]);
    expect(bump.record.pdbViolations()).toEqual([]);
    expect(bump.record.minReady({ app: "web" })).toBeGreaterThanOrEqual(2);
    expect(await world.workloads.ready("deployment", "web")).toBe(3);
  });

  it("kubeadm upgrade apply moved the control plane's static pods to the new images, and they run", async () => {
    const cp = world.node("cp-1");
    for (const c of CONTROL_PLANE) expect(cp.root.read(`/etc/kubernetes/manifests/${c}.yaml`), c).toContain(`image: ${IMAGE_REPOSITORY}/${c}:${TO}`);
    // the running containers (crictl, from the cri-tools package) and the names of the images they run
    const crictl = "crictl --runtime-endpoint unix:///run/containerd/containerd.sock";
    const ps = JSON.parse((await cp.shOrThrow(`${crictl} ps -o json`)).stdout) as { containers: { imageRef: string; metadata: { name: string } }[] };
    const list = JSON.parse((await cp.shOrThrow(`${crictl} images -o json`)).stdout) as { images: { id: string; repoTags: string[] }[] };
    const tags = new Map(list.images.map((i) => [i.id, i.repoTags]));
    const running = new Map(ps.containers.map((c) => [c.metadata.name, tags.get(c.imageRef) ?? [c.imageRef]]));
    for (const c of CONTROL_PLANE) expect(running.get(c), c).toContain(`${IMAGE_REPOSITORY}/${c}:${TO}`);
    const kc = new KubeConfig();
    kc.loadFromString(world.adminKubeconfig);
    expect((await kc.makeApiClient(VersionApi).getCode()).gitVersion).toBe(TO);
    // kubeadm's own backup of the manifests it replaced, which only `upgrade apply` makes
    expect((await cp.shOrThrow("ls /etc/kubernetes/tmp")).stdout).toMatch(/kubeadm-backup-manifests-/);
  });

  it("ran kubeadm upgrade node on the workers and never upgrade apply", async () => {
    for (const w of world.workerNames) {
      const node = world.node(w);
      const tmp = (await node.shOrThrow("ls /etc/kubernetes/tmp 2>/dev/null || true")).stdout;
      expect(tmp, w).not.toMatch(/kubeadm-backup-manifests-/);
      // `upgrade node` backs up the kubelet's configuration before it writes the new one
      expect(tmp, w).toMatch(/kubeadm-kubelet-config/);
    }
  });

  it("leaves every node on the new packages, held, containerd.io untouched", () => {
    const want = { ...Object.fromEntries(PINS.map((p) => [p, realVersions(TO)[p]])) };
    for (const n of world.cluster.nodes) {
      expect(n.root.versions(PINS), n.name).toEqual(want);
      expect(n.root.held(), n.name).toEqual(expect.arrayContaining(PINS));
    }
  });

  it("restarted every real kubelet through systemctl, on the new binary", async () => {
    for (const n of world.cluster.nodes) {
      expect(restartsDuringBump.get(n.name), n.name).toBe(1);
      expect(pidsAfter.get(n.name), n.name).not.toBe(pidsBefore.get(n.name));
      const version = (await n.shOrThrow(`/proc/${pidsAfter.get(n.name)}/exe --version`)).stdout.trim();
      expect(version, n.name).toBe(`Kubernetes ${TO}`);
    }
  });

  it("brings every Node back Ready on kubelet v1.34.3 and uncordoned", () => {
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
