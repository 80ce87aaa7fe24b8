/**
 * Bad rollout budgets, zones and windows are refused before anything is registered, naming the key.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../components/config/load";
import { stackFileSource } from "../../components/config/stackfile";
import { currentInput } from "../support/fixtures/config";

type Input = Record<string, unknown>;
const [controlPlane, workers, storage] = currentInput.pools as Input[];

function errorsWith(pools: Input[]): { key: string; message: string }[] {
  const values = { ...currentInput, pools, kubeconfig: { secure: "v1:abc" }, sshPrivateKey: { secure: "v1:abc" } };
  const file = { path: "Pulumi.test.yaml", values: Object.fromEntries(Object.entries(values).map(([k, v]) => [`kubeherd:${k}`, v])) };
  return loadConfig(stackFileSource(file), { secrets: "require" }).problems.filter((p) => p.severity === "error").map(({ key, message }) => ({ key, message }));
}
const workersWith = (rollout: Input, more: Input = {}) => errorsWith([controlPlane, { ...workers, ...more, rollout }, storage]);
const window = (patch: Input) => ({ window: { days: ["mon"], start: "22:00", end: "04:00", timeZone: "Europe/Amsterdam", ...patch } });

describe("refusing bad rollout settings, naming the key", () => {
  it.each([
    ["maxUnavailable 0", { maxUnavailable: 0 }, "maxUnavailable", /0 is not a budget/],
    ["maxUnavailable \"0%\"", { maxUnavailable: "0%" }, "maxUnavailable", /"0%" is not a budget/],
    ["maxUnavailable \"150%\"", { maxUnavailable: "150%" }, "maxUnavailable", /"150%" is not a budget/],
    ["maxUnavailable \"ten\"", { maxUnavailable: "ten" }, "maxUnavailable", /"ten" is not a budget/],
    ["maxUnavailable 1.5", { maxUnavailable: 1.5 }, "maxUnavailable", /1.5 is not a budget/],
    ["maxSurge 0", { strategy: "surge", maxSurge: 0 }, "maxSurge", /0 is not a budget/],
    ["maxSurge \"0%\"", { strategy: "surge", maxSurge: "0%" }, "maxSurge", /"0%" is not a budget/],
    ["a start that is not HH:MM", window({ start: "10pm" }), "window.start", /HH:MM/],
    ["an end of 24:00", window({ end: "24:00" }), "window.end", /HH:MM/],
    ["an unknown day", window({ days: ["mon", "funday"] }), "window.days[1]", /must be one of mon, tue/],
    ["an unknown time zone", window({ timeZone: "Europe/Atlantis" }), "window.timeZone", /time zone/],
  ])("%s", (_what, rollout, key, message) => {
    expect(workersWith(rollout)).toEqual([expect.objectContaining({ key: `kubeherd:pools[1].rollout.${key}`, message: expect.stringMatching(message) })]);
  });

  it("refuses more than one node at a time on a control-plane pool", () => {
    expect(errorsWith([{ ...controlPlane, rollout: { maxUnavailable: 2 } }, workers, storage])).toEqual([
      { key: "kubeherd:pools[0].rollout.maxUnavailable", message: expect.stringMatching(/is 2 nodes: control-plane nodes change one at a time/) },
    ]);
    expect(errorsWith([{ ...controlPlane, rollout: { maxUnavailable: "50%" } }, workers, storage])).toEqual([]);
  });

  it("refuses a count above one on a control-plane pool of one node, where it would be clamped to the pool", () => {
    const single = { ...controlPlane, nodes: (controlPlane.nodes as Input[]).slice(0, 1) };
    expect(errorsWith([{ ...single, rollout: { maxUnavailable: 2 } }, workers, storage])).toEqual([
      { key: "kubeherd:pools[0].rollout.maxUnavailable", message: expect.stringMatching(/^2 is 2 nodes: control-plane nodes change one at a time/) },
    ]);
    expect(errorsWith([{ ...single, rollout: { maxUnavailable: 1 } }, workers, storage])).toEqual([]);
  });

  it.each([
    ["a count of the pool's size", { maxUnavailable: 4 }, { size: 4 }, /^4 is all 4 nodes of pool workers: they would drain and terminate at once/],
    ["a count above the pool's size", { maxUnavailable: 9 }, { size: 4 }, /^9 is all 4 nodes/],
    ["100%", { maxUnavailable: "100%" }, { size: 4 }, /^"100%" is all 4 nodes.*use at most 3, strategy surge, or set rollout.allowZeroCapacity: true$/],
  ])("refuses a rolling batch of the whole pool: %s", (_what, rollout, more, message) => {
    expect(workersWith(rollout, more)).toEqual([{ key: "kubeherd:pools[1].rollout.maxUnavailable", message: expect.stringMatching(message) }]);
    expect(workersWith({ ...rollout, allowZeroCapacity: true }, more)).toEqual([]);
    expect(workersWith({ ...rollout, strategy: "surge" }, more)).toEqual([]);
  });

  it("refuses a batch of every host of a pets worker pool, and accepts one short of it", () => {
    const hosts = [1, 2, 3].map((i) => ({ name: `storage-${i}`, host: `10.10.3.${20 + i}`, hostKey: (storage.nodes as Input[])[0].hostKey }));
    const pool = (rollout: Input) => errorsWith([controlPlane, workers, { ...storage, nodes: hosts, rollout }]);
    expect(pool({ maxUnavailable: "100%" })).toEqual([
      { key: "kubeherd:pools[2].rollout.maxUnavailable", message: expect.stringMatching(/^"100%" is all 3 nodes of pool storage: they would drain at once, leaving the pool no capacity; use at most 2 or set/) },
    ]);
    expect(pool({ maxUnavailable: 2 })).toEqual([]);
  });

  it("refuses byZone on pets hosts without a zone, naming them", () => {
    expect(errorsWith([controlPlane, workers, { ...storage, rollout: { byZone: true } }])).toEqual([
      { key: "kubeherd:pools[2].rollout.byZone", message: "needs a zone on every node; storage-1 has none (set nodes[].zone)" },
    ]);
    const zoned = { ...storage, nodes: (storage.nodes as Input[]).map((n) => ({ ...n, zone: "eu-west-1a" })), rollout: { byZone: true } };
    expect(errorsWith([controlPlane, workers, zoned])).toEqual([]);
  });

  it("refuses a surge pool whose replacements come up in larger batches than its old nodes may leave", () => {
    expect(workersWith({ strategy: "surge", maxSurge: 2 }, { size: 6 })).toEqual([
      { key: "kubeherd:pools[1].rollout.maxSurge", message: expect.stringMatching(/^2 is 2 nodes, more than maxUnavailable \(1\)/) },
    ]);
    expect(workersWith({ strategy: "surge", maxSurge: "50%", maxUnavailable: 3 }, { size: 6 })).toEqual([]);
  });

  it("accepts budgets, zones, a canary and a window", () => {
    expect(workersWith({ maxUnavailable: "10%", byZone: true, canary: true, ...window({}) })).toEqual([]);
  });
});
