/**
 * A journey of two minors in one `pulumi up`, for real: a pets control plane and two pets workers on 1.32 go to
 * 1.34 through 1.33 (`kubeherd:versions.journey`), by kubeherd's own program over real SSH while its hooks drain the
 * nodes of the real control plane: the control plane through 1.33 and 1.34 first, then the workers one minor at a
 * time (kubelets of 1.32 may talk to a 1.34 API server: the skew policy lets them wait). Judged from the API's record
 * of the `up` and from each node's own dpkg state; then a second `up` changes nothing on any node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCall } from "../support/node-root/call-log";
import { KUBEADM_FLAGS } from "../support/node-root/host-standins";
import { World, type UpRecord } from "../support/world/world";

const WORKERS = ["w-1", "w-2"];
const PINS = ["kubeadm", "kubelet", "kubectl"];
const kube = (release: string) => ({ kubernetes: release, kubeadm: `${release}-1.1`, kubelet: `${release}-1.1`, kubectl: `${release}-1.1` });
const START = { ...kube("1.32.9"), runtime: "containerd", "containerd.io": "1.7.27-1" };
const TARGET = { ...START, ...kube("1.34.2"), journey: [kube("1.33.5")] };
/** What kubeadm 1.32 left on a containerd node: the kubelet's runtime endpoint (a kubelet 1.24+ has no dockershim). */
const CONTAINERD_FLAGS = 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"\n';

describe("a journey 1.32 -> 1.34 on 1 control-plane and 2 worker pets nodes, in one pulumi up", () => {
  let world: World;
  let adopt: UpRecord;
  let journey: UpRecord;
  let again: UpRecord;
  let callsDuringAgain: Record<string, number>;

  beforeAll(async () => {
    world = await World.start({
      stack: "journey",
      release: "22.04",
      versions: START,
      prepare: (node) => node.root.write(KUBEADM_FLAGS, CONTAINERD_FLAGS),
      pets: [
        { name: "control-plane", role: "control-plane", nodes: ["cp-1"] },
        { name: "workers", role: "worker", nodes: WORKERS },
      ],
    });
    await world.workloads.deployment("web", 2);
    await world.workloads.pdb("web", "web", { maxUnavailable: 1 });
    await world.workloads.waitReady("deployment", "web", 2);
    await world.workloads.waitPdb("web");
    adopt = await world.up(START);
    for (const n of world.nodes.values()) n.root.clearCalls();
    journey = await world.up(TARGET);
    const before = new Map([...world.nodes].map(([name, n]) => [name, n.root.calls().length]));
    again = await world.up(TARGET);
    callsDuringAgain = Object.fromEntries([...world.nodes].map(([name, n]) => [name, n.root.calls().length - (before.get(name) ?? 0)]));
  }, 2_400_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("adopts the cluster on 1.32 without draining a node", () => {
    expect(adopt.report.result).toBe("succeeded");
    expect(adopt.record.cordonOrder()).toEqual([]);
  });

  it("walks the stages in order: the control plane to 1.33 and 1.34, then each worker to 1.33, then each to 1.34", () => {
    expect(journey.report.error).toBeUndefined();
    expect(journey.report.result).toBe("succeeded");
    expect(journey.record.cordonOrder()).toEqual(["cp-1", "cp-1", ...WORKERS, ...WORKERS]);
  });

  it("never has two nodes out at once", () => {
    expect(journey.record.maxUnschedulable().count).toBe(1);
    expect(journey.record.pdbViolations()).toEqual([]);
  });

  it("applies each minor on the control plane in turn, each with that minor's kubeadm, and upgrade node on the workers per minor", () => {
    const cp = world.node("cp-1").root.calls();
    expect(cp.filter(isCall("kubeadm", "upgrade", "apply")).map((c) => `${c.version} ${c.args.join(" ")}`)).toEqual([
      expect.stringMatching(/^1\.33\.5-1\.1 upgrade apply -y v1\.33\.5/),
      expect.stringMatching(/^1\.34\.2-1\.1 upgrade apply -y v1\.34\.2/),
    ]);
    for (const w of WORKERS) {
      const calls = world.node(w).root.calls();
      expect(calls.filter(isCall("kubeadm", "upgrade", "node")).map((c) => c.version), w).toEqual(["1.33.5-1.1", "1.34.2-1.1"]);
      expect(calls.some(isCall("kubeadm", "upgrade", "apply")), w).toBe(false);
    }
  });

  it("leaves every node on the target pins, held, and every Node Ready on v1.34.2 and uncordoned", () => {
    for (const n of world.nodes.values()) {
      expect(n.root.versions(PINS), n.name).toEqual({ kubeadm: "1.34.2-1.1", kubelet: "1.34.2-1.1", kubectl: "1.34.2-1.1" });
      expect(n.root.held(), n.name).toEqual(expect.arrayContaining(PINS));
    }
    const last = journey.record.lastNodes();
    for (const name of ["cp-1", ...WORKERS]) expect(last.get(name), name).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: "v1.34.2" });
  });

  it("changes nothing on any node on the next up: it only deletes the stage resources, which runs nothing", () => {
    expect(again.report.result).toBe("succeeded");
    expect(again.record.cordonOrder()).toEqual([]);
    // Deleted: the stage resources and the journey's gates; created: the three batch gates under their usual names
    // (engine bookkeeping, no provider). Nothing updated or replaced, and nothing ran on a node.
    const { same: _same, read: _read, delete: deleted, create: created, ...rest } = again.report.resourceChanges;
    expect(rest).toEqual({});
    expect(created).toBe(3);
    expect(deleted).toBeGreaterThanOrEqual(3);
    expect(callsDuringAgain).toEqual({ "cp-1": 0, "w-1": 0, "w-2": 0 });
  });
});

describe("a journey that fails at its second stage, and the up that resumes it", () => {
  let world: World;
  let failed: UpRecord;
  let resumed: UpRecord;
  let workersAfterFailure: Record<string, string>;

  beforeAll(async () => {
    world = await World.start({
      stack: "journey-resume",
      release: "22.04",
      versions: START,
      prepare: (node) => node.root.write(KUBEADM_FLAGS, CONTAINERD_FLAGS),
      pets: [
        { name: "control-plane", role: "control-plane", nodes: ["cp-1"] },
        { name: "workers", role: "worker", nodes: WORKERS },
      ],
    });
    await world.up(START);
    for (const n of world.nodes.values()) n.root.clearCalls();
    // kubeadm upgrade apply of 1.34 (stage 2) fails once on cp-1, after stage 1 took it to 1.33.
    world.node("cp-1").root.failOnce("kubeadm", "v1.34.2");
    failed = await world.up(TARGET);
    workersAfterFailure = Object.fromEntries(WORKERS.map((w) => [w, world.node(w).root.versions(["kubelet"]).kubelet ?? ""]));
    resumed = await world.up(TARGET);
  }, 2_400_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("stops at stage 2, naming the node's stage resource, with no worker taken out", () => {
    expect(failed.report.result).toBe("failed");
    expect(failed.report.output).toContain("control-plane-cp-1");
    expect(failed.record.cordonOrder()).toEqual(["cp-1", "cp-1"]);
    expect(workersAfterFailure).toEqual({ "w-1": "1.32.9-1.1", "w-2": "1.32.9-1.1" });
  });

  it("resumes at stage 2: stage 1 is not run again, and the journey completes", () => {
    expect(resumed.report.error).toBeUndefined();
    expect(resumed.report.result).toBe("succeeded");
    // cp-1 is still cordoned by kubeherd from the failed stage: drained again without a new cordon, then back.
    expect(resumed.record.cordonOrder()).toEqual([...WORKERS, ...WORKERS]);
    expect(resumed.record.maxUnschedulable().count).toBe(1);
    expect(resumed.record.lastNodes().get("cp-1")).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: "v1.34.2" });
    const applies = world.node("cp-1").root.calls().filter(isCall("kubeadm", "upgrade", "apply")).map((c) => c.args.find((a) => a.startsWith("v")));
    // v1.33.5 once (stage 1, in the failed up); v1.34.2 twice: the injected failure, then the resumed stage 2.
    expect(applies).toEqual(["v1.33.5", "v1.34.2", "v1.34.2"]);
    for (const n of world.nodes.values()) expect(n.root.versions(PINS), n.name).toEqual({ kubeadm: "1.34.2-1.1", kubelet: "1.34.2-1.1", kubectl: "1.34.2-1.1" });
  });
});
