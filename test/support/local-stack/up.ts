/**
 * Runs one real `pulumi up` (or preview) in its own Node process as a Pulumi program runs:
 * `tsx test/support/local-stack/up.ts <request.json>` (local-stack.ts starts it). The program is kubeherd's OWN
 * program, index.ts (of this checkout, or of a copy of the project given as `programDir`). It is served to the
 * CLI through the Automation API (`--client`): no language host binary can be built here (see
 * test/toolchain/pulumi-cli.ts). Everything after that (the step generator, dependsOn ordering, replacement, hooks,
 * the providers' own processes) is the real engine. The stack's config is set as `pulumi config set` sets it, the
 * kubeconfig and SSH key as secrets.
 */
import { LocalWorkspace, PulumiCommand, Stack, type ConfigMap } from "@pulumi/pulumi/automation";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(__dirname, "../../..");

/**
 * The engine tier's wall clock for maintenance windows (test/engine/interrupted.engine.ts). The real drain hook
 * reads the system's wall clock (`new Date()`, components/kube/hook-actions.ts); with a clock given, this process
 * (the program's, test harness code, not the product) replaces the global `Date` before index.ts is imported: the
 * time starts at `start` and moves on `minutesPerNode` with every node back (each `<node>:ready` line the engine
 * harness appends to the stack's log during this update), so the nodes of one batch start at the same time and a
 * window can close between batches. Between those steps it runs at the real clock's pace.
 */
export interface WallClock {
  /** An ISO instant. */
  start: string;
  minutesPerNode: number;
}

export interface UpRequest {
  cliRoot: string;
  workDir: string;
  stack: string;
  /** Plain config values by full key (`kubeherd:pools`): objects are set as JSON, as the CLI stores them. */
  config: Record<string, unknown>;
  /** Secret config values by full key (`kubeherd:kubeconfig`). */
  secrets: Record<string, string>;
  action: "up" | "preview";
  /** `pulumi up --parallel`; the CLI's default when undefined. */
  parallel?: number;
  /** The stack's log (`<node>:<event>` lines), which the wall clock reads. */
  logPath: string;
  clock?: WallClock;
  /** A copy of the project whose index.ts runs instead of this checkout's (mutation.engine.ts). @default the checkout */
  programDir?: string;
  /** PULUMI_HOME, PULUMI_BACKEND_URL, the passphrase, the offline switches and PATH. */
  env: Record<string, string>;
}

export interface UpReport {
  result: string;
  resourceChanges: Record<string, number>;
  error?: string;
  /** What the CLI printed (the engine's progress and the hooks' log lines). */
  output: string;
}

async function main(requestPath: string): Promise<void> {
  const request = JSON.parse(readFileSync(requestPath, "utf8")) as UpRequest;
  const pulumiCommand = await PulumiCommand.get({ root: request.cliRoot });
  const workspace = await LocalWorkspace.create({
    workDir: request.workDir,
    pulumiHome: request.env.PULUMI_HOME,
    pulumiCommand,
    envVars: request.env,
    // Loaded inside the program, as the language host loads index.ts: components/hooks.ts registers its hooks on
    // import, which needs the engine connection the Automation API sets up first.
    program: async () => {
      if (request.clock) installWallClock(request.clock, request.logPath);
      type Program = () => Promise<Record<string, unknown>>;
      const mod = (await import(pathToFileURL(join(request.programDir ?? ROOT, "index.ts")).href)) as unknown as { default?: Program } & Program;
      return (mod.default ?? mod)();
    },
  });
  const stack = await Stack.createOrSelect(request.stack, workspace);
  const config: ConfigMap = {};
  for (const [key, value] of Object.entries(request.config)) config[key] = { value: typeof value === "string" ? value : JSON.stringify(value) };
  for (const [key, value] of Object.entries(request.secrets)) config[key] = { value, secret: true };
  const stale = Object.keys(await stack.getAllConfig()).filter((k) => !(k in config));
  if (stale.length) await stack.removeAllConfig(stale);
  await stack.setAllConfig(config);

  let output = "";
  const onOutput = (text: string) => {
    output += text;
    process.stderr.write(text);
  };
  try {
    if (request.action === "preview") {
      const r = await stack.preview({ parallel: request.parallel, onOutput });
      report({ result: "succeeded", resourceChanges: r.changeSummary ?? {}, output });
    } else {
      const r = await stack.up({ parallel: request.parallel, onOutput });
      report({ result: r.summary.result, resourceChanges: r.summary.resourceChanges ?? {}, output });
    }
  } catch (err) {
    // A failed update is an outcome the scenario judges (a PDB that never allows, sshd down), not a crash.
    report({ result: "failed", resourceChanges: {}, error: diagnostics(err instanceof Error ? err.message : String(err)), output });
  }
}

/** The CLI's "Diagnostics:" section of a failed update (each resource's error), else the whole message. */
export function diagnostics(message: string): string {
  const m = /Diagnostics:\n([\s\S]*?)(?:\n(?:Resources|Outputs):|$)/.exec(message);
  return (m ? m[1] : message).trim();
}

/** Replaces the global Date with one on the scripted wall clock (see WallClock); once per process. */
function installWallClock(clock: WallClock, logPath: string): void {
  const RealDate = Date;
  const origin = RealDate.now();
  const backs = () => (existsSync(logPath) ? readFileSync(logPath, "utf8").split("\n").filter((l) => l.endsWith(":ready")).length : 0);
  const before = backs();
  const start = RealDate.parse(clock.start);
  if (Number.isNaN(start)) throw new Error(`engine clock: ${clock.start} is not an instant`);
  const now = () => start + (RealDate.now() - origin) + (backs() - before) * clock.minutesPerNode * 60_000;
  class ScriptedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now());
      else super(...(args as [number, number]));
    }

    static override now(): number {
      return now();
    }
  }
  globalThis.Date = ScriptedDate as DateConstructor;
}

function report(r: UpReport): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
