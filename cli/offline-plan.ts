/**
 * The plan as `npm run plan` computes it offline: both stacks loaded and checked, the transition checked, the steps
 * rendered. `--live` (live-plan.ts) and `npm run promote` build on it.
 */
import { formatProblem, type Problem } from "../components/config/problems";
import type { KubeherdConfig } from "../components/config/schema";
import { journeyDeclarations, planJourneyRollout } from "../components/rollout/journey-plan";
import { planRollout, type Plan } from "../components/rollout/plan";
import { journeyPoolProblems, planJourney } from "../components/versions/journey";
import { judgePlacement, placementOf } from "../components/versions/placement";
import { deployedOfConfig, judgeTransition } from "../components/versions/transition";
import { planJson, planText, type Format } from "./format";
import { planMarkdown } from "./markdown";
import { loadStack, stackFilePath } from "./stack";

export interface PlanCommandResult {
  code: 0 | 2;
  stdout: string;
  stderr: string[];
}

export interface PlanOptions {
  stack: string;
  base?: string;
  format: Format;
  dir: string;
  /** Whether unset secrets are worth a warning: yes for `npm run plan` (pulumi up will need them), not for promote. */
  secrets?: "warn" | "skip";
}

/** Loads both stacks, checks them and the transition, and renders the plan; on success also the plan, the target config and the base's. */
export function runPlan(opts: PlanOptions): PlanCommandResult & { plan?: Plan; config?: KubeherdConfig; baseConfig?: KubeherdConfig } {
  const target = loadStack(stackFilePath(opts.dir, opts.stack), opts.dir, opts.secrets ?? "warn");
  // The base is the config as deployed: only its errors matter (its secrets, for one, are not needed here).
  const base = opts.base ? loadStack(opts.base, opts.dir, "skip") : undefined;
  const problems: Problem[] = [...target.problems];
  const stderr: string[] = [];
  if (base) problems.push(...base.problems.filter((p) => p.severity === "error").map((p) => ({ ...p, message: `${p.message} (in --base ${opts.base})` })));
  // A multi-minor bump is a journey: the plan lists its stages, and pulumi up walks them (components/transition-gate.ts).
  const region = target.region ?? base?.region ?? "";
  const journey = base?.config && target.config ? planJourney(deployedOfConfig(base.config), target.config).journey : undefined;
  if (base?.config && target.config) problems.push(...judgeTransition(deployedOfConfig(base.config), target.config, { journeys: true }));
  // What --base placed (its image and region) against the target: a move of either that would orphan or kill nodes.
  if (base?.config && target.config) problems.push(...judgePlacement({ ...deployedOfConfig(base.config), ...placementOf(base.config, base.region) }, target.config, target.region));
  if (journey && base?.config && target.config) {
    problems.push(...journeyPoolProblems(deployedOfConfig(base.config), target.config), ...journeyDeclarations(target.config, journey, region).problems);
  }
  stderr.push(...problems.map(formatProblem));
  if (problems.some((p) => p.severity === "error") || !target.config || (base && !base.config)) {
    return { code: 2, stdout: "", stderr };
  }
  const plan = journey && base?.config
    ? planJourneyRollout({ stack: opts.stack, base: base.config, target: target.config, region, journey })
    : planRollout({ stack: opts.stack, base: base?.config, target: target.config, region });
  if (journey) {
    plan.warnings.push(
      `this is a journey of ${journey.stages.length} stages (${journey.path.join(" → ")}): pulumi up walks them in this order, each stage's nodes back before the next stage starts, and resumes at the failed stage when run again; ` +
        "to stop at a stage on purpose, pin that stage's release and pins in kubeherd:versions",
    );
  }
  const stdout = opts.format === "json" ? planJson(plan) : opts.format === "markdown" ? planMarkdown(plan, opts.base) : planText(plan, opts.base);
  return { code: 0, stdout, stderr, plan, config: target.config, ...(base?.config ? { baseConfig: base.config } : {}) };
}
