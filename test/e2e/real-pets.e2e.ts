/**
 * kubeherd's own pets rollout on real kubeadm nodes (issue 17): 1 control-plane and 2 worker nodes of a real cluster
 * at v1.34.2, their kubeadm, kubelet, kubectl and containerd.io installed with apt from the real-node packages and
 * held, a Deployment of real pause containers under a PDB. The stack's pins move to 1.34.3 (the same source stamped,
 * test/e2e/README.md says what that proves) and a real `pulumi up` of index.ts drains each node through the API and
 * runs kubeherd's converge script over real SSH on it: apt-get installs the new packages, `kubeadm upgrade apply` on
 * the control-plane node and `kubeadm upgrade node` on the workers run for real, and `systemctl restart kubelet`
 * restarts the real kubelet. Then an `up` that moves only the containerd.io pin (1.7.24-1 → 1.7.25-1, the same source
 * stamped): each node drained in turn, its containerd restarted through systemctl and nothing else. Judged from the
 * API's record of the `up`s and from what runs on each node.
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
const CONTAINERD_FROM = "1.7.24-1";
const CONTAINERD_TO = "1.7.25-1";
const CRICTL = "crictl --runtime-endpoint unix:///run/containerd/containerd.sock";

/** The pid of the node's running kubelet (or another unit), as its service manager recorded it. */
async function kubeletPid(node: RealNode, unit = "kubelet"): Promise<string> {
  return (await node.shOrThrow(`cat /run/kubeherd-units/${unit}.pid`)).stdout.trim();
}

/** What any kubeadm upgrade leaves on a node: its backups, and the files it writes (with their modification times). */
async function kubeadmTraces(node: RealNode): Promise<string> {
  const files = "/etc/kubernetes/manifests /etc/kubernetes/*.conf /var/lib/kubelet/config.yaml /var/lib/kubelet/kubeadm-flags.env";
  return (await node.shOrThrow(`ls /etc/kubernetes/tmp 2>/dev/null; find ${files} -type f -printf '%p %T@\\n' | sort`)).stdout;
}

/** Each Node's `containerRuntimeVersion` once all report `want`, or as they are after `timeoutMs`. */
async function runtimeVersionsOnceAt(world: RealPetsWorld, want: string, timeoutMs: number): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = (await world.client.list("nodes")).items;
    const seen = new Map(nodes.map((n) => [n.metadata?.name ?? "", n.status?.nodeInfo?.containerRuntimeVersion ?? ""]));
    if ([...seen.values()].every((v) => v === want) || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The runtime each node reported when it was uncordoned (unschedulable turned false) during the record. */
function runtimeAtUncordon(record: UpRecord["record"]): Map<string, string> {
  const out = new Map<string, string>();
  const was = new Map<string, boolean>();
  for (const e of record.entries) {
    if (e.kind !== "node") continue;
    if (was.get(e.node.name) === true && !e.node.unschedulable) out.set(e.node.name, e.node.runtimeVersion);
    was.set(e.node.name, e.node.unschedulable);
  }
  return out;
}

/** The node's running containers (crictl, from the cri-tools package): container name -> id, with their pod names. */
async function runningContainers(node: RealNode): Promise<{ name: string; id: string; pod: string }[]> {
  const ps = JSON.parse((await node.shOrThrow(`${CRICTL} ps --state running -o json`)).stdout) as {
    containers: { id: string; metadata: { name: string }; labels: Record<string, string> }[];
  };
  return ps.containers.map((c) => ({ name: c.metadata.name, id: c.id, pod: c.labels["io.kubernetes.pod.name"] ?? "" }));
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
  const packagesAfterBump = new Map<string, { versions: Record<string, string>; held: string[] }>();
  const restartsAgain = new Map<string, number>();
  // the containerd.io bump alone
  let runtimeBump: UpRecord;
  const before = new Map<string, { containerd: string; kubelet: string; kubeadm: string; staticPods: string[] }>();
  const after = new Map<string, { containerd: string; kubelet: string; kubeadm: string; restarts: (readonly string[])[] }>();
  let runtimeVersions = new Map<string, string>();

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
    for (const n of world.cluster.nodes) packagesAfterBump.set(n.name, { versions: n.root.versions(PINS), held: n.root.held() });
    again = await world.up(realVersions(TO));
    for (const n of world.cluster.nodes) {
      restartsAgain.set(n.name, n.root.calls().filter(isCall("systemctl", "restart")).length);
      const staticPods = n === world.cluster.controlPlane ? (await runningContainers(n)).filter((c) => c.pod.endsWith(`-${n.name}`)).map((c) => `${c.name} ${c.id}`) : [];
      before.set(n.name, { containerd: await kubeletPid(n, "containerd"), kubelet: await kubeletPid(n), kubeadm: await kubeadmTraces(n), staticPods });
      n.root.clearCalls();
    }
    runtimeBump = await world.up(realVersions(TO, CONTAINERD_TO));
    log(`containerd.io bump up: ${runtimeBump.report.result} ${runtimeBump.report.error ?? ""}`);
    for (const n of world.cluster.nodes) {
      const restarts = n.root.calls().filter(isCall("systemctl", "restart")).map((c) => c.args);
      after.set(n.name, { containerd: await kubeletPid(n, "containerd"), kubelet: await kubeletPid(n), kubeadm: await kubeadmTraces(n), restarts });
    }
    // a kubelet reports its runtime's version with its next node status (every 10 s by default)
    runtimeVersions = await runtimeVersionsOnceAt(world, "containerd://1.7.25", 60_000);
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
      expect(packagesAfterBump.get(n.name)?.versions, n.name).toEqual(want);
      expect(packagesAfterBump.get(n.name)?.held, n.name).toEqual(expect.arrayContaining(PINS));
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
    for (const n of world.cluster.nodes) expect(restartsAgain.get(n.name), n.name).toBe(0);
  });

  describe("then an up that moves only the containerd.io pin (1.7.24-1 → 1.7.25-1)", () => {
    it("drains every node in order, one at a time, within the PDB, and brings the Deployment back", async () => {
      expect(runtimeBump.report.error).toBeUndefined();
      expect(runtimeBump.report.result).toBe("succeeded");
      expect(runtimeBump.record.cordonOrder()).toEqual(["cp-1", ...world.workerNames]);
      expect(runtimeBump.record.maxUnschedulable().count).toBe(1);
      expect(runtimeBump.record.pdbViolations()).toEqual([]);
      expect(runtimeBump.record.minReady({ app: "web" })).toBeGreaterThanOrEqual(2);
      expect(await world.workloads.ready("deployment", "web")).toBe(3);
      const last = runtimeBump.record.lastNodes();
      for (const name of ["cp-1", ...world.workerNames]) expect(last.get(name), name).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: TO });
    });

    it("restarted each node's containerd once through systemctl, on the new binary, and nothing else", async () => {
      for (const n of world.cluster.nodes) {
        const was = before.get(n.name);
        const is = after.get(n.name);
        expect(is?.restarts, n.name).toEqual([["restart", "containerd"]]);
        expect(is?.containerd, n.name).not.toBe(was?.containerd);
        const version = (await n.shOrThrow(`/proc/${is?.containerd}/exe --version`)).stdout.trim();
        expect(version, n.name).toMatch(/^containerd containerd\.io 1\.7\.25 /);
        expect(is?.kubelet, `${n.name}: the kubelet's pid`).toBe(was?.kubelet);
        // no kubeadm upgrade ran: no new backup, no file of kubeadm's rewritten
        expect(is?.kubeadm, n.name).toBe(was?.kubeadm);
      }
    });

    it("uncordons each node only once its Node reports containerd 1.7.25, and every Node reports it after", () => {
      const atUncordon = runtimeAtUncordon(runtimeBump.record);
      for (const n of world.cluster.nodes) {
        expect(atUncordon.get(n.name), `${n.name} when uncordoned`).toBe("containerd://1.7.25");
        expect(runtimeVersions.get(n.name), n.name).toBe("containerd://1.7.25");
      }
    });

    it("leaves kubeadm, kubelet and kubectl as they were, containerd.io on its new pin, all held", () => {
      const want = { ...Object.fromEntries(PINS.map((p) => [p, realVersions(TO)[p]])), "containerd.io": CONTAINERD_TO };
      expect(realVersions(TO)["containerd.io"]).toBe(CONTAINERD_FROM);
      for (const n of world.cluster.nodes) {
        expect(n.root.versions(PINS), n.name).toEqual(want);
        expect(n.root.held(), n.name).toEqual(expect.arrayContaining(PINS));
      }
    });

    it("keeps the control plane's static pods running through the runtime's restart (KillMode=process)", async () => {
      const cp = world.cluster.controlPlane;
      const now = (await runningContainers(cp)).filter((c) => c.pod.endsWith(`-${cp.name}`)).map((c) => `${c.name} ${c.id}`);
      for (const c of [...CONTROL_PLANE, "etcd"]) expect(now.some((x) => x.startsWith(`${c} `)), c).toBe(true);
      // the same containers: their shims outlived containerd, as under systemd's KillMode=process
      expect(now.sort()).toEqual([...(before.get(cp.name)?.staticPods ?? [])].sort());
    });

    it("runs the Deployment's pods as real containers after it", async () => {
      const pods = (await world.client.list("pods", { namespace: "shop" })).items.filter((p) => p.metadata?.labels?.app === "web" && !p.metadata.deletionTimestamp);
      expect(pods).toHaveLength(3);
      for (const p of pods) {
        const node = world.node(p.spec?.nodeName ?? "");
        const running = (await runningContainers(node)).filter((c) => c.pod === p.metadata?.name);
        expect(running.map((c) => c.name), `${p.metadata?.name} on ${node.name}`).toEqual(["app"]);
      }
    });
  });
});
