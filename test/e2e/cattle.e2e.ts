/**
 * Cattle bumps for real: a worker pool of instances from the fake cloud, each booted from its launch template
 * version's exact user data in a node root (pins installed and held, the join token read from SSM over IMDSv2),
 * joining the real control plane as a Node. A bump replaces them, `rolling` (drain, terminate, launch, one at a
 * time) and `surge` (replacements first, old nodes drained and terminated at the end), with a Deployment under a
 * PDB running. Judged from the API's record of the `up`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTICLE_BUMP, ARTICLE_VERSIONS } from "../support/world/stack-config";
import { World, type UpRecord } from "../support/world/world";

const SUBNETS = ["subnet-0e2e0000000000001", "subnet-0e2e0000000000002"];
/** iam/provider-actions.json: the AWS actions per resource type and operation the deployer policy grants. */
const IAM_TABLE = JSON.parse(readFileSync(join(__dirname, "..", "..", "iam", "provider-actions.json"), "utf8")) as { resources: Record<string, Record<string, string[]>> };

describe.each([
  { strategy: "rolling", size: 2 },
  { strategy: "surge", size: 2 },
])("a $strategy bump of a cattle pool", ({ strategy, size }) => {
  let world: World;
  let first: UpRecord;
  let bump: UpRecord;
  let oldNodes: string[];
  let newNodes: string[];

  beforeAll(async () => {
    world = await World.start({
      stack: `cattle-${strategy}`,
      release: "18.04",
      legacy: true,
      versions: ARTICLE_VERSIONS,
      pets: [{ name: "control-plane", role: "control-plane", nodes: ["cp-1"] }],
      cattle: [{ name: "workers", size, subnets: SUBNETS, rollout: { strategy } }],
    });
    first = await world.up(ARTICLE_VERSIONS);
    oldNodes = (world.cloud?.running() ?? []).map((i) => i.privateDns).sort();
    await world.workloads.deployment("web", 2);
    await world.workloads.pdb("web", "web", { maxUnavailable: 1 });
    await world.workloads.waitReady("deployment", "web", 2);
    await world.workloads.waitPdb("web");
    bump = await world.up(ARTICLE_BUMP);
    newNodes = (world.cloud?.running() ?? []).map((i) => i.privateDns).sort();
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("makes only resource operations whose AWS actions iam/provider-actions.json lists (and so the deployer policy grants)", () => {
    const operations = [...new Set(world.cloud?.operations ?? [])].sort();
    expect(operations).toEqual(expect.arrayContaining(["aws:ec2/instance:Instance create", "aws:ec2/instance:Instance delete", "aws:ec2/launchTemplate:LaunchTemplate create"]));
    const missing = operations.filter((o) => {
      const [type, op] = o.split(" ");
      return (IAM_TABLE.resources[type]?.[op] ?? []).length === 0;
    });
    expect(missing).toEqual([]);
  });

  it("launches the pool's nodes from the launch template, and they join Ready on the pinned kubelet", () => {
    expect(first.report.error).toBeUndefined();
    expect(first.report.result).toBe("succeeded");
    expect(oldNodes).toHaveLength(size);
    for (const n of oldNodes) expect(first.record.lastNodes().get(n), n).toMatchObject({ ready: true, kubeletVersion: "v1.13.2" });
  });

  it("replaces every node with one that joins Ready on the new kubelet", () => {
    expect(bump.report.error).toBeUndefined();
    expect(bump.report.result).toBe("succeeded");
    expect(newNodes).toHaveLength(size);
    expect(newNodes.filter((n) => oldNodes.includes(n))).toEqual([]);
    const last = bump.record.lastNodes();
    for (const n of newNodes) expect(last.get(n), n).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: "v1.13.3" });
  });

  it("drains the control plane first, then each old node before it goes, one at a time, and forgets its Node", () => {
    const [first, ...rest] = bump.record.cordonOrder();
    expect(first).toBe("cp-1");
    expect(rest.sort()).toEqual(oldNodes);
    expect(bump.record.maxUnschedulable().count).toBe(1);
    const last = bump.record.lastNodes();
    for (const n of oldNodes) expect(last.has(n), n).toBe(false);
  });

  it("never lets the PDB's healthy count fall below what it promises", () => {
    expect(bump.record.pdbViolations()).toEqual([]);
    expect(bump.record.minReady({ app: "web" })).toBeGreaterThanOrEqual(1);
  });

  it(strategy === "rolling" ? "takes each old node out before its replacement comes" : "brings every replacement up before any old node goes", () => {
    const events = world.cloud?.events.map((e) => e.what) ?? [];
    const bumpEvents = events.slice(events.findIndex((e) => e.startsWith("launch template") && e.endsWith("v2")));
    const kinds = bumpEvents.filter((e) => e.startsWith("run ") || e.startsWith("terminate ")).map((e) => e.split(" ")[0]);
    expect(kinds).toEqual(strategy === "rolling" ? ["terminate", "run", "terminate", "run"] : ["run", "run", "terminate", "terminate"]);
  });
});
