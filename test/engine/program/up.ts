/**
 * Runs one real `pulumi up` of the engine test's program for a kubeherd config, in its own Node process (as a
 * Pulumi program runs): `tsx test/engine/program/up.ts <request.json>`.
 *
 * The program runs in this process through the Automation API: the CLI is started with `--client`, pointing at the
 * language runtime this process serves, so no `pulumi-language-nodejs` binary is needed (none can be built here:
 * see test/toolchain/pulumi-cli.ts). Everything after that (the step generator, dependsOn ordering, replacement,
 * hooks, the dynamic provider's own process) is the real engine.
 */
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { readFileSync } from "node:fs";
import { configSchema } from "../../../components/config/schema";
import { declareCluster } from "./cluster";
import type { HookFaults, WallClock } from "./hooks";

/** What the test asks for; see engine-stack.ts. */
export interface UpRequest {
  /** The CLI installation: `<cliRoot>/bin/pulumi`. */
  cliRoot: string;
  /** A copy of test/engine/program's Pulumi.yaml beside a node_modules link (the dynamic provider resolves from here). */
  workDir: string;
  stack: string;
  /** A KubeherdConfig as JSON (parsed again through the schema here). */
  configFile: string;
  region: string;
  logPath: string;
  faults?: HookFaults;
  /** The drain hook's wall clock for maintenance windows; the system's when undefined. */
  clock?: WallClock;
  /** `pulumi up --parallel`; the CLI's default when undefined. */
  parallel?: number;
  /** PULUMI_HOME, PULUMI_BACKEND_URL, the passphrase and the offline switches. */
  env: Record<string, string>;
}

async function main(requestPath: string): Promise<void> {
  const request = JSON.parse(readFileSync(requestPath, "utf8")) as UpRequest;
  const config = configSchema.parse(JSON.parse(readFileSync(request.configFile, "utf8")));
  const pulumiCommand = await PulumiCommand.get({ root: request.cliRoot });
  const workspace = await LocalWorkspace.create({
    workDir: request.workDir,
    pulumiHome: request.env.PULUMI_HOME,
    pulumiCommand,
    envVars: request.env,
    program: async () => declareCluster({ config, region: request.region, logPath: request.logPath, faults: request.faults, clock: request.clock }),
  });
  const stack = await Stack.createOrSelect(request.stack, workspace);
  try {
    const result = await stack.up({ parallel: request.parallel, onOutput: (text) => process.stderr.write(text) });
    report({ result: result.summary.result, resourceChanges: result.summary.resourceChanges ?? {} });
  } catch (err) {
    // A failed update is an outcome the test looks at (an injected fault), not a crash of this process.
    report({ result: "failed", resourceChanges: {}, error: err instanceof Error ? err.message : String(err) });
  }
}

/** The last line of stdout: what the test reads. */
export interface UpReport {
  result: string;
  resourceChanges: Record<string, number>;
  error?: string;
}

function report(r: UpReport): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
