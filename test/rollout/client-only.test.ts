/** Which pets nodes change by kubectl alone, from what the stack rolled out; the plan shows no drain for them. */
import { describe, expect, it } from "vitest";
import { rolledOutOf } from "../../components/promotion/rolled-out";
import { clientOnlyNodes } from "../../components/rollout/client-only";
import { planRollout } from "../../components/rollout/plan";
import { currentConfig } from "../support/fixtures/config";

const base = currentConfig();

describe("a kubectl-only bump", () => {
  const target = currentConfig({ versions: { kubectl: "1.30.3-1.1" } });

  it("names every pets node, and no cattle node", () => {
    expect([...clientOnlyNodes(target, rolledOutOf(base))]).toEqual(["control-plane/cp-1", "control-plane/cp-2", "storage/storage-1"]);
  });

  it("plans a run and a wait for the pets nodes, without drain or uncordon", () => {
    const plan = planRollout({ stack: "t", base, target, region: "eu-west-1" });
    const pets = plan.steps.filter((s) => s.pool !== "workers");
    expect(pets.map((s) => `${s.node} ${s.action}`)).toEqual(["cp-1 run", "cp-1 wait-ready", "cp-2 run", "cp-2 wait-ready", "storage-1 run", "storage-1 wait-ready"]);
    expect(pets[0].note).toBe("kubectl 1.30.3-1.1 (a client only: nothing restarts)");
  });

  it.each([
    ["a kubelet patch with it", { kubectl: "1.30.3-1.1", kubelet: "1.30.3-1.1" }],
    ["a system upgrade token with it", { kubectl: "1.30.3-1.1" }, "2026-12"],
    ["nothing", {}],
  ])("is not kubectl-only with %s", (_, versions, token?: string) => {
    const t = currentConfig({ versions, ...(token ? { os: { systemUpgrade: token } } : {}) });
    expect([...clientOnlyNodes(t, rolledOutOf(base))]).toEqual([]);
  });

  it("is nothing on a first deployment", () => {
    expect(clientOnlyNodes(target, undefined).size).toBe(0);
  });
});

describe("a kubectl-only bump of a pets pool's own block", () => {
  const staged = (own: Record<string, string>) => {
    const c = currentConfig({ versions: { kubernetes: "1.31.4", kubeadm: "1.31.4-1.1", kubelet: "1.31.4-1.1", kubectl: "1.31.4-1.1" } });
    return { ...c, pools: c.pools.map((p) => (p.name === "storage" ? { ...p, versions: own } : p)) };
  };

  it("names that pool's nodes alone, under a control plane the pool does not follow", () => {
    const ran = staged({ kubeadm: "1.30.2-1.1", kubelet: "1.30.2-1.1", kubectl: "1.30.2-1.1" });
    const target = staged({ kubeadm: "1.30.2-1.1", kubelet: "1.30.2-1.1", kubectl: "1.30.3-1.1" });
    expect([...clientOnlyNodes(target, rolledOutOf(ran))]).toEqual(["storage/storage-1"]);
    const kubelet = staged({ kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" });
    expect([...clientOnlyNodes(kubelet, rolledOutOf(ran))]).toEqual([]);
  });
});
