/**
 * `npm run plan` and `pulumi up` agree: for each sequence of configs, every real `pulumi up` of kubeherd's own
 * program (index.ts, with its real hooks against the in-process Kubernetes API; test/support/local-stack/engine-world.ts)
 * performs exactly the planner's steps from the previous config, batch after batch, each node's steps in order (the
 * nodes of one batch change at once, so their lines interleave).
 * The engine is the real one (the Pulumi CLI built by test/toolchain/pulumi-cli.ts); only the providers' far side
 * (machines, cloud records, kubelets) are stand-ins.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { planRollout } from "../../components/rollout/plan";
import { engineActions, inBatches, nodeModes, planActions, unforgottenTerminations } from "../support/local-stack/engine-log";
import { EngineWorld } from "../support/local-stack/engine-world";
import { articleBump, articleConfig, cluster, imageBump, patchBump, region, threeSubnets } from "../support/scenarios/engine";

interface Scenario {
  name: string;
  stack: string;
  /** Deployed in turn; the first `up` is a first deployment. */
  configs: KubeherdConfig[];
  /** The program refuses the first config before registering anything (its config checks beyond the schema), with these words. */
  refused?: string;
}

const both = ["workers", "batch"];

const scenarios: Scenario[] = [
  {
    name: "the field article's bump: pets control plane, rolling cattle workers, pets storage; then an up with nothing to do",
    stack: "article",
    configs: [articleConfig(), articleConfig(articleBump), articleConfig(articleBump)],
  },
  {
    name: "a patch bump of surge cattle workers between pets pools: replacements first, old nodes last, last first",
    stack: "surge",
    configs: [cluster({ workers: 3, surge: both }), cluster({ workers: 3, surge: both }, patchBump)],
  },
  {
    // The replica this suite once ran took these; kubeherd's program refuses a cattle control plane outright.
    name: "a rolling cattle control plane before rolling workers: refused before anything is registered",
    stack: "cattle-cp",
    configs: [cluster({ cattleControlPlane: 3, workers: 3 }), cluster({ cattleControlPlane: 3, workers: 3 }, patchBump)],
    refused: "kubeherd:pools[0].mode: cattle control-plane pools are not supported",
  },
  {
    name: "a cattle pool that grows by one, then shrinks by two",
    stack: "resize",
    configs: [cluster({ workers: 3 }), cluster({ workers: 4 }), cluster({ workers: 2 })],
  },
  {
    name: "a rolling bump that also shrinks the pool: the removed node goes at the end",
    stack: "bump-shrink",
    configs: [cluster({ workers: 3 }), cluster({ workers: 2 }, patchBump)],
  },
  {
    name: "a bump that also switches the workers to surge",
    stack: "to-surge",
    configs: [cluster({ workers: 3 }), cluster({ workers: 3, surge: both }, patchBump)],
  },
  {
    name: "a cattle pool removed: its nodes go last first",
    stack: "pool-removed",
    configs: [cluster({ workers: 3, batch: 2 }), cluster({ workers: 3 })],
  },
  {
    name: "a patch bump of two surge pools with a pets pool between them: old nodes of the later pool go first",
    stack: "two-surge-pets",
    configs: [cluster({ workers: 3, batch: 2, surge: both }), cluster({ workers: 3, batch: 2, surge: both }, patchBump)],
  },
  {
    name: "a rolling pool and a surge pool on a new image",
    stack: "rolling-surge-image",
    configs: [cluster({ workers: 3, batch: 2, surge: ["workers"] }), cluster({ workers: 3, batch: 2, surge: ["workers"] }, imageBump)],
  },
  // Where the planner promises one node at a time and the engine deletes two at once (see the report in
  // test/engine/README.md): the old copies are chained only through the unchanged pets node between the pools.
  {
    name: "a new image for two surge pools with an unchanged pets pool between them",
    stack: "two-surge-image",
    configs: [cluster({ workers: 3, batch: 2, surge: both }), cluster({ workers: 3, batch: 2, surge: both }, imageBump)],
  },
  {
    name: "two cattle pools shrinking in one up with an unchanged pets pool between them",
    stack: "two-shrink",
    // A rolling pool of one must allow zero capacity, or the program refuses it.
    configs: [cluster({ workers: 3, batch: 2, rollout: { allowZeroCapacity: true } }), cluster({ workers: 2, batch: 1, rollout: { allowZeroCapacity: true } })],
  },
  // Batches (rollout.maxUnavailable, maxSurge, byZone, canary): the nodes of a batch at once, batch after batch.
  {
    name: "a rolling pool with maxUnavailable 3: three nodes drained and replaced at once, then the rest",
    stack: "batched",
    configs: [cluster({ workers: 7, rollout: { maxUnavailable: 3 } }), cluster({ workers: 7, rollout: { maxUnavailable: 3 } }, patchBump)],
  },
  {
    name: "surge batches: two replacements up at once, the old nodes at the end two at a time, last batch first",
    stack: "surge-batches",
    configs: [cluster({ workers: 5, surge: both, rollout: { maxSurge: 2, maxUnavailable: 2 } }), cluster({ workers: 5, surge: both, rollout: { maxSurge: 2, maxUnavailable: 2 } }, patchBump)],
  },
  {
    name: "byZone over three subnets with a canary: a batch never spans two zones, zones in order",
    stack: "by-zone",
    configs: [
      cluster({ workers: 7, subnets: threeSubnets, rollout: { maxUnavailable: 2, byZone: true, canary: true } }),
      cluster({ workers: 7, subnets: threeSubnets, rollout: { maxUnavailable: 2, byZone: true, canary: true } }, patchBump),
    ],
  },
  {
    name: "a shrink during a batched bump: the removed nodes go at the end in their old batches",
    stack: "batched-shrink",
    configs: [cluster({ workers: 7, rollout: { maxUnavailable: 3 } }), cluster({ workers: 4, rollout: { maxUnavailable: 3 } }, patchBump)],
  },
  {
    name: "the deferred deletes of two batched surge pools with an unchanged pets pool between them",
    stack: "two-surge-batches",
    configs: [
      cluster({ workers: 4, batch: 4, surge: both, rollout: { maxSurge: 2, maxUnavailable: 2 } }),
      cluster({ workers: 4, batch: 4, surge: both, rollout: { maxSurge: 2, maxUnavailable: 2 } }, imageBump),
    ],
  },
  {
    name: "two batched pools removed and shrunk around an unchanged pets pool",
    stack: "batched-removed",
    configs: [cluster({ workers: 5, batch: 4, rollout: { maxUnavailable: 2 } }), cluster({ workers: 3, rollout: { maxUnavailable: 2 } })],
  },
];

describe("a real pulumi up takes exactly the planner's steps", () => {
  const worlds: EngineWorld[] = [];
  afterAll(async () => {
    for (const w of worlds.splice(0)) await w.stop();
  });

  it.each(scenarios)("$name", async ({ stack, configs, refused }) => {
    const engine = await EngineWorld.start({ cliRoot: inject("pulumiCliRoot"), stack });
    worlds.push(engine);
    if (refused) {
      const outcome = await engine.up(configs[0], region);
      expect(outcome.result).toBe("failed");
      expect(outcome.error).toContain(refused);
      expect(outcome.lines).toEqual([]);
      return;
    }
    const modes = nodeModes(...configs);
    let base: KubeherdConfig | undefined;
    for (const [i, target] of configs.entries()) {
      // Batches of up to 8 nodes, as the CLI's default --parallel on two cores runs at most 8 steps at once.
      const outcome = await engine.up(target, region);
      const plan = planRollout({ stack, base, target, region }).steps;
      expect(outcome.result, `up #${i + 1}: ${outcome.error ?? ""}`).toBe("succeeded");
      expect({ up: i + 1, batches: inBatches(engineActions(outcome.lines, modes), plan) }).toEqual({ up: i + 1, batches: inBatches(planActions(plan), plan) });
      expect(unforgottenTerminations(outcome.lines), `up #${i + 1}: each terminate followed by its afterDelete hook`).toEqual([]);
      base = target;
    }
  });
});
