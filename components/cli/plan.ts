/**
 * `npm run plan -- --stack NAME [--base FILE] [--format text|json|markdown] [--live [--kubeconfig FILE] [--context NAME]]`
 *
 * Prints the ordered steps that `pulumi up` would take to move the nodes from the config in --base (the config as
 * deployed; none: a first deployment) to the config in Pulumi.NAME.yaml. Offline: no credentials, no secrets, no
 * network. Exit 2 with one line per problem, naming the config key, when a config or the transition is invalid.
 * `--live` adds what each drain would do on the cluster, read-only (cli/live-plan.ts; exit 3 when one would never finish).
 */
import { parseArgs } from "node:util";
import { formatProblem, type Problem } from "../config/problems";
import { configKey, error } from "../config/problems";
import { planJourneyRollout } from "../rollout/journey-plan";
import { planRollout, type Plan } from "../rollout/plan";
import { planJourney } from "../versions/journey";
import { deployedOfConfig, judgeTransition } from "../versions/transition";
import { planJson, planText } from "./format";
import { runLivePlan } from "./live-plan";
import { planMarkdown } from "./markdown";
import { loadStack, stackFilePath } from "./stack";

export const FORMATS = ["text", "json", "markdown"] as const;
export type Format = (typeof FORMATS)[number];

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
}

/** Loads both stacks, checks them and the transition, and renders the plan. */
export function runPlan(opts: PlanOptions): PlanCommandResult & { plan?: Plan } {
  const target = loadStack(stackFilePath(opts.dir, opts.stack), opts.dir);
  const base = opts.base ? loadStack(opts.base, opts.dir) : undefined;
  const problems: Problem[] = [...target.problems];
  const stderr: string[] = [];
  // The base is the config as deployed: only its errors matter (its secrets, for one, are not needed here).
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
  return { code: 0, stdout, stderr, plan };
}

/** A journey moves the pools it started with: pools added or removed go in a rollout of their own, before or after. */
function journeyPoolProblems(base: string[], target: string[]): Problem[] {
  const added = target.filter((p) => !base.includes(p));
  const removed = base.filter((p) => !target.includes(p));
  if (added.length + removed.length === 0) return [];
  return [error(configKey("pools"), `a journey of several minors does not also add or remove pools (${[...added.map((p) => `+${p}`), ...removed.map((p) => `-${p}`)].join(", ")}): change the pools in a rollout of their own, before or after the journey`)];
}

const USAGE = "usage: npm run plan -- --stack NAME [--base FILE] [--format text|json|markdown] [--live [--kubeconfig FILE] [--context NAME]]";

export function main(argv: string[]): number | Promise<number> {
  let values: { stack?: string; base?: string; format?: string; live?: boolean; kubeconfig?: string; context?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { stack: { type: "string" }, base: { type: "string" }, format: { type: "string", default: "text" }, live: { type: "boolean", default: false }, kubeconfig: { type: "string" }, context: { type: "string" } },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.stack) {
    console.error(`--stack is required\n${USAGE}`);
    return 2;
  }
  if (!FORMATS.includes(values.format as Format)) {
    console.error(`--format must be one of ${FORMATS.join(", ")}\n${USAGE}`);
    return 2;
  }
  if ((values.kubeconfig !== undefined || values.context !== undefined) && !values.live) {
    console.error(`--kubeconfig and --context go with --live\n${USAGE}`);
    return 2;
  }
  const opts: PlanOptions = { stack: values.stack, base: values.base, format: values.format as Format, dir: process.cwd() };
  const print = (result: { code: number; stdout: string; stderr: string[] }) => {
    for (const line of result.stderr) console.error(line);
    if (result.stdout) console.log(result.stdout);
    return result.code;
  };
  if (values.live) return runLivePlan({ ...opts, kubeconfig: values.kubeconfig, context: values.context }).then(print);
  return print(runPlan(opts));
}

if (require.main === module) void Promise.resolve(main(process.argv.slice(2))).then((code) => (process.exitCode = code));
