/**
 * `npm run plan` and `pulumi up` agree: for each sequence of configs, every real `pulumi up` of the node graph the
 * components declare (program/cluster.ts) performs exactly the planner's steps from the previous config, in order.
 * The engine is the real one (the Pulumi CLI built by pulumi-cli.ts); only the machines are stand-ins.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { planRollout } from "../../components/rollout/plan";
import { articleConfig, currentConfig, currentInput } from "../fixtures/config";
import { engineActions, nodeModes, planActions, unforgottenTerminations } from "./engine-log";
import { EngineStack } from "./engine-stack";

const region = "eu-west-1";

const articleBump = {
  versions: { kubernetes: "1.13.3", kubeadm: "1.13.3-00", kubelet: "1.13.3-00", kubectl: "1.13.3-00", "docker-ce": "18.06.2~ce~3-0~ubuntu" },
};
const patchBump = { versions: { kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } };

function surge(patch: Record<string, unknown> = {}): KubeherdConfig {
  const config = currentConfig(patch);
  for (const pool of config.pools) if (pool.mode === "cattle") pool.rollout.strategy = "surge";
  return config;
}

const workersOfSize = (size: number) => ({
  pools: (currentInput.pools as Record<string, unknown>[]).map((p) => (p.name === "workers" ? { ...p, size } : p)),
});

interface Scenario {
  name: string;
  stack: string;
  /** Deployed in turn; the first `up` is a first deployment. */
  configs: KubeherdConfig[];
}

const scenarios: Scenario[] = [
  {
    name: "the field article's bump: pets control plane, rolling cattle workers, pets storage, then an up with nothing to do",
    stack: "article",
    configs: [articleConfig(), articleConfig(articleBump), articleConfig(articleBump)],
  },
  {
    name: "a patch bump of surge cattle workers between pets pools",
    stack: "surge",
    configs: [surge(), surge(patchBump)],
  },
  {
    name: "a cattle pool that grows by one and then shrinks by two",
    stack: "resize",
    configs: [currentConfig(), currentConfig(workersOfSize(4)), currentConfig(workersOfSize(2))],
  },
];

describe("a real pulumi up takes exactly the planner's steps", () => {
  const stacks: EngineStack[] = [];
  afterAll(() => stacks.forEach((s) => s.remove()));

  it.each(scenarios)("$name", async ({ stack, configs }) => {
    const engine = new EngineStack(inject("pulumiCliRoot"), stack, region);
    stacks.push(engine);
    const modes = nodeModes(...configs);
    let base: KubeherdConfig | undefined;
    for (const [i, target] of configs.entries()) {
      const outcome = await engine.up(target);
      const planned = planActions(planRollout({ stack, base, target, region }).steps);
      expect(outcome.result, `up #${i + 1}`).toBe("succeeded");
      expect({ up: i + 1, steps: engineActions(outcome.lines, modes) }).toEqual({ up: i + 1, steps: planned });
      expect(unforgottenTerminations(outcome.lines), `up #${i + 1}: each terminate followed by its afterDelete hook`).toEqual([]);
      base = target;
    }
  });
});
