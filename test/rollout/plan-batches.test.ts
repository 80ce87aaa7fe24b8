/**
 * The planner batch by batch: the steps of one batch together, numbered across the cluster in rollout order, and
 * the deferred deletes at the end in the old config's batches, last first.
 */
import { describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { planRollout, type Step } from "../../components/rollout/plan";
import { currentConfig, currentInput } from "../support/fixtures/config";

type Input = Record<string, unknown>;
const region = "eu-west-1";
const [controlPlane, workers, storage] = currentInput.pools as Input[];
const bump = { versions: { kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } };
const withWorkers = (patch: Input, more: Input = {}) => currentConfig({ ...more, pools: [controlPlane, { ...workers, ...patch }, storage] });
const plan = (base: KubeherdConfig, target: KubeherdConfig) => planRollout({ stack: "test", base, target, region });
/** `batch: node:action …` per batch, for the pool's steps. */
const byBatch = (steps: Step[], pool = "workers") => {
  const out = new Map<number, string[]>();
  for (const s of steps.filter((s) => s.pool === pool)) out.set(s.batch, [...(out.get(s.batch) ?? []), `${s.node}:${s.action}`]);
  return [...out.entries()].map(([b, actions]) => `${b}: ${actions.join(" ")}`);
};

describe("planning batches", () => {
  it("replaces three rolling workers at once, each drained first, the next batch after the whole batch", () => {
    const p = plan(withWorkers({ size: 5, rollout: { maxUnavailable: 3 } }), withWorkers({ size: 5, rollout: { maxUnavailable: 3 } }, bump));
    expect(byBatch(p.steps)).toEqual([
      "3: workers-0:drain workers-0:terminate workers-0:launch workers-0:wait-ready workers-1:drain workers-1:terminate workers-1:launch workers-1:wait-ready workers-2:drain workers-2:terminate workers-2:launch workers-2:wait-ready",
      "4: workers-3:drain workers-3:terminate workers-3:launch workers-3:wait-ready workers-4:drain workers-4:terminate workers-4:launch workers-4:wait-ready",
    ]);
    expect(p.steps.map((s) => s.batch)).toEqual([...p.steps.map((s) => s.batch)].sort((a, b) => a - b));
    expect(p.pools.find((s) => s.pool === "workers")).toMatchObject({ batches: 2, batchSize: 3 });
  });

  it("brings surge replacements up in batches of maxSurge and deletes the old nodes at the end in the same batches, last first", () => {
    const surge = { size: 4, rollout: { strategy: "surge", maxSurge: 2, maxUnavailable: 2 } };
    const p = plan(withWorkers(surge), withWorkers(surge, bump));
    expect(byBatch(p.steps)).toEqual([
      "3: workers-0:launch workers-0:wait-ready workers-1:launch workers-1:wait-ready",
      "4: workers-2:launch workers-2:wait-ready workers-3:launch workers-3:wait-ready",
      "6: workers-3:drain workers-3:terminate workers-2:drain workers-2:terminate",
      "7: workers-1:drain workers-1:terminate workers-0:drain workers-0:terminate",
    ]);
  });

  it("goes zone by zone, the canary alone first", () => {
    const zoned = { size: 5, subnets: ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"], rollout: { maxUnavailable: 2, byZone: true, canary: true } };
    const p = plan(withWorkers(zoned), withWorkers(zoned, bump));
    expect(byBatch(p.steps).map((b) => b.replace(/ workers-\d:(terminate|launch|wait-ready)/g, ""))).toEqual([
      "3: workers-0:drain", "4: workers-2:drain workers-4:drain", "5: workers-1:drain workers-3:drain",
    ]);
  });

  it("deletes the nodes a batched pool loses at the end, in the old batches, last first", () => {
    const p = plan(withWorkers({ size: 7, rollout: { maxUnavailable: 3 } }), withWorkers({ size: 4, rollout: { maxUnavailable: 3 } }, bump));
    expect(byBatch(p.steps).slice(-2)).toEqual(["6: workers-6:drain workers-6:terminate", "7: workers-5:drain workers-5:terminate workers-4:drain workers-4:terminate"]);
  });

  it("shows a pool's window in its summary", () => {
    const windowed = { rollout: { window: { days: ["sat", "sun"], start: "01:00", end: "05:00", timeZone: "Europe/Amsterdam" } } };
    expect(plan(withWorkers(windowed), withWorkers(windowed, bump)).pools[1].window).toBe("sat, sun 01:00–05:00 Europe/Amsterdam");
  });
});
