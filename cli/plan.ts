/**
 * `npm run plan -- --stack NAME [--base FILE] [--format text|json|markdown] [--live [--kubeconfig FILE] [--context NAME]]`
 *
 * Prints the ordered steps that `pulumi up` would take to move the nodes from the config in --base (the config as
 * deployed; none: a first deployment) to the config in Pulumi.NAME.yaml. Offline: no credentials, no secrets, no
 * network. Exit 2 with one line per problem, naming the config key, when a config or the transition is invalid.
 * `--live` adds what each drain would do on the cluster, read-only (cli/live-plan.ts; exit 3 when one would never finish).
 */
import { parseArgs } from "node:util";
import { formatProblem, type Problem } from "../components/config/problems";
import { checkTransition } from "../components/versions/rules";
import { planRollout, type Plan } from "../components/rollout/plan";
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
  if (base?.config && target.config) problems.push(...checkTransition(base.config, target.config));
  stderr.push(...problems.map(formatProblem));
  if (problems.some((p) => p.severity === "error") || !target.config || (base && !base.config)) {
    return { code: 2, stdout: "", stderr };
  }
  const plan = planRollout({ stack: opts.stack, base: base?.config, target: target.config, region: target.region ?? base?.region ?? "" });
  const stdout = opts.format === "json" ? planJson(plan) : opts.format === "markdown" ? planMarkdown(plan, opts.base) : planText(plan, opts.base);
  return { code: 0, stdout, stderr, plan };
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
