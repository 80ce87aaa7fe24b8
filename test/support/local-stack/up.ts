/**
 * Runs one real `pulumi up` (or preview) in its own Node process as a Pulumi program runs:
 * `tsx test/support/local-stack/up.ts <request.json>` (local-stack.ts starts it). The program is kubeherd's OWN
 * program, index.ts, or, for the engine tier, its replica of the node graph (replica/cluster.ts). It is served to the
 * CLI through the Automation API (`--client`): no language host binary can be built here (see
 * test/toolchain/pulumi-cli.ts). Everything after that (the step generator, dependsOn ordering, replacement, hooks,
 * the providers' own processes) is the real engine. The stack's config is set as `pulumi config set` sets it, the
 * kubeconfig and SSH key as secrets.
 */
import { LocalWorkspace, PulumiCommand, Stack, type ConfigMap } from "@pulumi/pulumi/automation";
import { readFileSync } from "node:fs";
import { configSchema } from "../../../components/config/schema";
import type { ClusterProgramArgs } from "./replica/cluster";

/** The engine tier's replica of the node graph, instead of index.ts: its config (parsed again through the schema
 *  here), where it logs, and what its hooks do. */
export type ReplicaRun = ClusterProgramArgs;

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
  replica?: ReplicaRun;
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
      const replica = request.replica;
      if (replica) {
        const { declareCluster } = await import("./replica/cluster");
        return declareCluster({ ...replica, config: configSchema.parse(replica.config) });
      }
      type Program = () => Promise<Record<string, unknown>>;
      const mod = (await import("../../../index")) as unknown as { default?: Program } & Program;
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

function report(r: UpReport): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
