/**
 * The plan as `npm run plan` computes it offline: both stacks loaded and checked, the transition checked, the steps
 * rendered. `--live` (live-plan.ts) and `npm run promote` build on it.
 */
import { configKey, error, formatProblem, type Problem } from "../components/config/problems";
import type { KubeherdConfig } from "../components/config/schema";
import { planJourneyRollout } from "../components/rollout/journey-plan";
import { planRollout, type Plan } from "../components/rollout/plan";
import { planJourney } from "../components/versions/journey";
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
  // The plan walks a multi-minor bump as a journey; the program still refuses one (components/transition-gate.ts).
  const journey = base?.config && target.config ? planJourney(deployedOfConfig(base.config), target.config).journey : undefined;
  if (base?.config && target.config) problems.push(...judgeTransition(deployedOfConfig(base.config), target.config, { journeys: true }));
  if (journey && base?.config && target.config) problems.push(...journeyPoolProblems(base.config.pools.map((p) => p.name), target.config.pools.map((p) => p.name)));
  stderr.push(...problems.map(formatProblem));
  if (problems.some((p) => p.severity === "error") || !target.config || (base && !base.config)) {
    return { code: 2, stdout: "", stderr };
  }
  const region = target.region ?? base?.region ?? "";
  const plan = journey && base?.config
    ? planJourneyRollout({ stack: opts.stack, base: base.config, target: target.config, region, journey })
    : planRollout({ stack: opts.stack, base: base?.config, target: target.config, region });
  if (journey) {
    plan.warnings.push(
      `this is a journey of ${journey.stages.length} stages (${journey.path.join(" → ")}): pulumi up does not walk a journey in one run yet and refuses this config; ` +
        "apply it stage by stage: set kubeherd:versions to each control-plane stage's release and pins in turn, and run pulumi up for each",
    );
  }
  const stdout = opts.format === "json" ? planJson(plan) : opts.format === "markdown" ? planMarkdown(plan, opts.base) : planText(plan, opts.base);
  return { code: 0, stdout, stderr, plan, config: target.config, ...(base?.config ? { baseConfig: base.config } : {}) };
}

/** A journey moves the pools it started with: pools added or removed go in a rollout of their own, before or after. */
function journeyPoolProblems(base: string[], target: string[]): Problem[] {
  const added = target.filter((p) => !base.includes(p));
  const removed = base.filter((p) => !target.includes(p));
  if (added.length + removed.length === 0) return [];
  return [error(configKey("pools"), `a journey of several minors does not also add or remove pools (${[...added.map((p) => `+${p}`), ...removed.map((p) => `-${p}`)].join(", ")}): change the pools in a rollout of their own, before or after the journey`)];
}
