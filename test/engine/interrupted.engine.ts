/**
 * An update that stops half way (a drain that fails, a node that never comes back) and the `pulumi up` after it,
 * against the real engine running kubeherd's own program and hooks. The faults come from the Kubernetes API (a
 * PodDisruptionBudget that allows no disruption, a kubelet that never reports Ready; engine-world.ts), and are lifted
 * after the update they are given to, as an operator would. The planner plans from the deployed config to the
 * target; these tests pin which part of that plan each of the two updates performs.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { planRollout } from "../../components/rollout/plan";
import { engineActions, inBatches, nodeModes, planActions } from "../support/local-stack/engine-log";
import { EngineWorld, type EngineFaults } from "../support/local-stack/engine-world";
import { articleBump, articleConfig, cluster, patchBump, region } from "../support/scenarios/engine";

interface Interruption {
  name: string;
  stack: string;
  base: KubeherdConfig;
  target: KubeherdConfig;
  faults: EngineFaults;
  /** The planned step at which the first update fails. */
  failsAt: string;
  /** Whether the failed step shows in the first update's log: a drain that fails has listed the node's pods to evict
   *  them; a wait for Ready that fails has recorded nothing (`ready` is the hook seeing the node Ready). */
  failedStepSeen: boolean;
  /** What the failure says. */
  error: string;
  /** Where the next update starts: the failed step again, or the step after it. */
  resumes: "at" | "after";
}

const interruptions: Interruption[] = [
  {
    name: "a worker whose drain fails is not terminated; the next up starts again from its drain",
    stack: "drain-fails",
    base: articleConfig(),
    target: articleConfig(articleBump),
    faults: { drainBlocked: ["workers-1"] },
    failsAt: "workers-1:drain",
    failedStepSeen: true,
    error: "pinned-workers-1",
    resumes: "at",
  },
  {
    name: "an old surge node whose drain fails at the end stays; the next up starts again from its drain",
    stack: "surge-drain-fails",
    base: cluster({ workers: 3, surge: ["workers"] }),
    target: cluster({ workers: 3, surge: ["workers"] }, patchBump),
    faults: { drainBlocked: ["workers-1"] },
    failsAt: "workers-1:drain",
    failedStepSeen: true,
    error: "pinned-workers-1",
    resumes: "at",
  },
  {
    // The engine records the create before the afterCreate hook fails, so the next up sees nothing left to do for
    // that node and does not wait for it again: it drains the next node while this one may still be NotReady.
    name: "a replaced worker that never becomes ready fails the update; the next up does not wait for it again",
    stack: "ready-fails",
    base: articleConfig(),
    target: articleConfig(articleBump),
    faults: { neverReady: ["workers-1"] },
    failsAt: "workers-1:wait-ready",
    failedStepSeen: false,
    error: "not ready after 10s",
    resumes: "after",
  },
];

describe("an interrupted rollout and the pulumi up after it", () => {
  const worlds: EngineWorld[] = [];
  afterAll(async () => {
    for (const w of worlds.splice(0)) await w.stop();
  });

  it.each(interruptions)("$name", async ({ stack, base, target, faults, failsAt, failedStepSeen, error, resumes }) => {
    const engine = await EngineWorld.start({ cliRoot: inject("pulumiCliRoot"), stack });
    worlds.push(engine);
    const modes = nodeModes(base, target);
    expect((await engine.up(base, region)).result).toBe("succeeded");

    const planned = planActions(planRollout({ stack, base, target, region }).steps);
    const at = planned.indexOf(failsAt);
    expect(at, `${failsAt} is a planned step`).toBeGreaterThanOrEqual(0);

    const failed = await engine.up(target, region, { faults });
    expect(failed.result).toBe("failed");
    expect(failed.error).toContain(error);
    expect(engineActions(failed.lines, modes)).toEqual(planned.slice(0, failedStepSeen ? at + 1 : at));

    const resumed = await engine.up(target, region);
    expect(resumed.result, resumed.error).toBe("succeeded");
    expect(engineActions(resumed.lines, modes)).toEqual(planned.slice(resumes === "at" ? at : at + 1));
  });
});

describe("a maintenance window that closes between batches, and the pulumi up in the next window", () => {
  const worlds: EngineWorld[] = [];
  afterAll(async () => {
    for (const w of worlds.splice(0)) await w.stop();
  });

  // Every night from 22:00 to 23:00 in Amsterdam (UTC+1 in December); each node back moves the program's wall
  // clock (test/support/local-stack/up.ts) on 10 minutes: cp-1 and cp-2 (no window) from 22:00, then workers in
  // batches of two from 22:20 and 22:40; the third batch would start at 23:00, when the window has closed. Between
  // nodes back the clock runs at the real pace: the second batch stays inside the window if the update takes less
  // than 20 minutes to reach it, and the third is outside however long it takes.
  const window = { start: "22:00", end: "23:00", timeZone: "Europe/Amsterdam" };
  const shape = { workers: 6, rollout: { maxUnavailable: 2, window } };

  it("stops before the first node outside the window, saying when it opens, and the next up resumes there", async () => {
    const engine = await EngineWorld.start({ cliRoot: inject("pulumiCliRoot"), stack: "window" });
    worlds.push(engine);
    const base = cluster(shape);
    const target = cluster(shape, patchBump);
    const modes = nodeModes(base, target);
    expect((await engine.up(base, region)).result).toBe("succeeded");

    const plan = planRollout({ stack: "window", base, target, region }).steps;
    const planned = planActions(plan);
    const third = plan.filter((s) => s.pool === "workers").map((s) => s.batch).filter((b, i, all) => all.indexOf(b) === i)[2];
    const at = plan.findIndex((s) => s.batch === third);
    expect(plan[at]).toMatchObject({ node: "workers-4", action: "drain" });

    const stopped = await engine.up(target, region, { clock: { start: "2026-12-01T21:00:00Z", minutesPerNode: 10 } });
    expect(stopped.result).toBe("failed");
    expect(stopped.error).toContain("workers-4: not taken out, outside the maintenance window (every day 22:00–23:00 Europe/Amsterdam): it opens at 2026-12-02 22:00 Europe/Amsterdam (2026-12-02T21:00Z)");
    // Nothing of the third batch happened, not even its drain; everything before it did, batch by batch.
    expect(inBatches(engineActions(stopped.lines, modes), plan)).toEqual(inBatches(planned.slice(0, at), plan));

    const resumed = await engine.up(target, region, { clock: { start: "2026-12-02T21:00:00Z", minutesPerNode: 10 } });
    expect(resumed.result, resumed.error).toBe("succeeded");
    expect(inBatches(engineActions(resumed.lines, modes), plan)).toEqual(inBatches(planned.slice(at), plan));
  });
});
