/**
 * Batches: which nodes change together, from a pool's rollout budget, zones and canary.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { budgetNodes, poolBatches, rolloutBatches } from "../../components/rollout/batches";
import { currentConfig, currentInput } from "../support/fixtures/config";

type Input = Record<string, unknown>;
const [controlPlane, workers, storage] = currentInput.pools as Input[];
const subnets = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003"];
const withWorkers = (patch: Input) => currentConfig({ pools: [controlPlane, { ...workers, ...patch }, storage] });
const nodesOf = (patch: Input) => poolBatches(withWorkers(patch).pools[1]).map((b) => b.nodes);

describe("a budget as a number of nodes", () => {
  it.each([
    [1, 10, 1], [3, 10, 3], [30, 10, 10], ["10%", 100, 10], ["10%", 15, 1], ["10%", 5, 1], ["25%", 10, 2], ["100%", 7, 7],
  ])("%j of a pool of %i is %i", (budget, size, nodes) => {
    expect(budgetNodes(budget, size)).toBe(nodes);
  });

  it("is always at least one node and never more than the pool", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 1000 }), (pct, size) => {
      const n = budgetNodes(`${pct}%`, size);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(size);
      expect(n).toBe(Math.max(1, Math.floor((size * pct) / 100)));
    }));
  });
});

describe("a pool's batches", () => {
  it("goes one node at a time by default", () => {
    expect(nodesOf({ size: 3 })).toEqual([["workers-0"], ["workers-1"], ["workers-2"]]);
  });

  it("takes maxUnavailable nodes at once, the last batch with what is left", () => {
    expect(nodesOf({ size: 7, rollout: { maxUnavailable: 3 } })).toEqual([["workers-0", "workers-1", "workers-2"], ["workers-3", "workers-4", "workers-5"], ["workers-6"]]);
  });

  it("sends the canary alone first, then batches of the rest", () => {
    expect(nodesOf({ size: 5, rollout: { maxUnavailable: 2, canary: true } })).toEqual([["workers-0"], ["workers-1", "workers-2"], ["workers-3", "workers-4"]]);
  });

  it("never spans two zones, and takes the zones in the order of subnets", () => {
    const batches = poolBatches(withWorkers({ size: 7, subnets, rollout: { maxUnavailable: 2, byZone: true } }).pools[1]);
    expect(batches.map((b) => [b.zone, b.nodes])).toEqual([
      [subnets[0], ["workers-0", "workers-3"]], [subnets[0], ["workers-6"]],
      [subnets[1], ["workers-1", "workers-4"]],
      [subnets[2], ["workers-2", "workers-5"]],
    ]);
  });

  it("uses maxSurge for surge pools", () => {
    expect(nodesOf({ size: 4, rollout: { strategy: "surge", maxSurge: 2, maxUnavailable: 2 } })).toEqual([["workers-0", "workers-1"], ["workers-2", "workers-3"]]);
  });

  it("keeps control-plane pools one node at a time", () => {
    expect(poolBatches(currentConfig().pools[0]).map((b) => b.nodes)).toEqual([["cp-1"], ["cp-2"]]);
  });

  it("groups pets hosts by their zone, zones in the order the nodes name them", () => {
    const pets = { ...storage, nodes: ["a", "b", "c", "d"].map((n, i) => ({ name: `st-${n}`, host: `10.0.3.${i + 1}`, hostKey: "ssh-ed25519 AAAAC3Nz", zone: i % 2 ? "rack-2" : "rack-1" })), rollout: { maxUnavailable: 2, byZone: true } };
    const config = currentConfig({ pools: [controlPlane, pets] });
    expect(poolBatches(config.pools[1]).map((b) => b.nodes)).toEqual([["st-a", "st-c"], ["st-b", "st-d"]]);
  });

  it("covers every node exactly once, within the budget, for any pool shape", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 100 }), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 3 }),
      (size, pct, canary, byZone, zones) => {
        const pool = withWorkers({ size, subnets: subnets.slice(0, zones), rollout: { maxUnavailable: `${pct}%`, canary, byZone, allowZeroCapacity: true } }).pools[1];
        const batches = poolBatches(pool);
        const all = batches.flatMap((b) => b.nodes);
        expect(new Set(all).size).toBe(size);
        expect(all).toHaveLength(size);
        for (const b of batches) expect(b.nodes.length).toBeLessThanOrEqual(budgetNodes(`${pct}%`, size));
        if (byZone) for (const b of batches) expect(new Set(b.nodes.map((n) => subnets[Number(n.split("-")[1]) % zones])).size).toBe(1);
        if (canary) expect(batches[0].nodes).toHaveLength(1);
      },
    ));
  });
});

describe("the cluster's batches", () => {
  it("are numbered across the cluster in rollout order: control plane first", () => {
    const batches = rolloutBatches(withWorkers({ size: 4, rollout: { maxUnavailable: "50%" } }));
    expect(batches.map((b) => `${b.number}:${b.nodes.join(",")}`)).toEqual(["1:cp-1", "2:cp-2", "3:workers-0,workers-1", "4:workers-2,workers-3", "5:storage-1"]);
  });
});
