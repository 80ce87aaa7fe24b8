import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { planRollout, type Step } from "../../components/rollout/plan";
import { articleConfig, currentConfig, currentInput } from "../support/fixtures/config";

const region = "eu-west-1";
const plan = (base: KubeherdConfig | undefined, target: KubeherdConfig) => planRollout({ stack: "test", base, target, region });
const brief = (steps: Step[]) => steps.map((s) => `${s.node}:${s.action}`);

const articleBump = {
  versions: { kubernetes: "1.13.3", kubeadm: "1.13.3-00", kubelet: "1.13.3-00", kubectl: "1.13.3-00", "docker-ce": "18.06.2~ce~3-0~ubuntu" },
};

describe("planning the field article's bump (1.13.2 -> 1.13.3, docker-ce 18.06.1 -> 18.06.2)", () => {
  const steps = plan(articleConfig(), articleConfig(articleBump)).steps;

  it("goes through the control plane first, then workers in config order, one node at a time", () => {
    expect(brief(steps)).toEqual([
      "cp-1:drain", "cp-1:run", "cp-1:wait-ready", "cp-1:uncordon",
      "cp-2:drain", "cp-2:run", "cp-2:wait-ready", "cp-2:uncordon",
      "workers-0:drain", "workers-0:terminate", "workers-0:launch", "workers-0:wait-ready",
      "workers-1:drain", "workers-1:terminate", "workers-1:launch", "workers-1:wait-ready",
      "workers-2:drain", "workers-2:terminate", "workers-2:launch", "workers-2:wait-ready",
      "storage-1:drain", "storage-1:run", "storage-1:wait-ready", "storage-1:uncordon",
    ]);
  });

  it("runs kubeadm upgrade apply on the first control-plane node only", () => {
    const scripts = steps.filter((s) => s.action === "run").map((s) => [s.node, s.script ?? ""] as const);
    expect(scripts.map(([node]) => node)).toEqual(["cp-1", "cp-2", "storage-1"]);
    for (const [node, script] of scripts) {
      expect(script.includes("kubeadm upgrade apply")).toBe(node === "cp-1");
      expect(script).toContain("1.13.3-00");
      expect(script).toContain("18.06.2~ce~3-0~ubuntu");
    }
    expect(scripts[0][1]).toContain("v1.13.3");
  });

  it("launches the replacement workers with user data carrying the new pins", () => {
    for (const launch of steps.filter((s) => s.action === "launch")) {
      expect(launch.userData).toMatch(/^#cloud-config/);
      expect(launch.userData).toContain("1.13.3-00");
      expect(launch.userData).not.toContain("1.13.2-00");
    }
  });

  it("lists what changed, key by key", () => {
    expect(plan(articleConfig(), articleConfig(articleBump)).changes).toEqual([
      { key: "kubeherd:versions.kubernetes", from: "1.13.2", to: "1.13.3" },
      { key: "kubeherd:versions.kubeadm", from: "1.13.2-00", to: "1.13.3-00" },
      { key: "kubeherd:versions.kubelet", from: "1.13.2-00", to: "1.13.3-00" },
      { key: "kubeherd:versions.kubectl", from: "1.13.2-00", to: "1.13.3-00" },
      { key: "kubeherd:versions.docker-ce", from: "18.06.1~ce~3-0~ubuntu", to: "18.06.2~ce~3-0~ubuntu" },
    ]);
  });
});

describe("planning cattle pools", () => {
  const surge = (patch: Record<string, unknown> = {}) => {
    const cfg = currentConfig(patch);
    const workers = cfg.pools.find((p) => p.name === "workers");
    if (workers?.mode === "cattle") workers.rollout.strategy = "surge";
    return cfg;
  };
  const bump = { versions: { kubelet: "1.30.3-1.1", kubeadm: "1.30.3-1.1", kubectl: "1.30.3-1.1", kubernetes: "1.30.3" } };

  it("with surge, brings every replacement up first and drains and deletes the old nodes at the end, last first", () => {
    const workerSteps = plan(surge(), surge(bump)).steps.filter((s) => s.pool === "workers");
    expect(brief(workerSteps)).toEqual([
      "workers-0:launch", "workers-0:wait-ready", "workers-1:launch", "workers-1:wait-ready", "workers-2:launch", "workers-2:wait-ready",
      "workers-2:drain", "workers-2:terminate", "workers-1:drain", "workers-1:terminate", "workers-0:drain", "workers-0:terminate",
    ]);
  });

  it("puts surge deletions after every other pool's steps, as the engine defers them to the end of the update", () => {
    const steps = plan(surge(), surge(bump)).steps;
    const lastStorage = steps.map((s) => s.pool).lastIndexOf("storage");
    const firstDrainOfWorkers = steps.findIndex((s) => s.pool === "workers" && s.action === "drain");
    expect(firstDrainOfWorkers).toBeGreaterThan(lastStorage);
  });

  it("replaces only the pool whose launch template changes", () => {
    const workers = (currentInput.pools as Record<string, unknown>[]).map((p) => (p.name === "workers" ? { ...p, instanceType: "m6i.xlarge" } : p));
    const steps = plan(currentConfig(), currentConfig({ pools: workers })).steps;
    expect(new Set(steps.map((s) => s.pool))).toEqual(new Set(["workers"]));
    expect(steps.filter((s) => s.action === "terminate")).toHaveLength(3);
  });

  it("launches added nodes without touching the others, and removes nodes at the end when the pool shrinks", () => {
    const sized = (size: number) => (currentInput.pools as Record<string, unknown>[]).map((p) => (p.name === "workers" ? { ...p, size } : p));
    expect(brief(plan(currentConfig(), currentConfig({ pools: sized(4) })).steps)).toEqual(["workers-3:launch", "workers-3:wait-ready"]);
    expect(brief(plan(currentConfig(), currentConfig({ pools: sized(2) })).steps)).toEqual(["workers-2:drain", "workers-2:terminate"]);
  });
});

describe("planning pets pools", () => {
  it("re-runs every pets node on a system upgrade token and replaces no cattle node", () => {
    const steps = plan(currentConfig(), currentConfig({ os: { systemUpgrade: "2026-12" } })).steps;
    expect(steps.filter((s) => s.action === "run").map((s) => s.node)).toEqual(["cp-1", "cp-2", "storage-1"]);
    expect(steps.some((s) => s.pool === "workers")).toBe(false);
  });

  it("adopts existing nodes on the first deployment, saying the drain is skipped when they already run the pins", () => {
    const steps = plan(undefined, currentConfig()).steps;
    const drain = steps.find((s) => s.node === "cp-1" && s.action === "drain");
    expect(drain?.note).toMatch(/adoption/);
    expect(brief(steps.filter((s) => s.pool === "workers"))).toEqual(["workers-0:launch", "workers-0:wait-ready", "workers-1:launch", "workers-1:wait-ready", "workers-2:launch", "workers-2:wait-ready"]);
  });
});

describe("a plan with nothing to do on the nodes", () => {
  it("has no steps and no changes", () => {
    expect(plan(currentConfig(), currentConfig())).toMatchObject({ steps: [], changes: [] });
  });

  it("replaces and re-runs nothing when only timeouts and drain policy change", () => {
    const relaxed = (currentInput.pools as Record<string, unknown>[]).map((p) => ({ ...p, rollout: { drainTimeoutSeconds: 1200, readyTimeoutSeconds: 1800, deleteEmptyDirData: false } }));
    const result = plan(currentConfig(), currentConfig({ pools: relaxed }));
    expect(result.changes.length).toBeGreaterThan(0);
    expect(result.steps).toEqual([]);
  });
});

describe("properties of every plan", () => {
  const patches = fc.record({
    kubelet: fc.constantFrom("1.30.2-1.1", "1.30.3-1.1"),
    systemUpgrade: fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
    workers: fc.integer({ min: 1, max: 5 }),
    strategy: fc.constantFrom("rolling", "surge"),
    instanceType: fc.constantFrom("m6i.large", "m6i.xlarge"),
  });
  const build = (p: { kubelet: string; systemUpgrade?: string; workers: number; strategy: string; instanceType: string }) => {
    const kube = p.kubelet.replace(/-.*/, "");
    return currentConfig({
      versions: { kubelet: p.kubelet, kubeadm: p.kubelet, kubectl: p.kubelet, kubernetes: kube },
      os: { systemUpgrade: p.systemUpgrade },
      pools: (currentInput.pools as Record<string, unknown>[]).map((pool) =>
        pool.name === "workers" ? { ...pool, size: p.workers, instanceType: p.instanceType, rollout: { strategy: p.strategy, allowZeroCapacity: true } } : pool,
      ),
    });
  };

  it("drains a node right before it is terminated or upgraded, and finishes each node before starting the next", () => {
    fc.assert(
      fc.property(patches, patches, (a, b) => {
        const steps = plan(build(a), build(b)).steps;
        steps.forEach((s, i) => {
          if (s.action === "terminate" || s.action === "run") {
            const prev = steps[i - 1];
            expect(prev.node).toBe(s.node);
            expect(prev.action).toBe("drain");
          }
        });
        // A node's steps are contiguous except a surge node, which comes back once at the end for its deletion.
        const visits = new Map<string, number>();
        steps.forEach((s, i) => {
          if (i === 0 || steps[i - 1].node !== s.node) visits.set(s.node, (visits.get(s.node) ?? 0) + 1);
        });
        for (const [node, count] of visits) expect(count, node).toBeLessThanOrEqual(node.startsWith("workers") ? 2 : 1);
      }),
      { numRuns: 60 },
    );
  });

  it("never touches a worker before every control-plane node is done", () => {
    fc.assert(
      fc.property(patches, patches, (a, b) => {
        const steps = plan(build(a), build(b)).steps;
        const lastCp = steps.map((s) => s.pool).lastIndexOf("control-plane");
        const firstWorker = steps.findIndex((s) => s.pool !== "control-plane");
        if (lastCp >= 0 && firstWorker >= 0) expect(firstWorker).toBeGreaterThan(lastCp);
      }),
      { numRuns: 60 },
    );
  });
});
