/**
 * Rollouts that must stop, for real: a PDB that never allows the eviction, a node whose sshd is down, a node whose
 * kubelet never comes back. Each `up` must fail at that node, naming it, with no node after it taken out, and the
 * next `up` must resume there once the cause is gone. Judged from the API's record and the nodes' own state.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTICLE_BUMP, ARTICLE_VERSIONS } from "../support/world/stack-config";
import { World, type UpRecord } from "../support/world/world";

const WORKERS = ["w-1", "w-2", "w-3"];

function petsWorld(stack: string, rollout: Record<string, unknown> = {}): Promise<World> {
  return World.start({
    stack,
    release: "18.04",
    legacy: true,
    versions: ARTICLE_VERSIONS,
    pets: [
      { name: "control-plane", role: "control-plane", nodes: ["cp-1"] },
      { name: "workers", role: "worker", nodes: WORKERS, rollout },
    ],
  });
}

/** The kubelet version each node runs now, from its own dpkg state. */
function kubelets(world: World): Record<string, string> {
  return Object.fromEntries([...world.nodes].map(([name, n]) => [name, n.root.versions(["kubelet"]).kubelet ?? ""]));
}

describe("a PDB that never allows an eviction", () => {
  let world: World;
  let blocked: UpRecord;
  let blockedAt: Record<string, string>;
  let resumed: UpRecord;

  beforeAll(async () => {
    world = await petsWorld("pdb", { drainTimeoutSeconds: 20 });
    // One pod on w-2 whose budget allows no disruption at all.
    await world.workloads.deployment("ledger", 1, { nodeSelector: { "kubernetes.io/hostname": "w-2" } });
    await world.workloads.pdb("ledger", "ledger", { maxUnavailable: 0 });
    await world.workloads.waitReady("deployment", "ledger", 1);
    await world.workloads.waitPdb("ledger");
    await world.up(ARTICLE_VERSIONS);
    blocked = await world.up(ARTICLE_BUMP);
    blockedAt = kubelets(world);
    await world.workloads.relaxPdb("ledger", 1);
    resumed = await world.up(ARTICLE_BUMP);
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("fails the up at that node within its drain timeout, naming the PDB", () => {
    expect(blocked.report.result).toBe("failed");
    expect(blocked.report.error).toMatch(/w-2/);
    expect(blocked.report.error).toMatch(/ledger/);
    expect(blocked.report.error).toMatch(/20 ?s/);
  });

  it("leaves that node cordoned and unconverged, and touches no node after it", () => {
    expect(blocked.record.cordonOrder()).toEqual(["cp-1", "w-1", "w-2"]);
    expect(blocked.record.lastNodes().get("w-2")).toMatchObject({ unschedulable: true, kubeletVersion: "v1.13.2" });
    expect(blockedAt).toEqual({ "cp-1": "1.13.3-00", "w-1": "1.13.3-00", "w-2": "1.13.2-00", "w-3": "1.13.2-00" });
    expect(blocked.record.maxUnschedulable().count).toBe(1);
  });

  it("resumes at that node once the PDB allows, and finishes the rollout", () => {
    expect(resumed.report.error).toBeUndefined();
    expect(resumed.report.result).toBe("succeeded");
    expect(resumed.record.cordonOrder()).toEqual(["w-3"]);
    expect(kubelets(world)).toEqual({ "cp-1": "1.13.3-00", "w-1": "1.13.3-00", "w-2": "1.13.3-00", "w-3": "1.13.3-00" });
    for (const n of ["cp-1", ...WORKERS]) expect(resumed.record.lastNodes().get(n), n).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: "v1.13.3" });
  });
});

describe("a node whose sshd is down", () => {
  let world: World;
  let down: UpRecord;
  let downAt: Record<string, string>;
  let resumed: UpRecord;

  beforeAll(async () => {
    world = await petsWorld("sshd");
    await world.up(ARTICLE_VERSIONS);
    await world.node("w-2").stopSshd();
    down = await world.up(ARTICLE_BUMP);
    downAt = kubelets(world);
    await world.node("w-2").startSshd();
    resumed = await world.up(ARTICLE_BUMP);
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("fails within the SSH connect timeout, naming the node", () => {
    expect(down.report.result).toBe("failed");
    expect(down.report.error).toMatch(/workers-w-2/);
    expect(down.report.error).toMatch(/could not connect|connect/i);
  });

  it("drains no node after it", () => {
    expect(down.record.cordonOrder()).toEqual(["cp-1", "w-1", "w-2"]);
    expect(downAt).toEqual({ "cp-1": "1.13.3-00", "w-1": "1.13.3-00", "w-2": "1.13.2-00", "w-3": "1.13.2-00" });
  });

  it("resumes at that node once sshd is back", () => {
    expect(resumed.report.error).toBeUndefined();
    expect(resumed.report.result).toBe("succeeded");
    expect(resumed.record.cordonOrder()).toEqual(["w-3"]);
    expect(kubelets(world)).toEqual({ "cp-1": "1.13.3-00", "w-1": "1.13.3-00", "w-2": "1.13.3-00", "w-3": "1.13.3-00" });
  });
});

describe("a node whose kubelet never comes back", () => {
  let world: World;
  let broken: UpRecord;
  let again: UpRecord;

  beforeAll(async () => {
    world = await petsWorld("kubelet", { readyTimeoutSeconds: 20 });
    await world.up(ARTICLE_VERSIONS);
    world.node("w-2").breakKubelet();
    broken = await world.up(ARTICLE_BUMP);
    again = await world.up(ARTICLE_BUMP);
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("stops the up at that node, naming it", () => {
    expect(broken.report.result).toBe("failed");
    expect(broken.report.error).toMatch(/w-2/);
    expect(broken.record.cordonOrder()).toEqual(["cp-1", "w-1", "w-2"]);
    expect(broken.record.lastNodes().get("w-2")).toMatchObject({ ready: false });
  });

  it("takes no other node out on the next up", () => {
    expect(again.report.result).toBe("failed");
    expect(again.report.error).toMatch(/w-2/);
    expect(again.record.cordonOrder().filter((n) => n !== "w-2")).toEqual([]);
    expect(again.record.lastNodes().get("w-3")).toMatchObject({ unschedulable: false, kubeletVersion: "v1.13.2" });
    expect(world.node("w-3").root.versions(["kubelet"])).toEqual({ kubelet: "1.13.2-00" });
  });
});
