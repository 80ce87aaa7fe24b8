/**
 * kubeherd's cattle rollout on real kubeadm nodes (issue 17): a real cluster's control-plane node at v1.34.2 (a pets
 * pool, its packages from the real apt repository) and a cattle worker pool of two instances that the fake cloud
 * launches as real nodes: each boots its launch template version's exact user data, whose boot script installs the
 * pins with apt from the stack's repository lines, reads the join token from SSM over IMDSv2 and runs the real
 * `kubeadm join`. A Deployment of real pause containers under a PDB runs on them. The pins move to 1.34.3 (the
 * stamped patch, test/e2e/README.md) and a `rolling` bump drains each old instance, terminates it and launches its
 * replacement from the new launch template version, one at a time. Judged from the API's record of each `up` and
 * from what runs on the nodes.
 */
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMAGE_REPOSITORY } from "../support/real-nodes/node-images";
import { RealCattleWorld } from "../support/real-nodes/real-cattle-world";
import type { RealNode } from "../support/real-nodes/real-node";
import { realVersions } from "../support/real-nodes/real-pets-world";
import type { UpRecord } from "../support/world/world";

const log = (line: string) => process.stderr.write(`${line}\n`);
const FROM = "v1.34.2";
const TO = "v1.34.3";
const SIZE = 2;
const PINS = ["kubeadm", "kubelet", "kubectl", "containerd.io"];
const PAUSE = `${IMAGE_REPOSITORY}/pause:3.10.1`;

/** What runs on a node: its kubelet's version (the running process's binary), its dpkg state, its kubeadm files, its app containers. */
interface NodeLook {
  kubelet: string;
  versions: Record<string, string>;
  held: string[];
  flags: string;
  config: string;
  /** The config kubeherd's boot script wrote (the node's containerd runs its own: no systemd here). */
  containerdConfig: string;
  /** Running containers of the Deployment (`app`), as containerd's CRI namespace holds them. */
  appContainers: number;
}

async function look(node: RealNode): Promise<NodeLook> {
  const pid = (await node.shOrThrow("cat /run/kubeherd-units/kubelet.pid")).stdout.trim();
  const kubelet = (await node.shOrThrow(`/proc/${pid}/exe --version`)).stdout.trim();
  const ids = (await node.shOrThrow(`ctr -n k8s.io containers list -q 'labels."io.kubernetes.container.name"==app'`)).stdout.split("\n").filter(Boolean);
  const tasks = (await node.shOrThrow("ctr -n k8s.io tasks list")).stdout.split("\n").filter((l) => /\bRUNNING\b/.test(l)).map((l) => l.split(/\s+/)[0]);
  return {
    kubelet,
    versions: node.root.versions(PINS),
    held: node.root.held(),
    flags: node.root.read("/var/lib/kubelet/kubeadm-flags.env"),
    config: node.root.read("/var/lib/kubelet/config.yaml"),
    containerdConfig: node.root.read("/etc/containerd/config.toml"),
    appContainers: ids.filter((id) => tasks.includes(id)).length,
  };
}

describe("kubeherd's rolling bump of a cattle pool on real nodes: each instance boots its user data and joins with kubeadm", () => {
  let world: RealCattleWorld;
  let first: UpRecord;
  let bump: UpRecord;
  let again: UpRecord;
  let oldNodes: string[] = [];
  let newNodes: string[] = [];
  const looksFirst = new Map<string, NodeLook>();
  const looksBump = new Map<string, NodeLook>();
  let stateAfterBump: string[] = [];
  let oldRoots: string[] = [];
  let runningAfterBump: string[] = [];
  let eventsAfterAgain = 0;
  let eventsBeforeAgain = 0;

  beforeAll(async () => {
    world = await RealCattleWorld.start({ stack: "real-cattle", size: SIZE, log });
    first = await world.up(realVersions(FROM));
    log(`first up: ${first.report.result} ${first.report.error ?? ""}`);
    oldNodes = world.cloud.running().map((i) => i.privateDns.split(".")[0] ?? "").sort();
    for (const n of oldNodes) looksFirst.set(n, await look(world.node(n)).catch(() => ({}) as NodeLook));
    oldRoots = oldNodes.map((n) => world.node(n).root.dir);
    await world.workloads.deployment("web", 2, {
      terminationGracePeriodSeconds: 5,
      containers: [{ name: "app", image: PAUSE, imagePullPolicy: "Never", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
    });
    await world.workloads.pdb("web", "web", { maxUnavailable: 1 });
    await world.workloads.waitReady("deployment", "web", 2, 180_000);
    await world.workloads.waitPdb("web");
    bump = await world.up(realVersions(TO));
    log(`bump up: ${bump.report.result} ${bump.report.error ?? ""}`);
    newNodes = world.cloud.running().map((i) => i.privateDns.split(".")[0] ?? "").sort();
    await world.workloads.waitReady("deployment", "web", 2, 180_000).catch(() => undefined);
    for (const n of newNodes) looksBump.set(n, await look(world.node(n)).catch(() => ({}) as NodeLook));
    stateAfterBump = world.stateInstances();
    runningAfterBump = world.cloud.running().map((i) => i.id).sort();
    eventsBeforeAgain = world.cloud.events.length;
    again = await world.up(realVersions(TO));
    eventsAfterAgain = world.cloud.events.length;
  }, 3_600_000);

  afterAll(async () => {
    await world?.stop();
  }, 180_000);

  it("launches the pool from the launch template: each instance boots its user data and joins Ready on kubelet v1.34.2", () => {
    expect(first.report.error).toBeUndefined();
    expect(first.report.result).toBe("succeeded");
    expect(oldNodes).toHaveLength(SIZE);
    const last = first.record.lastNodes();
    for (const n of oldNodes) {
      expect(last.get(n), n).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: FROM });
      const l = looksFirst.get(n);
      expect(l?.kubelet, n).toBe(`Kubernetes ${FROM}`);
      expect(l?.versions, n).toEqual(Object.fromEntries(PINS.map((p) => [p, realVersions(FROM)[p]])));
      expect(l?.held, n).toEqual(expect.arrayContaining(PINS));
      // written by kubeadm join from the cluster's kubeadm-config and kubelet-config: the image repository's pause
      // image, the cluster's kubelet settings
      expect(l?.flags, n).toContain(`--pod-infra-container-image=${PAUSE}`);
      expect(l?.config, n).toContain("kind: KubeletConfiguration");
      expect(l?.config, n).toContain("cgroupDriver: cgroupfs");
      expect(l?.containerdConfig, n).toContain("SystemdCgroup = true");
    }
  });

  it("boots every instance's user data to its end: the token read from SSM over IMDSv2, a real kubeadm join", () => {
    const launched = [...world.cloud.instances.values()];
    expect(launched).toHaveLength(2 * SIZE);
    for (const i of launched) {
      const boot = world.boots.get(i.id);
      expect(boot?.code, i.id).toBe(0);
      expect(boot?.log, i.id).toContain("reading the join token from SSM parameter");
      expect(boot?.log, i.id).toContain("This node has joined the cluster");
    }
    const aws = world.cloud.endpoints;
    // IMDSv2 at its own address: a session token first, then the role's credentials; one SigV4-checked read per boot
    expect(aws?.imdsRequests.filter((r) => r === "PUT /latest/api/token").length).toBeGreaterThanOrEqual(2 * SIZE);
    expect(aws?.ssmRequests.filter((r) => r.signatureProblem !== undefined)).toEqual([]);
    expect(aws?.accepted).toHaveLength(2 * SIZE);
    expect(new Set(aws?.accepted.map((a) => a.name))).toEqual(new Set(["/kubeherd/e2e/workers/join"]));
  });

  it("replaces every instance with one booted from the new launch template version, joined Ready on kubelet v1.34.3", () => {
    expect(bump.report.error).toBeUndefined();
    expect(bump.report.result).toBe("succeeded");
    expect(newNodes).toHaveLength(SIZE);
    expect(newNodes.filter((n) => oldNodes.includes(n))).toEqual([]);
    const versions = world.cloud.running().map((i) => i.launchTemplate.version);
    expect(versions).toEqual(versions.map(() => 2));
    const last = bump.record.lastNodes();
    for (const n of newNodes) {
      expect(last.get(n), n).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: TO });
      const l = looksBump.get(n);
      expect(l?.kubelet, n).toBe(`Kubernetes ${TO}`);
      expect(l?.versions, n).toEqual(Object.fromEntries(PINS.map((p) => [p, realVersions(TO)[p]])));
      expect(l?.held, n).toEqual(expect.arrayContaining(PINS));
      expect(l?.flags, n).toContain(`--pod-infra-container-image=${PAUSE}`);
      expect(l?.config, n).toContain("kind: KubeletConfiguration");
    }
  });

  it("drains the control plane first, then each old instance before it goes, one at a time, and its Node is gone", () => {
    const [cp, ...rest] = bump.record.cordonOrder();
    expect(cp).toBe("cp-1");
    expect(rest.sort()).toEqual(oldNodes);
    expect(bump.record.maxUnschedulable().count).toBe(1);
    const last = bump.record.lastNodes();
    for (const n of oldNodes) expect(last.has(n), n).toBe(false);
  });

  it("terminates each old instance before its replacement runs", () => {
    const events = world.cloud.events.map((e) => e.what);
    const bumpEvents = events.slice(events.findIndex((e) => e.startsWith("launch template") && e.endsWith("v2")));
    const kinds = bumpEvents.filter((e) => e.startsWith("run ") || e.startsWith("terminate ")).map((e) => e.split(" ")[0]);
    expect(kinds).toEqual(["terminate", "run", "terminate", "run"]);
  });

  it("keeps the Deployment of real containers within its PDB and brings it back on the new nodes", async () => {
    expect(bump.record.pdbViolations()).toEqual([]);
    expect(bump.record.minReady({ app: "web" })).toBeGreaterThanOrEqual(1);
    expect(await world.workloads.ready("deployment", "web")).toBe(2);
    const running = newNodes.reduce((sum, n) => sum + (looksBump.get(n)?.appContainers ?? 0), 0);
    expect(running).toBe(2);
  });

  it("leaves no instance outside the state, and nothing of a terminated instance's node", async () => {
    expect(runningAfterBump).toEqual(stateAfterBump);
    expect(world.cluster.nodes.map((n) => n.name).sort()).toEqual(["cp-1", ...newNodes].sort());
    // namespaces, host interfaces and cgroups of the old nodes (named after them), their roots and any process in one
    const left = (await world.cluster.leftovers()).filter((l) => oldNodes.some((n) => l.includes(n)));
    expect(left).toEqual([]);
    expect(oldRoots).toHaveLength(SIZE);
    for (const r of oldRoots) expect(existsSync(r), r).toBe(false);
    const inOldRoots = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return oldRoots.some((r) => readlinkSync(`/proc/${p}/root`).startsWith(r));
      } catch {
        return false;
      }
    });
    expect(inOldRoots).toEqual([]);
  });

  it("changes nothing on a second up", () => {
    expect(again.report.result).toBe("succeeded");
    expect(again.record.cordonOrder()).toEqual([]);
    expect(Object.keys(again.report.resourceChanges).filter((k) => k !== "same" && k !== "read")).toEqual([]);
    expect(world.cloud.events.slice(eventsBeforeAgain, eventsAfterAgain).map((e) => e.what)).toEqual([]);
  });
});
