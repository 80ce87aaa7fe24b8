/**
 * vitest globalSetup for the engine suite: builds (or finds cached) the Pulumi CLI once, before any test file runs,
 * and hands its installation root to the tests (`inject("pulumiCliRoot")`).
 */
import type { TestProject } from "vitest/node";
import { ensurePulumiCli } from "../toolchain/pulumi-cli";

declare module "vitest" {
  export interface ProvidedContext {
    pulumiCliRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const cli = await ensurePulumiCli();
  if (cli.buildSeconds !== undefined) process.stderr.write(`engine tests: built the Pulumi CLI ${cli.version} in ${cli.buildSeconds}s (${cli.root})\n`);
  project.provide("pulumiCliRoot", cli.root);
}
