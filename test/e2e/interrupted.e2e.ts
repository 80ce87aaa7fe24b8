/**
 * Interrupted `pulumi up`s, for real (issue 19 item 2): the `up` of a bump is killed outright (SIGKILL of the
 * program, the CLI and every plugin, nothing cleans up; test/support/local-stack/kill.ts) at a chosen moment, seen
 * in the API, on a node or in the fake cloud; then the user does what README says (`npm run recover -- --stack
 * NAME`, then `pulumi up`). Judged after the second `up`: every node on its pins, none cordoned, never more nodes
 * out at once than the budget (1) in either `up` or in between, no orphaned instance, workloads back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Instance } from "../support/cloud/cloud";
import { CONVERGED_TO, ROLLOUT_PENDING } from "../../components/kube/due";
import { COMMAND, urnName } from "../../components/recover/state";
import { isInstallOf } from "../support/node-root/call-log";
import type { ApiRecorder } from "../support/world/recorder";
import { ARTICLE_BUMP, ARTICLE_VERSIONS } from "../support/world/stack-config";
import { World, type CheckpointResource, type UpRecord } from "../support/world/world";

const WORKERS = ["w-1", "w-2", "w-3"];
const SUBNETS = ["subnet-0e2e0000000000001", "subnet-0e2e0000000000002"];
const BUMPED = { kubelet: "1.13.3-00", kubeadm: "1.13.3-00", kubectl: "1.13.3-00", "docker-ce": "18.06.2~ce~3-0~ubuntu" };

/** Polls `seen` every 100 ms until it holds; the killed `up` ending first is reported by LocalStack. */
async function until(seen: () => boolean | Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    if (await seen()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function petsWorld(stack: string): Promise<World> {
  return World.start({
    stack,
    release: "18.04",
    legacy: true,
    versions: ARTICLE_VERSIONS,
    pets: [
      { name: "control-plane", role: "control-plane", nodes: ["cp-1"] },
      { name: "workers", role: "worker", nodes: WORKERS },
    ],
  });
}

function cattleWorld(stack: string): Promise<World> {
  return World.start({
    stack,
    release: "18.04",
    legacy: true,
    versions: ARTICLE_VERSIONS,
    pets: [{ name: "control-plane", role: "control-plane", nodes: ["cp-1"] }],
    cattle: [{ name: "workers", size: 2, subnets: SUBNETS, rollout: { strategy: "rolling" } }],
  });
}

async function workloads(world: World, replicas: number): Promise<void> {
  await world.workloads.deployment("web", replicas);
  await world.workloads.pdb("web", "web", { maxUnavailable: 1 });
  await world.workloads.waitReady("deployment", "web", replicas);
  await world.workloads.waitPdb("web");
}

const unschedulable = async (world: World, node: string) => (await world.client.get("nodes", node))?.spec?.unschedulable === true;

/** Each pets node's pins as its own dpkg has them. */
function pinsOn(world: World, node: string): Record<string, string> {
  return world.node(node).root.versions(Object.keys(BUMPED));
}

/** What every scenario must show once the second `up` is done. */
async function expectAllBack(world: World, records: ApiRecorder[], second: UpRecord, workers: string[], replicas: number): Promise<void> {
  expect(second.report.error).toBeUndefined();
  expect(second.report.result).toBe("succeeded");
  for (const r of records) expect(r.maxUnschedulable().count).toBeLessThanOrEqual(1);
  for (const r of records) expect(r.pdbViolations()).toEqual([]);
  const nodes = (await world.client.list("nodes")).items;
  expect(nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata?.name)).toEqual([]);
  expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(["cp-1", ...workers].sort());
  for (const n of nodes) expect(n.status?.nodeInfo?.kubeletVersion, n.metadata?.name).toBe("v1.13.3");
  // The rollout's PreferNoSchedule taint goes with the uncordon: none is left once the rollout is done.
  expect(nodes.filter((n) => n.spec?.taints?.some((t) => t.key === ROLLOUT_PENDING)).map((n) => n.metadata?.name)).toEqual([]);
  await world.workloads.waitReady("deployment", "web", replicas, 60_000);
}

/** A pets node's converge command as the state holds it now (the copy in use, not an old one left to delete). */
function converge(world: World, node: string): CheckpointResource | undefined {
  const pool = WORKERS.includes(node) ? "workers" : "control-plane";
  return world.checkpoint()?.resources.find((r) => r.type === COMMAND && urnName(r.urn) === `${pool}-${node}` && !r.delete);
}

/**
 * The pets scenarios of a kill after a node's change was recorded: the world on the first pins, `prepare`, the
 * bump's `up` killed at `moment`, then `between` (what the user does after the kill: npm run recover, maybe twice),
 * then the next `up`. The call logs of `finished` (the nodes whose change the killed up recorded) are kept from
 * after `between` to the end of that `up`, and their converge commands as the state held them before and after it.
 */
async function killRecorded<T>(args: {
  stack: string;
  finished: string[];
  prepare?: (world: World) => void;
  /** `started`: when the killed up started (Date.now()). */
  moment: (world: World, signal: AbortSignal, record: ApiRecorder, started: number) => Promise<void>;
  between: (world: World) => Promise<T>;
}) {
  const world = await petsWorld(args.stack);
  try {
    await workloads(world, 3);
    await world.up(ARTICLE_VERSIONS);
    args.prepare?.(world);
    const started = Date.now();
    const killed = await world.upKilled(ARTICLE_BUMP, (signal, record) => args.moment(world, signal, record, started));
    const after = await args.between(world);
    // Which copy and when it was made and last changed (its inputs carry secrets, whose ciphertext may be redrawn).
    const commands = () => Object.fromEntries(args.finished.map((n) => {
      const c = converge(world, n);
      return [n, c && { id: c.id, created: c.created, modified: c.modified }];
    }));
    const before = commands();
    for (const n of args.finished) world.node(n).root.clearCalls();
    const second = await world.up(ARTICLE_BUMP);
    const calls = Object.fromEntries(args.finished.map((n) => [n, world.node(n).root.calls().map((c) => `${c.cmd} ${c.args.join(" ")}`)]));
    return { world, started, killed, after, second, commands: { before, after: commands() }, calls };
  } catch (err) {
    await world.stop();
    throw err;
  }
}

/** What the killed up's change of a finished node left in the state: its new converge, created by that up. */
function expectRecordedBy(commands: Record<string, Pick<CheckpointResource, "created"> | undefined>, killedAt: number): void {
  for (const [node, c] of Object.entries(commands)) {
    expect(c, node).toBeDefined();
    expect(Date.parse(c?.created ?? ""), node).toBeGreaterThanOrEqual(killedAt);
  }
}

describe("killed while a pets worker drains", () => {
  let world: World;
  let killed: Awaited<ReturnType<World["upKilled"]>>;
  let atKill: { w2: Record<string, string>; w3cordoned: boolean };
  let recovered: Awaited<ReturnType<World["recover"]>>;
  let second: UpRecord;

  beforeAll(async () => {
    world = await petsWorld("kill-drain");
    await workloads(world, 3);
    await world.up(ARTICLE_VERSIONS);
    killed = await world.upKilled(ARTICLE_BUMP, (signal) => until(() => unschedulable(world, "w-2"), signal));
    atKill = { w2: pinsOn(world, "w-2"), w3cordoned: await unschedulable(world, "w-3") };
    recovered = await world.recover();
    second = await world.up(ARTICLE_BUMP);
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("was killed with w-2 cordoned and its converge not started", async () => {
    expect(killed.killed.killed.length).toBeGreaterThan(3);
    expect(killed.record.cordonOrder()).toEqual(["cp-1", "w-1", "w-2"]);
    expect(atKill).toEqual({ w2: Object.fromEntries(Object.keys(BUMPED).map((k) => [k, ARTICLE_VERSIONS[k]])), w3cordoned: false });
  });

  it("recover removes the lock, clears the converge's pending create, and leaves w-2 cordoned for the next up", () => {
    expect(recovered.code, recovered.stderr).toBe(0);
    const lines = recovered.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^done: the stack's lock is removed/);
    expect(lines).toContainEqual(expect.stringMatching(/^cleared: pending create of Command workers-w-2: the converge runs again/));
    expect(lines).toContainEqual(expect.stringMatching(/^left cordoned: node w-2: its change may have started/));
    expect(lines.filter((l) => l.startsWith("not cleared") || l.startsWith("uncordoned"))).toEqual([]);
    expect(lines[lines.length - 1]).toBe("next: pulumi up");
  });

  it("the next up resumes at w-2 and finishes: every node on its pins, none cordoned, never two out", async () => {
    expect(second.record.cordonOrder()).toEqual(["w-3"]);
    for (const n of ["cp-1", ...WORKERS]) expect(pinsOn(world, n), n).toEqual(BUMPED);
    await expectAllBack(world, [killed.record, recovered.record, second.record], second, WORKERS, 3);
  });
});

describe("killed while a pets worker's converge script runs", () => {
  let world: World;
  let killed: Awaited<ReturnType<World["upKilled"]>>;
  let finishedAlone: Record<string, string>;
  let recovered: Awaited<ReturnType<World["recover"]>>;
  let second: UpRecord;
  let reinstalled: string[];

  beforeAll(async () => {
    world = await petsWorld("kill-converge");
    await workloads(world, 3);
    await world.up(ARTICLE_VERSIONS);
    const w2 = world.node("w-2").root;
    // The moment: kubeadm 1.13.3 installed on w-2 (its hold released), kubelet and docker-ce not yet.
    killed = await world.upKilled(ARTICLE_BUMP, (signal) => until(() => w2.calls().some((c) => isInstallOf("kubeadm")(c) && c.version === "1.13.3-00"), signal));
    // The script the kill cut off from its connection runs to its end on the node, holds included.
    const deadline = Date.now() + 180_000;
    while (pinsOn(world, "w-2").kubelet !== "1.13.3-00" || world.node("w-2").root.held().length < 4) {
      if (Date.now() > deadline) throw new Error(`w-2's converge did not finish after the kill: ${JSON.stringify(pinsOn(world, "w-2"))}, held ${world.node("w-2").root.held().join(",")}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    finishedAlone = pinsOn(world, "w-2");
    w2.clearCalls();
    recovered = await world.recover();
    second = await world.up(ARTICLE_BUMP);
    reinstalled = w2.calls().filter((c) => c.cmd === "postinst").map((c) => `${c.args[0]}=${c.version}`);
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("the converge whose connection died completes on the node, holds and all", () => {
    expect(finishedAlone).toEqual(BUMPED);
    expect(world.node("w-2").root.held()).toEqual(expect.arrayContaining(Object.keys(BUMPED)));
  });

  it("recover clears the pending create and leaves w-2 cordoned, as its change had started", () => {
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout).toMatch(/^cleared: pending create of Command workers-w-2/m);
    expect(recovered.stdout).toMatch(/^left cordoned: node w-2: its change may have started/m);
  });

  it("the next up converges w-2 again without reinstalling anything, and finishes", async () => {
    expect(reinstalled).toEqual([]);
    for (const n of ["cp-1", ...WORKERS]) expect(pinsOn(world, n), n).toEqual(BUMPED);
    await expectAllBack(world, [killed.record, recovered.record, second.record], second, WORKERS, 3);
  });
});

/** A hold on one of the fake cloud's answers (see CloudHolds) that the test lets go once the `up` is dead. */
function hold(): { seen: Promise<Instance>; wait: (i: Instance) => Promise<void>; release: () => void } {
  let seen!: (i: Instance) => void;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const seenP = new Promise<Instance>((r) => (seen = r));
  return { seen: seenP, wait: (i) => (seen(i), released), release };
}

describe("killed while a cattle replacement is being created (the cloud runs it, Pulumi has not recorded it)", () => {
  let world: World;
  let orphan: Instance;
  let killed: Awaited<ReturnType<World["upKilled"]>>;
  let recovered: Awaited<ReturnType<World["recover"]>>;
  let second: UpRecord;

  beforeAll(async () => {
    world = await cattleWorld("kill-create");
    await world.up(ARTICLE_VERSIONS);
    await workloads(world, 2);
    const cloud = world.cloud!;
    const h = hold();
    cloud.holds.run = h.wait;
    killed = await world.upKilled(ARTICLE_BUMP, async (signal) => {
      orphan = await h.seen;
      // Joined and Ready: the instance is a node of the cluster, which the state will never know of.
      await until(async () => (await world.client.get("nodes", orphan.privateDns))?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true, signal);
    });
    cloud.holds = {};
    h.release();
    recovered = await world.recover();
    second = await world.up(ARTICLE_BUMP);
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("recover drains and terminates the instance the state does not hold, and clears its pending create", () => {
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout).toContain(`terminated: instance ${orphan.id} (node workers-0, the create the interrupted up left pending): launched by kubeherd for this stack, not in the state, after draining its Node ${orphan.privateDns}`);
    expect(recovered.stdout).toMatch(/^cleared: pending create of Instance workers-0: no instance of node workers-0 is left/m);
    expect(world.cloud!.instances.get(orphan.id)?.state).toBe("terminated");
  });

  it("the next up launches workers-0 again and finishes: no orphan, every node on its pins, none cordoned", async () => {
    const running = world.cloud!.running();
    expect(running).toHaveLength(2);
    expect(running.map((i) => i.tags["kubeherd:stack"])).toEqual(["kill-create", "kill-create"]);
    await expectAllBack(world, [killed.record, recovered.record, second.record], second, running.map((i) => i.privateDns), 2);
  });
});

describe("killed while an old cattle instance is being terminated", () => {
  let world: World;
  let old: Instance;
  let killed: Awaited<ReturnType<World["upKilled"]>>;
  let recovered: Awaited<ReturnType<World["recover"]>>;
  let second: UpRecord;

  beforeAll(async () => {
    world = await cattleWorld("kill-terminate");
    await world.up(ARTICLE_VERSIONS);
    await workloads(world, 2);
    const cloud = world.cloud!;
    const h = hold();
    cloud.holds.terminate = h.wait;
    killed = await world.upKilled(ARTICLE_BUMP, async () => {
      old = await h.seen;
    });
    cloud.holds = {};
    h.release();
    recovered = await world.recover();
    second = await world.up(ARTICLE_BUMP);
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("recover clears the pending delete, and the refresh drops the terminated instance and its Node", () => {
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout).toMatch(/^cleared: pending delete of Instance workers-0/m);
    expect(recovered.stdout).toContain(`dropped: instance ${old.id} (workers-0): the refresh found it gone; its Node ${old.privateDns} deleted`);
    expect(recovered.stdout).toMatch(/^checked: no instance of this stack outside the state/m);
  });

  it("the next up launches workers-0 and replaces workers-1: no orphan, every node on its pins, none cordoned", async () => {
    const running = world.cloud!.running();
    expect(running).toHaveLength(2);
    expect(running.map((i) => i.id)).not.toContain(old.id);
    await expectAllBack(world, [killed.record, recovered.record, second.record], second, running.map((i) => i.privateDns), 2);
  });
});

describe("killed while a pets worker waits to be Ready after its converge", () => {
  let run: Awaited<ReturnType<typeof killRecorded<{ recovered: Awaited<ReturnType<World["recover"]>>; atKill: { w2: Record<string, string>; cordoned: boolean } }>>>;

  beforeAll(async () => {
    run = await killRecorded({
      stack: "kill-ready",
      finished: ["w-2"],
      // The test sets how long w-2 takes to be Ready after its kubelet restarts: until after the kill.
      prepare: (world) => world.node("w-2").delayReady(),
      // The moment: w-2's converge is over (kubelet restarted on 1.13.3, not Ready yet; every pin held again) and
      // the ready hook waits. The engine records the create only after its afterCreate hook: it is still pending.
      moment: async (world, signal, record) => {
        await record.until((nodes) => nodes.get("w-2")?.kubeletVersion === "v1.13.3" && nodes.get("w-2")?.ready === false, signal);
        await until(() => world.node("w-2").root.held().length >= 4 && (world.checkpoint()?.pending.some((p) => p.type === "creating" && urnName(p.resource.urn) === "workers-w-2") ?? false), signal);
      },
      between: async (world) => {
        const atKill = { w2: pinsOn(world, "w-2"), cordoned: await unschedulable(world, "w-2") };
        const recovered = await world.recover();
        // The kubelet's start completes meanwhile (a real one turns Ready on its own).
        world.node("w-2").endReadyDelay();
        return { recovered, atKill };
      },
    });
  }, 1_800_000);
  afterAll(async () => {
    await run?.world.stop();
  });

  it("was killed with w-2 converged (its kubelet restarted on 1.13.3, not Ready yet) and still cordoned", () => {
    expect(run.killed.record.cordonOrder()).toEqual(["cp-1", "w-1", "w-2"]);
    expect(run.after.atKill).toEqual({ w2: BUMPED, cordoned: true });
  });

  it("recover clears the converge's pending create and leaves w-2 cordoned for the next up", () => {
    const r = run.after.recovered;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^cleared: pending create of Command workers-w-2: the converge runs again/m);
    expect(r.stdout).toMatch(/^left cordoned: node w-2: its change may have started/m);
    expect(r.stdout.trim().split("\n").pop()).toBe("next: pulumi up");
  });

  it("the next up finishes w-2 (its converge again, installing nothing), then w-3", async () => {
    expect(run.second.record.cordonOrder()).toEqual(["w-3"]);
    expect(run.calls["w-2"].filter((c) => c.startsWith("postinst"))).toEqual([]);
    for (const n of ["cp-1", ...WORKERS]) expect(pinsOn(run.world, n), n).toEqual(BUMPED);
    await expectAllBack(run.world, [run.killed.record, run.after.recovered.record, run.second.record], run.second, WORKERS, 3);
  });
});

describe("killed between two batches (w-1 back, w-2 not yet drained)", () => {
  let run: Awaited<ReturnType<typeof killRecorded<{ recovered: Awaited<ReturnType<World["recover"]>>; w2: Record<string, string> }>>>;

  beforeAll(async () => {
    run = await killRecorded({
      stack: "kill-between",
      finished: ["cp-1", "w-1"],
      // The moment: w-1 is back (Ready on 1.13.3, uncordoned, marked with what it converged to, as the API shows it),
      // its ready hook is over and its create recorded (the engine records a create after its afterCreate hook), and
      // w-2, the next batch, is not cordoned yet. The state file is looked at every 20 ms: the window is short.
      moment: async (world, signal, record, started) => {
        const listed = record.entries.find((e) => e.kind === "node" && e.type === "LISTED" && e.node.name === "w-1");
        const before = listed?.kind === "node" ? listed.node.annotations[CONVERGED_TO] : undefined;
        await record.until((nodes) => {
          const w1 = nodes.get("w-1");
          return w1 !== undefined && w1.ready && !w1.unschedulable && w1.kubeletVersion === "v1.13.3" && w1.annotations[CONVERGED_TO] !== before;
        }, signal);
        while (!signal.aborted) {
          const state = world.checkpoint();
          if (state && Date.parse(converge(world, "w-1")?.created ?? "") >= started && !state.pending.some((p) => urnName(p.resource.urn) === "workers-w-1")) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      between: async (world) => ({ w2: pinsOn(world, "w-2"), recovered: await world.recover() }),
    });
  }, 1_800_000);
  afterAll(async () => {
    await run?.world.stop();
  });

  it("was killed with w-1 back on its pins and w-2 neither cordoned nor changed", () => {
    expect(run.killed.record.cordonOrder()).toEqual(["cp-1", "w-1"]);
    const last = run.killed.record.lastNodes();
    expect([...last.values()].filter((n) => n.unschedulable).map((n) => n.name)).toEqual([]);
    expect(last.get("w-1")).toMatchObject({ ready: true, kubeletVersion: "v1.13.3" });
    expect(run.after.w2).toEqual(Object.fromEntries(Object.keys(BUMPED).map((k) => [k, ARTICLE_VERSIONS[k]])));
    expectRecordedBy(run.commands.before, run.started);
  });

  it("recover only removes the lock: nothing cordoned, nothing left", () => {
    const r = run.after.recovered;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^done: the stack's lock is removed/);
    expect(lines.filter((l) => /^(not cleared|left cordoned|uncordoned)/.test(l))).toEqual([]);
    expect(lines[lines.length - 1]).toBe("next: pulumi up");
  });

  it("the next up resumes at w-2, leaves cp-1 and w-1 alone (their converges unchanged, nothing run on them) and finishes", async () => {
    expect(run.second.record.cordonOrder()).toEqual(["w-2", "w-3"]);
    expect(run.calls).toEqual({ "cp-1": [], "w-1": [] });
    expect(run.commands.after).toEqual(run.commands.before);
    for (const n of ["cp-1", ...WORKERS]) expect(pinsOn(run.world, n), n).toEqual(BUMPED);
    await expectAllBack(run.world, [run.killed.record, run.after.recovered.record, run.second.record], run.second, WORKERS, 3);
  });
});
