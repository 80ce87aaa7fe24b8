/**
 * The rollout of a journey (components/versions/journey.ts), for the plan and for the program alike: each stage is
 * a rollout of its pools alone from the versions they ran before the stage to the stage's versions, with the
 * stage's exact scripts and user data; batches are numbered on across the stages and carry their `stage`, so the
 * gate chain of `pulumi up` (components/node-options.ts) runs through the stages in the order the plan lists them.
 *
 * What the program declares per stage (`journeyDeclarations`): a pool's last stage is its own node resources when
 * they converge to exactly what the target config makes them converge to (then the next `up`, with no journey,
 * finds them unchanged); every other stage of a pets pool is a stage resource per node (`<node>-to-1-32`), which
 * the next `up` deletes, running nothing. A cattle pool is replaced once per `up`: it takes part in one stage,
 * joining at its target pins, or the journey is refused.
 */
import { configKey, error, type Problem } from "../config/problems";
import type { KubeherdConfig, Versions } from "../config/schema";
import type { Journey, JourneyStage } from "../versions/journey";
import { rolloutBatches, type Batch } from "./batches";
import { configChanges } from "./changes";
import { cattleNodes, petsNodes, poolsInRolloutOrder } from "./nodes";
import { planRollout, type Plan, type PoolSummary, type Step } from "./plan";

export interface JourneyStageRollout {
  stage: JourneyStage;
  /** The stage's pools at the versions they ran before the stage. */
  base: KubeherdConfig;
  /** The stage's pools at the stage's versions: what the stage's nodes converge to. */
  target: KubeherdConfig;
  /** The stage's batches, numbered on across the journey, each with the stage's number. */
  batches: Batch[];
}

/** The stages as rollouts, in order. `base` gives the versions every pool ran before the journey. */
export function journeyStageRollouts(base: Pick<KubeherdConfig, "versions" | "pools">, target: KubeherdConfig, journey: Journey): JourneyStageRollout[] {
  const running = new Map<string, Versions>(target.pools.map((p) => [p.name, base.versions]));
  const out: JourneyStageRollout[] = [];
  let offset = 0;
  for (const stage of journey.stages) {
    const pools = target.pools.filter((p) => stage.pools.includes(p.name));
    const before = running.get(pools[0].name) ?? base.versions;
    const stageBase: KubeherdConfig = { ...target, versions: before, pools: base.pools.filter((p) => stage.pools.includes(p.name)) };
    const stageTarget: KubeherdConfig = { ...target, versions: stage.versions, pools };
    const batches = rolloutBatches(stageTarget).map((b) => ({ ...b, number: b.number + offset, stage: stage.number }));
    offset += batches.length;
    out.push({ stage, base: stageBase, target: stageTarget, batches });
    for (const p of pools) running.set(p.name, stage.versions);
  }
  return out;
}

export interface JourneyPlanInput {
  stack: string;
  base: KubeherdConfig;
  target: KubeherdConfig;
  region: string;
  journey: Journey;
}

export function planJourneyRollout({ stack, base, target, region, journey }: JourneyPlanInput): Plan {
  const steps: Step[] = [];
  const deferred: Step[] = [];
  const summaries = new Map<string, PoolSummary>();
  const warnings: string[] = [];
  const rollouts = journeyStageRollouts(base, target, journey);
  for (const r of rollouts) {
    const plan = planRollout({ stack, base: { ...base, versions: r.base.versions, pools: r.base.pools }, target: r.target, region });
    const offset = r.batches.length ? r.batches[0].number - 1 : 0;
    for (const s of plan.steps) {
      // Deletes the engine defers (surge replacements) run at the end of the whole update, after every stage.
      if (s.batch > r.batches.length) deferred.push({ ...s, stage: r.stage.number });
      else steps.push({ ...s, batch: s.batch + offset, stage: r.stage.number });
    }
    for (const summary of plan.pools) summaries.set(summary.pool, mergeSummary(summaries.get(summary.pool), summary));
    warnings.push(...plan.warnings.filter((w) => !warnings.includes(w)));
  }
  // Pools whose own resources come after the journey (they took part in no stage, or their last stage is not
  // exactly their target): the rollout from what they ran at the journey's end to the target.
  const declared = journeyDeclarations(target, journey, region);
  let last = rollouts.reduce((n, r) => n + r.batches.length, 0);
  for (const name of declared.trailing) {
    const pool = target.pools.find((p) => p.name === name);
    const ran = [...rollouts].reverse().find((r) => r.stage.pools.includes(name))?.target.versions ?? base.versions;
    const basePool = base.pools.find((p) => p.name === name);
    if (!pool) continue;
    const plan = planRollout({ stack, base: { ...base, versions: ran, pools: basePool ? [basePool] : [] }, target: { ...target, pools: [pool] }, region });
    // Numbered as the program numbers them (journeyDeclarations' trailingBatches): every batch of the pool counts.
    const size = rolloutBatches({ ...target, pools: [pool] }).length;
    steps.push(...plan.steps.map((s) => ({ ...s, batch: s.batch + last })));
    last += size;
    for (const summary of plan.pools) summaries.set(summary.pool, mergeSummary(summaries.get(summary.pool), summary));
  }
  const rounds = [...new Set(deferred.map((s) => s.batch))];
  for (const s of deferred) steps.push({ ...s, batch: last + 1 + rounds.indexOf(s.batch) });
  const pools = target.pools.map((p) => summaries.get(p.name)).filter((s): s is PoolSummary => s !== undefined);
  for (const summary of pools) summary.batches = new Set(steps.filter((s) => s.pool === summary.pool).map((s) => s.batch)).size;
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

/** One pool's part in one stage, as the program declares it. */
export interface StagePool {
  pool: string;
  /** The pool's batches in this stage (numbered across the journey, with the stage). */
  batches: Batch[];
  /** True: the pool's own node resources are this stage; false: a stage resource per node (`<node>-to-1-32`). */
  own: boolean;
}

export interface StageDeclaration {
  stage: JourneyStage;
  /** The stage's config: its pools at the stage's versions (scripts, user data, what the hooks wait for). */
  config: KubeherdConfig;
  pools: StagePool[];
}

export interface JourneyDeclarations {
  stages: StageDeclaration[];
  /** Pools, in rollout order, whose own node resources come after the journey's last stage. */
  trailing: string[];
  /** Their batches, numbered on after the journey's. */
  trailingBatches: Batch[];
  /** Why the program cannot walk this journey in one `up` (a cattle pool that would be replaced twice). */
  problems: Problem[];
}

/** What `pulumi up` declares for a journey: per stage, per pool, in order; then the pools that follow. */
export function journeyDeclarations(target: KubeherdConfig, journey: Journey, region: string): JourneyDeclarations {
  const rollouts = journeyStageRollouts(target, target, journey);
  const lastStage = new Map<string, number>();
  for (const r of rollouts) for (const p of r.stage.pools) lastStage.set(p, r.stage.number);
  const problems: Problem[] = [];
  const owned = new Set<string>();
  const stages = rollouts.map((r): StageDeclaration => ({
    stage: r.stage,
    config: r.target,
    pools: poolsInRolloutOrder(r.target).map((pool) => {
      const batches = r.batches.filter((b) => b.pool === pool.name);
      const final = lastStage.get(pool.name) === r.stage.number;
      if (pool.mode === "cattle") {
        const same = final && cattleNodes(r.target, pool, region).map((n) => n.fingerprint).join("\n") === cattleNodes(target, pool, region).map((n) => n.fingerprint).join("\n");
        const stagesOfPool = rollouts.filter((x) => x.stage.pools.includes(pool.name)).map((x) => x.stage.minor);
        if (final && (!same || stagesOfPool.length > 1)) {
          problems.push(
            error(
              configKey("versions", ["kubernetes"]),
              `cattle pool ${pool.name} would be replaced at ${stagesOfPool.join(" and then at ")} in this journey (the kubelet skew policy moves it before the control plane's last stage): a pulumi up replaces a cattle node once: pin ${stagesOfPool[0]}'s release first (stop the journey there), then the target`,
            ),
          );
        }
        if (final) owned.add(pool.name);
        return { pool: pool.name, batches, own: final };
      }
      const own = final && sameConvergence(petsNodes(r.target, pool), petsNodes(target, pool));
      if (own) owned.add(pool.name);
      return { pool: pool.name, batches, own };
    }),
  }));
  const trailing = poolsInRolloutOrder(target).map((p) => p.name).filter((p) => !owned.has(p));
  const offset = rollouts.reduce((n, r) => n + r.batches.length, 0);
  const trailingBatches = rolloutBatches(target).filter((b) => trailing.includes(b.pool)).map((b, i) => ({ ...b, number: offset + i + 1 }));
  return { stages, trailing, trailingBatches, problems };
}

function sameConvergence(a: ReturnType<typeof petsNodes>, b: ReturnType<typeof petsNodes>): boolean {
  const key = (nodes: ReturnType<typeof petsNodes>) => JSON.stringify(nodes.map((n) => [n.node, n.script, n.triggers]));
  return key(a) === key(b);
}
