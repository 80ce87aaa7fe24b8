/**
 * vitest globalSetup for the e2e tier: sweeps control planes a killed run left behind, builds (or finds cached)
 * the toolchain once, before any test file runs, and hands its paths to the tests (`inject("toolchain")`).
 */
import type { TestProject } from "vitest/node";
import { ensureToolchain, type Toolchain } from "../toolchain/toolchain";
import { sweepAbandonedControlPlanes } from "../support/control-plane/sweep";

declare module "vitest" {
  export interface ProvidedContext {
    toolchain: Toolchain;
  }
}

function sweep(when: string): void {
  const removed = sweepAbandonedControlPlanes();
  if (removed.length > 0) process.stderr.write(`e2e ${when}: removed ${removed.length} abandoned control plane(s): ${removed.join(", ")}\n`);
}

export default async function setup(project: TestProject): Promise<() => void> {
  sweep("setup");
  const toolchain = await ensureToolchain((built) => {
    for (const b of built) process.stderr.write(`e2e setup: built ${b.tool} in ${b.seconds} s\n`);
  });
  project.provide("toolchain", toolchain);
  return () => sweep("teardown");
}
