/**
 * The field article's bump, for real: kubelet/kubeadm/kubectl 1.13.2-00 → 1.13.3-00 and docker-ce 18.06.1 →
 * 18.06.2 on one control-plane and three worker pets nodes, by `pulumi up`s of kubeadm's own program whose hooks
 * drain the nodes of the real control plane while each node converges over real SSH, with a Deployment under a
 * PDB and a StatefulSet running. Judged from the API's record of the `up` and from each node's own state.
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONVERGED_TO, ROLLOUT_PENDING } from "../../components/kube/due";
import { CONVERGE_RUNNER } from "../../components/rollout/nodes";
import { isCall } from "../support/node-root/call-log";
import { ARTICLE_BUMP, ARTICLE_VERSIONS } from "../support/world/stack-config";
import { World, type UpRecord } from "../support/world/world";

const WORKERS = ["w-1", "w-2", "w-3"];
const PINS = ["kubeadm", "kubelet", "kubectl", "docker-ce"];

describe("the field article's bump on 1 control-plane and 3 worker pets nodes", () => {
  let world: World;
  let adopt: UpRecord;
  let bump: UpRecord;
  let again: UpRecord;
  let callsDuringAgain: Record<string, number>;

  beforeAll(async () => {
    world = await World.start({
      stack: "article",
      release: "18.04",
      legacy: true,
      // The SSH user may run only the converge runner as root (sudoers/kubeherd), as README "Least rights" sets it up.
      sudo: "converge",
      versions: ARTICLE_VERSIONS,
      pets: [
        { name: "control-plane", role: "control-plane", nodes: ["cp-1"] },
        { name: "workers", role: "worker", nodes: WORKERS },
      ],
    });
    await world.workloads.deployment("web", 3);
    await world.workloads.pdb("web", "web", { maxUnavailable: 1 });
    await world.workloads.statefulSet("db", 3);
    await world.workloads.waitReady("deployment", "web", 3);
    await world.workloads.waitReady("statefulset", "db", 3);
    await world.workloads.waitPdb("web");
    adopt = await world.up(ARTICLE_VERSIONS);
    for (const n of world.nodes.values()) n.root.clearCalls();
    bump = await world.up(ARTICLE_BUMP);
    const before = new Map([...world.nodes].map(([name, n]) => [name, n.root.calls().length]));
    again = await world.up(ARTICLE_BUMP);
    callsDuringAgain = Object.fromEntries([...world.nodes].map(([name, n]) => [name, n.root.calls().length - (before.get(name) ?? 0)]));
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("adopts the cluster on its pins without draining a node", () => {
    expect(adopt.report.error).toBeUndefined();
    expect(adopt.report.result).toBe("succeeded");
    expect(adopt.record.cordonOrder()).toEqual([]);
  });

  it("records on each Node, as Events kubectl describe node shows, that it was drained, converged and uncordoned", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(world.cp.kubeconfig);
    const listed = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.kind=Node,source=kubeherd" });
    // In the order they were written (their etcd revisions), not the list's order of names.
    const events = listed.items.sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion));
    for (const node of ["cp-1", ...WORKERS]) {
      const reasons = events.filter((e) => e.involvedObject.name === node && e.involvedObject.uid === node).map((e) => e.reason);
      // The adopting up took each node over undrained and ran its (idempotent) converge; the bump drained, converged
      // and uncordoned each node once; the second bump changed nothing and recorded nothing.
      // The bump's first drain tainted every node it was due to change (all four) before cp-1 was cordoned.
      expect(reasons, node).toEqual(["KubeherdAdopted", "KubeherdConverged", "KubeherdRolloutPending", "KubeherdDrained", "KubeherdConverged", "KubeherdUncordoned"]);
    }
  });

  it("rolls the bump through the control plane first, then the workers in order", () => {
    expect(bump.report.error).toBeUndefined();
    expect(bump.report.result).toBe("succeeded");
    expect(bump.record.cordonOrder()).toEqual(["cp-1", ...WORKERS]);
  });

  it("never has two nodes unschedulable at once", () => {
    expect(bump.record.maxUnschedulable().count).toBe(1);
  });

  it("never lets the PDB's healthy count fall below what it promises", () => {
    expect(bump.record.pdbViolations()).toEqual([]);
    expect(bump.record.minReady({ app: "web" })).toBeGreaterThanOrEqual(2);
  });

  it("runs kubeadm upgrade apply on the first control-plane node only, and upgrade node on the others", () => {
    const cp = world.node("cp-1").root.calls();
    expect(cp.filter(isCall("kubeadm", "upgrade", "apply")).map((c) => c.args.join(" "))).toEqual([expect.stringContaining("upgrade apply -y v1.13.3")]);
    for (const w of WORKERS) {
      const calls = world.node(w).root.calls();
      expect(calls.some(isCall("kubeadm", "upgrade", "node")), w).toBe(true);
      expect(calls.some(isCall("kubeadm", "upgrade", "apply")), w).toBe(false);
    }
  });

  it("leaves every node on the new pins, held", () => {
    const want = Object.fromEntries(PINS.map((p) => [p, ARTICLE_BUMP[p]]));
    for (const n of world.nodes.values()) {
      expect(n.root.versions(PINS), n.name).toEqual(want);
      expect(n.root.held(), n.name).toEqual(expect.arrayContaining(PINS));
    }
  });

  it("brings every Node back Ready on kubelet v1.13.3 and uncordoned", () => {
    const last = bump.record.lastNodes();
    for (const name of ["cp-1", ...WORKERS]) {
      expect(last.get(name), name).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: "v1.13.3" });
    }
  });

  it("has the workloads back at their ready counts", async () => {
    expect(await world.workloads.ready("deployment", "web")).toBe(3);
    expect(await world.workloads.ready("statefulset", "db")).toBe(3);
  });

  it("takes the rollout's PreferNoSchedule taint off every node with its uncordon, and marks what each converged to", async () => {
    const nodes = (await world.client.list("nodes")).items.filter((n) => ["cp-1", ...WORKERS].includes(n.metadata?.name ?? ""));
    expect(nodes).toHaveLength(4);
    for (const n of nodes) {
      expect((n.spec?.taints ?? []).map((t) => t.key), n.metadata?.name).not.toContain(ROLLOUT_PENDING);
      expect(n.metadata?.annotations?.[CONVERGED_TO], n.metadata?.name).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });

  it("converges every node through the runner, the one command its SSH user may run as root", async () => {
    for (const n of world.nodes.values()) {
      const sudo = await n.root.shOrThrow("sudo -l -U ubuntu");
      expect(sudo.stdout.split("\n").filter((l) => /^\s+\(/.test(l)).map((l) => l.trim()), n.name).toEqual([`(root) NOPASSWD: ${CONVERGE_RUNNER} ""`]);
      // One kept script per converge: the adopting up's and the bump's (the second up ran none).
      const kept = await n.root.shOrThrow("ls /var/log/kubeherd");
      expect(kept.stdout.trim().split("\n").filter((f) => /^converge-.*\.sh$/.test(f)), n.name).toHaveLength(2);
    }
  });

  it("changes nothing on a second up", () => {
    expect(again.report.result).toBe("succeeded");
    expect(again.record.cordonOrder()).toEqual([]);
    // "read" is the program's StackReference to the stack's own rolledOut (the transition gate reads it every up).
    expect(Object.keys(again.report.resourceChanges).filter((k) => k !== "same" && k !== "read")).toEqual([]);
    expect(callsDuringAgain).toEqual({ "cp-1": 0, "w-1": 0, "w-2": 0, "w-3": 0 });
  });
});
