/**
 * `pulumi up` walks a journey: GIVEN the dev stack (a pets control plane, a cattle worker pool, a pets worker pool)
 * whose own `rolledOut` says 1.31, and a config for 1.34 with the releases of 1.32 and 1.33, WHEN index.ts runs under
 * Pulumi's mocks, THEN it declares every stage in order, each pets node one converge command per stage it takes part
 * in with exactly the script the plan's JSON shows for that step, the cattle pool replaced once in its stage, and a
 * gate chain that runs through the stages in the plan's batch order.
 */
import type { Output } from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { rolledOutOf } from "../../components/promotion/rolled-out";
import { planJourneyRollout } from "../../components/rollout/journey-plan";
import { rootCommand } from "../../components/rollout/nodes";
import { planJourney } from "../../components/versions/journey";
import { deployedOfConfig } from "../../components/versions/transition";
import { settle, useMocks, valueOf, type Registration } from "../support/fixtures/mocks";
import { DEV_SECRETS, devStackWith, devConfig } from "../support/fixtures/dev-stack";

type Program = () => Promise<Record<string, unknown>>;
const kube = (release: string) => ({ kubernetes: release, kubeadm: `${release}-1.1`, kubelet: `${release}-1.1`, kubectl: `${release}-1.1` });
const TARGET = { ...kube("1.34.2"), journey: [kube("1.32.9"), kube("1.33.5")] };

const withVersions = (config: KubeherdConfig, versions: Record<string, unknown>): KubeherdConfig => ({ ...config, versions: { ...config.versions, ...versions } as KubeherdConfig["versions"] });


async function runProgram(versions: Record<string, unknown>, rolledOut: ReturnType<typeof rolledOutOf>) {
  const registered = useMocks("dev", devStackWith(versions), Object.keys(DEV_SECRETS), { "acme/kubeherd/dev": { rolledOut } });
  vi.resetModules();
  const program = ((await import("../../index")) as unknown as { default: Program }).default;
  const exports = await program();
  await valueOf(exports.rolledOut as Output<unknown>);
  await settle();
  return { registered, exports };
}

const NODE_TYPES = ["command:remote:Command", "aws:ec2/instance:Instance"];

/** Each node resource's batch, read from the gate chain alone: one more than the batch of the gate it depends on. */
function batchesOf(registered: Registration[]): Map<string, number> {
  const gates = new Map(registered.filter((r) => r.type === "pulumi:index:Stash").map((g) => [g.urn, (g.inputs.input as { batch: number }).batch]));
  const out = new Map<string, number>();
  for (const r of registered.filter((x) => NODE_TYPES.includes(x.type))) {
    const gate = r.dependencies.filter((d) => gates.has(d));
    expect(gate.length, `${r.name} depends on one gate at most`).toBeLessThanOrEqual(1);
    out.set(r.name, gate.length ? (gates.get(gate[0]) as number) + 1 : 1);
  }
  return out;
}

describe("pulumi up on a journey 1.31 -> 1.34 (pets control plane, cattle workers, pets storage)", () => {
  const rolled = withVersions(devConfig(), kube("1.31.4"));
  const target = withVersions(devConfig(), TARGET);
  const journey = planJourney(deployedOfConfig(rolled), target).journey;
  if (!journey) throw new Error("no journey");
  const plan = planJourneyRollout({ stack: "dev", base: rolled, target, region: "eu-west-1", journey });

  it("declares one converge command per pets node per stage, each with exactly the plan's script for that step", async () => {
    const { registered } = await runProgram(TARGET, rolledOutOf(rolled));
    const commands = registered.filter((r) => r.type === "command:remote:Command");
    const runs = plan.steps.filter((s) => s.action === "run");
    expect(runs.map((s) => `${s.stage} ${s.node}`)).toEqual([
      "1 dev-cp-1", "2 dev-cp-1", "3 dev-cp-1", "4 dev-storage-1", "5 dev-storage-1", "6 dev-storage-1",
    ]);
    expect(commands.map((c) => c.name).sort()).toEqual([
      "control-plane-dev-cp-1", "control-plane-dev-cp-1-to-1-32", "control-plane-dev-cp-1-to-1-33",
      "storage-dev-storage-1", "storage-dev-storage-1-to-1-32", "storage-dev-storage-1-to-1-33",
    ]);
    const batches = batchesOf(registered);
    for (const step of runs) {
      const minor = plan.stages?.find((s) => s.number === step.stage)?.minor as string;
      const own = `${step.pool}-${step.node}`;
      // The node's last stage is its own command (unchanged by the next up); the others are stage resources.
      const name = runs.filter((s) => s.node === step.node).at(-1) === step ? own : `${own}-to-${minor.replace(".", "-")}`;
      const command = commands.find((c) => c.name === name);
      expect(command?.inputs.create, name).toBe(rootCommand(step.script as string, "ubuntu"));
      expect(batches.get(name), name).toBe(step.batch);
    }
    // The control plane applies each minor in turn, each with that minor's kubeadm from that minor's repository line.
    const cp = runs.filter((s) => s.pool === "control-plane").map((s) => s.script ?? "");
    expect(cp.map((s) => /^kubeadm_upgrade_apply '(\S+)'$/m.exec(s)?.[1])).toEqual(["v1.32.9", "v1.33.5", "v1.34.2"]);
    expect(cp.map((s) => /^install_pins 'kubeadm' '(\S+)'$/m.exec(s)?.[1])).toEqual(["1.32.9-1.1", "1.33.5-1.1", "1.34.2-1.1"]);
    expect(cp.map((s) => /stable:\/v(1\.\d+)\/deb/.exec(s)?.[1])).toEqual(["1.32", "1.33", "1.34"]);
  });

  it("replaces the cattle pool once, in its stage, at the target, and runs the gate chain through the stages in plan order", async () => {
    const { registered } = await runProgram(TARGET, rolledOutOf(rolled));
    const batches = batchesOf(registered);
    const launches = plan.steps.filter((s) => s.action === "launch");
    expect(launches.map((s) => `${s.stage} ${s.node}`)).toEqual(["6 workers-0", "6 workers-1"]);
    for (const step of launches) expect(batches.get(step.node), step.node).toBe(step.batch);
    expect(registered.filter((r) => r.type === "aws:ec2/instance:Instance").map((r) => r.name)).toEqual(["workers-0", "workers-1"]);
    // Every batch of the plan is one link of the chain, in order, and nothing else is.
    expect([...new Set(batches.values())].sort((a, b) => a - b)).toEqual([...new Set(plan.steps.map((s) => s.batch))].sort((a, b) => a - b));
  });

  it("records the stages it passed through in rolledOut, and declares no stage resource once the journey is rolled out", async () => {
    const first = await runProgram(TARGET, rolledOutOf(rolled));
    const out = await valueOf(first.exports.rolledOut as Output<ReturnType<typeof rolledOutOf>>);
    expect(out.kubernetes).toBe("1.34.2");
    expect(out.passed?.map((r) => r.kubernetes)).toEqual(["1.31.4", "1.32.9", "1.33.5"]);
    const { registered } = await runProgram(TARGET, out);
    const commands = registered.filter((r) => r.type === "command:remote:Command");
    expect(commands.map((c) => c.name).sort()).toEqual(["control-plane-dev-cp-1", "storage-dev-storage-1"]);
    // The pets commands bind no delete hook: deleting the stage resources runs nothing and fires nothing.
    for (const c of first.registered.filter((r) => r.type === "command:remote:Command")) {
      expect(c.hooks.beforeDelete).toEqual([]);
      expect(c.hooks.afterDelete).toEqual([]);
      expect(c.inputs.delete).toBeUndefined();
    }
    // The own commands converge to the same scripts and triggers in both runs: the next up changes nothing on a node.
    for (const c of commands) {
      const before = first.registered.find((r) => r.name === c.name);
      expect(c.inputs.create).toBe(before?.inputs.create);
      expect(c.inputs.triggers).toEqual(before?.inputs.triggers);
    }
  });
});
