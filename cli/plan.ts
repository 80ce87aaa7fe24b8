/**
 * `npm run plan -- --stack NAME [--base FILE] [--format text|json|markdown] [--live [--kubeconfig FILE] [--context NAME]]`
 *
 * Prints the ordered steps that `pulumi up` would take to move the nodes from the config in --base (the config as
 * deployed; none: a first deployment) to the config in Pulumi.NAME.yaml. Offline: no credentials, no secrets, no
 * network. Exit 2 with one line per problem, naming the config key, when a config or the transition is invalid.
 * `--live` adds what each drain would do on the cluster, read-only (cli/live-plan.ts; exit 3 when one would never finish).
 */
import { parseCommand, type CommandSpec } from "./args";
import { FORMATS, type Format } from "./format";
import { runLivePlan } from "./live-plan";
import { runPlan, type PlanOptions } from "./offline-plan";

export const PLAN_COMMAND: CommandSpec = {
  command: "npm run plan",
  summary: "Prints the steps pulumi up would take from the config in --base (none: a first deployment) to Pulumi.NAME.yaml. Offline.",
  options: {
    stack: { type: "string", value: "NAME", required: true, stack: true, help: "the stack whose Pulumi.NAME.yaml is planned" },
    base: { type: "string", value: "FILE", help: "the stack file as deployed (another Pulumi.*.yaml)" },
    format: { type: "string", choices: FORMATS, default: "text", help: "text for a terminal, json for tools, markdown for a pull request" },
    live: { type: "boolean", default: false, help: "add what each drain would do on the cluster now (read-only; exit 3 when one would never finish)" },
    kubeconfig: { type: "string", value: "FILE", with: "live", help: "the cluster's kubeconfig (default: KUBECONFIG)" },
    context: { type: "string", value: "NAME", with: "live", help: "the kubeconfig context to use" },
  },
};

export function main(argv: string[]): number | Promise<number> {
  const parsed = parseCommand(PLAN_COMMAND, argv);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values as { stack: string; base?: string; format: Format; live: boolean; kubeconfig?: string; context?: string };
  const opts: PlanOptions = { stack: v.stack, base: v.base, format: v.format, dir: process.cwd() };
  const print = (result: { code: number; stdout: string; stderr: string[] }) => {
    for (const line of result.stderr) console.error(line);
    if (result.stdout) console.log(result.stdout);
    return result.code;
  };
  if (v.live) return runLivePlan({ ...opts, kubeconfig: v.kubeconfig, context: v.context }).then(print);
  return print(runPlan(opts));
}

if (require.main === module) void Promise.resolve(main(process.argv.slice(2))).then((code) => (process.exitCode = code));
