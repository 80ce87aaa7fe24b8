/**
 * Runs one real `pulumi up` of the engine test's program for a kubeherd config, in its own Node process (as a
 * Pulumi program runs): `tsx test/engine/program/up.ts <request.json>`.
 *
 * The program runs in this process through the Automation API: the CLI is started with `--client`, pointing at the
 * language runtime this process serves, so no `pulumi-language-nodejs` binary is needed (none can be built here:
 * see test/engine/pulumi-cli.ts). Everything after that (the step generator, dependsOn ordering, replacement,
 * hooks, the dynamic provider's own process) is the real engine.
 */
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { readFileSync } from "node:fs";
import { configSchema } from "../../../components/config/schema";
import { declareCluster } from "./cluster";

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
    program: async () => declareCluster({ config, region: request.region, logPath: request.logPath }),
  });
  const stack = await Stack.createOrSelect(request.stack, workspace);
  const result = await stack.up({ onOutput: (text) => process.stderr.write(text) });
  process.stdout.write(`${JSON.stringify({ result: result.summary.result, resourceChanges: result.summary.resourceChanges })}\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
