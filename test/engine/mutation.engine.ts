/**
 * The suite sees a change to the components' node options: the same batched bump, once with the options
 * components/node-options.ts computes and once with every node's `dependsOn` dropped (as a node-options.ts that
 * forgot the gate between batches would give). The first takes the planner's batches; the second must fail the
 * batch-by-batch comparison the rollout scenarios make, or the suite could not tell a broken order from a good one.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import { planRollout } from "../../components/rollout/plan";
import { engineActions, inBatches, nodeModes, planActions } from "../support/local-stack/engine-log";
import { LocalStack } from "../support/local-stack/local-stack";
import type { OptionsMutation } from "../support/local-stack/replica/cluster";
import { upReplica } from "../support/local-stack/replica/run";
import { cluster, patchBump, region } from "../support/scenarios/engine";

describe("a change to the components' node options", () => {
  const stacks: LocalStack[] = [];
  afterAll(() => stacks.forEach((s) => s.remove()));

  const shape = { workers: 4, rollout: { maxUnavailable: 2 } };
  const base = cluster(shape);
  const target = cluster(shape, patchBump);
  const plan = planRollout({ stack: "options", base, target, region }).steps;
  const modes = nodeModes(base, target);

  /** The bump's batches as the engine took them, after a first up. */
  async function bumpBatches(stack: string, mutation?: OptionsMutation): Promise<string[]> {
    const engine = new LocalStack({ cliRoot: inject("pulumiCliRoot"), stack, tier: "engine" });
    stacks.push(engine);
    const first = await upReplica(engine, base, region, { mutation });
    expect(first.result, first.error).toBe("succeeded");
    const bump = await upReplica(engine, target, region, { mutation });
    expect(bump.result, bump.error).toBe("succeeded");
    return inBatches(engineActions(bump.lines, modes), plan);
  }

  it("as they are: the bump takes the planner's batches", async () => {
    expect(await bumpBatches("options")).toEqual(inBatches(planActions(plan), plan));
  });

  it("with the gate dependency dropped: the batch-by-batch check fails", async () => {
    expect(await bumpBatches("options-broken", "no-gate-dependency")).not.toEqual(inBatches(planActions(plan), plan));
  });
});
