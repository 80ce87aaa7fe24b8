/**
 * The steps of a journey (components/versions/journey.ts): each stage is planned as a rollout of its pools alone
 * from the versions they ran before the stage to the stage's versions, with the stage's exact scripts and user
 * data; batches are numbered on across the stages and every step carries its `stage`.
 */
import type { KubeherdConfig, Versions } from "../config/schema";
import type { Journey } from "../versions/journey";
import { configChanges } from "./changes";
import { planRollout, type Plan, type PoolSummary, type Step } from "./plan";

export interface JourneyPlanInput {
  stack: string;
  base: KubeherdConfig;
  target: KubeherdConfig;
  region: string;
  journey: Journey;
}

export function planJourneyRollout({ stack, base, target, region, journey }: JourneyPlanInput): Plan {
  const running = new Map<string, Versions>(target.pools.map((p) => [p.name, base.versions]));
  const steps: Step[] = [];
  const summaries = new Map<string, PoolSummary>();
  const warnings: string[] = [];
  let offset = 0;
  for (const stage of journey.stages) {
    const pools = target.pools.filter((p) => stage.pools.includes(p.name));
    const before = running.get(pools[0].name) ?? base.versions;
    const stageBase: KubeherdConfig = { ...base, versions: before, pools: base.pools.filter((p) => stage.pools.includes(p.name)) };
    const stageTarget: KubeherdConfig = { ...target, versions: stage.versions, pools };
    const plan = planRollout({ stack, base: stageBase, target: stageTarget, region });
    for (const s of plan.steps) steps.push({ ...s, batch: s.batch + offset, stage: stage.number });
    offset = Math.max(offset, ...steps.map((s) => s.batch));
    for (const summary of plan.pools) summaries.set(summary.pool, mergeSummary(summaries.get(summary.pool), summary));
    warnings.push(...plan.warnings.filter((w) => !warnings.includes(w)));
    for (const p of pools) running.set(p.name, stage.versions);
  }
  const pools = target.pools.map((p) => summaries.get(p.name)).filter((s): s is PoolSummary => s !== undefined);
  return {
    stack,
    changes: configChanges(base, target),
    steps,
    pools,
    warnings,
    stages: journey.stages.map((s) => ({ number: s.number, kind: s.kind, minor: s.minor, pools: s.pools, kubernetes: s.versions.kubernetes })),
  };
}

/** One pool over several stages: its nodes changed in any stage, and the batches of every stage added up. */
function mergeSummary(a: PoolSummary | undefined, b: PoolSummary): PoolSummary {
  if (!a) return b;
  return { ...b, changedNodes: Math.max(a.changedNodes, b.changedNodes), addedNodes: Math.max(a.addedNodes, b.addedNodes), removedNodes: Math.max(a.removedNodes, b.removedNodes), batches: a.batches + b.batches };
}
