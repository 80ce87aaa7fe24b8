/**
 * One run of the program (index.ts) under Pulumi's mocks for the 1,000-node stack: the example dev stack with five
 * cattle pools of 200 and its pets control plane. Run in its own process by scale.bench.ts, so its memory is its own;
 * prints one JSON line: seconds, peak RSS in MB, stored dependency edges (every registration's dependencies; of them
 * those that order nodes, to and from the gates, and the instances' launch template inputs), nodes.
 */
import { join } from "node:path";
import { readStackFile } from "../../components/config/stackfile";
import type * as pulumi from "@pulumi/pulumi";
import { settle, useMocks, valueOf } from "../support/fixtures/mocks";
import { REPO_DIR } from "../support/fixtures/stackfiles";

const SECRETS = { "kubeherd:kubeconfig": "apiVersion: v1\nkind: Config\n", "kubeherd:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----" };

/** The dev stack's config as the engine hands it to the program, with `pools` cattle pools of `size` after its control plane. */
export function scaleStackConfig(pools: number, size: number): Record<string, string> {
  const { values } = readStackFile(join(REPO_DIR, "Pulumi.dev.yaml"));
  const devPools = values["kubeherd:pools"] as Record<string, unknown>[];
  const [controlPlane, workers] = devPools;
  const cattle = Array.from({ length: pools }, (_, i) => ({ ...workers, name: `pool${i + 1}`, size }));
  const out: Record<string, string> = { ...SECRETS };
  for (const [k, v] of Object.entries({ ...values, "kubeherd:pools": [controlPlane, ...cattle] })) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

async function main(): Promise<void> {
  const config = scaleStackConfig(5, 200);
  const registered = useMocks("dev", config, Object.keys(SECRETS));
  const start = performance.now();
  const program = ((await import("../../index")) as unknown as { default: () => Promise<unknown> }).default;
  const exports = (await program()) as { rolledOut: pulumi.Output<unknown> };
  await valueOf(exports.rolledOut);
  await settle();
  const seconds = (performance.now() - start) / 1000;
  const nodes = registered.filter((r) => r.type === "aws:ec2/instance:Instance" || r.type === "command:remote:Command").length;
  const edges = registered.reduce((n, r) => n + r.dependencies.length, 0);
  // The edges that order nodes: to and from the gates between batches (components/node-options.ts).
  const gates = new Set(registered.filter((r) => r.type === "pulumi:index:Stash").map((r) => r.urn));
  const ordering = registered.reduce((n, r) => n + r.dependencies.filter((d) => gates.has(r.urn) || gates.has(d)).length, 0);
  const templates = new Set(registered.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate").map((r) => r.urn));
  const templateInputs = registered.reduce((n, r) => n + (gates.has(r.urn) ? 0 : r.dependencies.filter((d) => templates.has(d)).length), 0);
  process.stdout.write(`${JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, edges, ordering, templateInputs, nodes, pools: 6, resources: registered.length })}\n`);
}

if (require.main === module) {
  main().then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
