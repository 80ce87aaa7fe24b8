/**
 * The suite sees a change to the components: the same batched bump of a stack the program deployed, once by
 * kubeherd's program as it is and once by a copy of the program whose components/node-options.ts drops every node's
 * `dependsOn` (as a node-options.ts that forgot the gate between batches would; test/support/local-stack/project-copy.ts).
 * The first takes the planner's batches; the second must fail the checks the rollout scenarios make (the update
 * succeeds and takes the planner's batches: here either its batches differ or the real drain hook's preflight stops
 * it), or the suite could not tell a broken order from a good one. The copy is a temporary directory: nothing of the
 * product changes.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import { planRollout } from "../../components/rollout/plan";
import { engineActions, inBatches, nodeModes, planActions } from "../support/local-stack/engine-log";
import { EngineWorld } from "../support/local-stack/engine-world";
import { projectCopyWith, type ProjectCopy } from "../support/local-stack/project-copy";
import { cluster, patchBump, region } from "../support/scenarios/engine";

describe("a change to the components' node options", () => {
  const worlds: EngineWorld[] = [];
  const copies: ProjectCopy[] = [];
  afterAll(async () => {
    for (const w of worlds.splice(0)) await w.stop();
    for (const c of copies.splice(0)) c.remove();
  });

  const shape = { workers: 4, rollout: { maxUnavailable: 2 } };
  const base = cluster(shape);
  const target = cluster(shape, patchBump);
  const plan = planRollout({ stack: "options", base, target, region }).steps;
  const modes = nodeModes(base, target);

  /** What the rollout scenarios check of an update. */
  const planned = { result: "succeeded", batches: inBatches(planActions(plan), plan) };

  /** The bump's outcome and batches as the engine took them, after a first up of this checkout's program; the bump by
   *  this checkout's program or by `programDir`'s. */
  async function bump(stack: string, programDir?: string): Promise<{ result: string; batches: string[]; error?: string }> {
    const engine = await EngineWorld.start({ cliRoot: inject("pulumiCliRoot"), stack });
    worlds.push(engine);
    const first = await engine.up(base, region);
    expect(first.result, first.error).toBe("succeeded");
    const outcome = await engine.up(target, region, { programDir });
    // Only what the rollout scenarios check, plus the failure (kept apart from the comparison).
    return { result: outcome.result, batches: inBatches(engineActions(outcome.lines, modes), plan), ...(outcome.error ? { error: outcome.error } : {}) };
  }

  it("as they are: the bump takes the planner's batches", async () => {
    const { error, ...checked } = await bump("options");
    expect(checked, error).toEqual(planned);
  });

  it("with the gate dependency dropped from node-options.ts: the batch-by-batch check fails", async () => {
    // Both node kinds' options (cattle and pets) depend on the gate after the previous batch this way.
    const copy = projectCopyWith("components/node-options.ts", "dependsOn: args.after ? [args.after] : [],", "dependsOn: [],", 2);
    copies.push(copy);
    const { error, ...checked } = await bump("options-broken", copy.dir);
    expect(checked).not.toEqual(planned);
    // The mutant program ran and took nodes out (a copy that did not even load would differ too, and prove nothing):
    // nodes were drained, and the update either took other batches or was stopped by the real drain hook's preflight
    // because nodes of an earlier batch were not back.
    expect(checked.batches.join(" "), error).toContain(":drain");
    if (checked.result !== "succeeded") expect(error).toContain("nodes of earlier batches are not back");
  });
});
