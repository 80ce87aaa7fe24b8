/**
 * `npm run toolchain [-- --only pulumi|cluster|real]`: builds (or finds cached) everything the test tiers build for
 * themselves, and says what it built and how long it took. The tiers' global setups do the same on their own; this
 * is for filling a cache ahead. `--only pulumi` builds the Pulumi CLI alone (what test:engine needs), `--only
 * cluster` the control plane's programs alone (what test:e2e needs besides it), so CI can build the one before the
 * engine suite and the other beside it. `--only real` the real nodes' programs and images (test/support/real-nodes/; after the
 * control plane's build, whose caches it shares).
 */
import { parseArgs } from "node:util";
import { testCache } from "./go-build";
import { ensureRealToolchain } from "../support/real-nodes/real-toolchain";
import { ensurePulumiCli } from "./pulumi-cli";
import { ensureClusterToolchain, ensureToolchain, type Built } from "./toolchain";

const USAGE = "usage: npm run toolchain [-- --only pulumi|cluster|real]";
const started = Date.now();

function report(built: Built[]): void {
  for (const b of built) console.log(`built ${b.tool} in ${b.seconds} s`);
  if (built.length === 0) console.log("nothing to build: every tool was cached");
}

async function build(only: string | undefined): Promise<Record<string, unknown>> {
  if (only === "pulumi") {
    const cli = await ensurePulumiCli();
    report(cli.buildSeconds === undefined ? [] : [{ tool: `pulumi ${cli.version}`, seconds: cli.buildSeconds }]);
    return { pulumiRoot: cli.root, pulumiVersion: cli.version };
  }
  if (only === "cluster") return { ...(await ensureClusterToolchain(report)) };
  if (only === "real") {
    const real = await ensureRealToolchain(report); // test/support/real-nodes: the real nodes' programs and images
    return { nodePrograms: real.binaries.bin, images: real.images.dir };
  }
  if (only !== undefined) throw new Error(`--only: ${JSON.stringify(only)} is not pulumi, cluster or real\n${USAGE}`);
  return { ...(await ensureToolchain(report)) };
}

let only: string | undefined;
try {
  ({ values: { only } } = parseArgs({ options: { only: { type: "string" } } }));
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(2);
}

build(only).then(
  (tools) => {
    console.log(`toolchain in ${testCache()} ready in ${Math.round((Date.now() - started) / 1000)} s:`);
    for (const [k, v] of Object.entries(tools)) console.log(`  ${k}: ${String(v)}`);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
