/**
 * `npm run status -- --stack NAME [--kubeconfig FILE] [--context NAME] [--watch] [--format text|json]`
 *
 * Each node of the stack, in rollout order, against the pins and `os.release`: Ready, kubelet, container runtime,
 * OS image, cordoned (and whether by kubeherd), and a summary line. `--watch` redraws on every change of a Node
 * (a watch, not polling), with a progress bar, until Ctrl-C. Read-only. Exit 2 with one line when the stack is
 * invalid or the cluster cannot be read.
 */
import { formatProblem } from "../components/config/problems";
import { systemClock } from "../components/kube/clock";
import { status, watchStatus, type StackStatus } from "../components/kube/status";
import { parseCommand, type CommandSpec } from "./args";
import { describeFailure, openCluster } from "./cluster-access";
import { loadStack, stackFilePath } from "./stack";
import { statusText } from "./status-text";

export const STATUS_COMMAND: CommandSpec = {
  command: "npm run status",
  summary: "Shows each node of the stack against its pins: Ready, kubelet, runtime, OS, cordoned. Read-only.",
  options: {
    stack: { type: "string", value: "NAME", required: true, stack: true, help: "the stack whose Pulumi.NAME.yaml names the nodes and pins" },
    kubeconfig: { type: "string", value: "FILE", help: "the cluster's kubeconfig (default: KUBECONFIG)" },
    context: { type: "string", value: "NAME", help: "the kubeconfig context to use" },
    watch: { type: "boolean", default: false, help: "redraw on every change of a Node until Ctrl-C" },
    format: { type: "string", choices: ["text", "json"], default: "text", help: "text for a terminal, json for tools" },
  },
};

export interface StatusOptions {
  stack: string;
  dir: string;
  kubeconfig?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  format: "text" | "json";
  /** Given: follow the cluster until it aborts, calling `print` with each frame. */
  watch?: { signal: AbortSignal; clearScreen: boolean };
  print: (text: string) => void;
  error: (line: string) => void;
}

export async function runStatus(opts: StatusOptions): Promise<0 | 2> {
  // Status reads no secret from the stack: an unset one is not worth a line here.
  const loaded = loadStack(stackFilePath(opts.dir, opts.stack), opts.dir, "skip");
  for (const p of loaded.problems) opts.error(formatProblem(p));
  if (!loaded.config || loaded.problems.some((p) => p.severity === "error")) return 2;
  const access = openCluster(opts.kubeconfig, opts.env, opts.context);
  if ("error" in access) {
    opts.error(access.error);
    return 2;
  }
  const render = (s: StackStatus) => (opts.format === "json" ? JSON.stringify(s) : statusText(s, { bar: opts.watch !== undefined }));
  try {
    if (!opts.watch) {
      opts.print(opts.format === "json" ? JSON.stringify(await status(access.client, opts.stack, loaded.config), null, 2) : render(await status(access.client, opts.stack, loaded.config)));
      return 0;
    }
    const { signal, clearScreen } = opts.watch;
    await watchStatus(access.client, systemClock, opts.stack, loaded.config, (s) => opts.print(`${clearScreen && opts.format === "text" ? "\x1b[H\x1b[2J" : ""}${render(s)}`), signal);
    return 0;
  } catch (err) {
    opts.error(describeFailure(err, access.server));
    return 2;
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(STATUS_COMMAND, argv);
  if ("exit" in parsed) return parsed.exit;
  const values = parsed.values as { stack: string; kubeconfig?: string; context?: string; watch: boolean; format: "text" | "json" };
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  if (values.watch) process.once("SIGINT", onSigint);
  try {
    return await runStatus({
      stack: values.stack,
      dir: process.cwd(),
      kubeconfig: values.kubeconfig,
      context: values.context,
      format: values.format,
      watch: values.watch ? { signal: stop.signal, clearScreen: process.stdout.isTTY === true } : undefined,
      print: (text) => console.log(text),
      error: (line) => console.error(line),
    });
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
