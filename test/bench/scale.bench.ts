/**
 * `npm run bench` (after kube.bench.ts): kubeherd at fleet scale. Printed, never asserted:
 *   program-1000-nodes:       the program (index.ts) under Pulumi's mocks for the example dev stack grown to five
 *                             cattle pools of 200 and its pets control plane: seconds, peak MB, stored dependency
 *                             edges (targets: under 10 s and 500 MB; edges a few per node)
 *   plan-1000-nodes:          `planRollout` of a Kubernetes patch bump of that stack
 *   engine-state-100-nodes,
 *   engine-state-300-nodes:   bytes of the state file after a real `pulumi up` of kubeherd's program in the engine
 *                             suite's world (test/support/local-stack/engine-world.ts) with 100 and 300 cattle nodes (their ratio: 3 is linear, 9 quadratic)
 *   engine-rollout-100-nodes: seconds of a patch bump of a 100-node rolling pool through the real engine with the
 *                             logging machines' fixed step times (1 s here), one node at a time, then with maxUnavailable "10%"; and
 *                             both without what an up costs with nothing to do (program, engine, providers, state)
 * The engine figures need the Pulumi CLI that `npm run test:engine` builds; without it they say so.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { configSchema, type KubeherdConfig } from "../../components/config/schema";
import { planRollout } from "../../components/rollout/plan";
import { ACTION_MS, EngineWorld } from "../support/local-stack/engine-world";
import type { LocalStack } from "../support/local-stack/local-stack";
import { pulumiCliRoot } from "../toolchain/pulumi-cli";
import { cluster, patchBump, region } from "../support/scenarios/engine";
import { scaleStackConfig } from "./scale-program";

const run = promisify(execFile);
/** The logging machines' step time for engine-rollout-100-nodes. */
const ROLLOUT_STEP_MS = 1000;
const TSX = join(__dirname, "..", "..", "node_modules", ".bin", "tsx");

async function programFigure(): Promise<string> {
  // Its own process: the peak memory is the program's alone.
  const { stdout } = await run(TSX, [join(__dirname, "scale-program.ts")], { maxBuffer: 16 * 1024 * 1024 });
  const r = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { seconds: number; maxRssMb: number; edges: number; ordering: number; templateInputs: number; nodes: number };
  const rest = r.edges - r.ordering - r.templateInputs;
  return `program-1000-nodes: ${r.seconds.toFixed(1)} s, ${Math.round(r.maxRssMb)} MB, ${r.edges} edges (${r.nodes} nodes; ${r.ordering} edges order them, ${(r.ordering / r.nodes).toFixed(1)} per node; ${r.templateInputs} launch template inputs; ${rest} among the pools' other resources)`;
}

/** The scaled stack as a validated config (the stack file's keys without their namespace). */
function scaleConfig(patch: Record<string, unknown> = {}): KubeherdConfig {
  const values = scaleStackConfig(5, 200);
  const raw = Object.fromEntries(Object.entries(values).filter(([k]) => k.startsWith("kubeherd:") && !/kubeconfig|sshPrivateKey/.test(k)).map(([k, v]) => [k.slice(9), JSON.parse(v) as unknown]));
  return configSchema.parse({ ...raw, ...Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, { ...(raw[k] as object), ...(v as object) }])) });
}

function planFigure(): string {
  const base = scaleConfig();
  const target = scaleConfig({ versions: { kubernetes: "1.33.6", kubeadm: "1.33.6-1.1", kubelet: "1.33.6-1.1", kubectl: "1.33.6-1.1" } });
  const start = performance.now();
  const plan = planRollout({ stack: "dev", base, target, region: "eu-west-1" });
  const seconds = (performance.now() - start) / 1000;
  return `plan-1000-nodes: ${seconds.toFixed(2)} s (${plan.steps.length} steps)`;
}

function stateBytes(engine: LocalStack): number {
  const stacks = join(engine.dir, "state", ".pulumi", "stacks");
  const files = readdirSync(stacks, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json") && !f.includes(".bak"));
  return files.reduce((n, f) => n + statSync(join(stacks, f)).size, 0);
}

async function engineFigures(cliRoot: string): Promise<string[]> {
  const lines: string[] = [];
  const worlds: EngineWorld[] = [];
  const stack = async (name: string) => {
    const w = await EngineWorld.start({ cliRoot, stack: name });
    worlds.push(w);
    return w;
  };
  try {
    const sizes: number[] = [];
    for (const [nodes, shape] of [[100, { workers: 100 }], [300, { workers: 150, batch: 150 }]] as const) {
      const engine = await stack(`state-${nodes}`);
      // Batches of 10% so the first deployment is quick; the stored graph has the same shape at any batch size.
      const up = await engine.up(cluster({ ...shape, rollout: { maxUnavailable: "10%" } }), region, { parallel: 32 });
      if (up.result !== "succeeded") throw new Error(`bench: the first up of ${nodes} nodes failed: ${up.error ?? ""}`);
      sizes.push(stateBytes(engine.stack));
      lines.push(`engine-state-${nodes}-nodes: ${sizes[sizes.length - 1]}`);
    }
    lines.push(`engine-state-ratio-300-100: ${(sizes[1] / sizes[0]).toFixed(2)} (3 is linear, 9 quadratic)`);

    const seconds: number[] = [];
    let idle = 0;
    // Steps of 1 s instead of the suite's 150 ms: still a hundredth of a real drain or boot, but long enough that the
    // engine's own work per step (its state writes, one at a time) does not hide what the batches save.
    for (const budget of [1, "10%"]) {
      const engine = await stack(`rollout-${budget === 1 ? "one" : "tenth"}`);
      const shape = { workers: 100, rollout: { maxUnavailable: budget } };
      engine.stepMs = ACTION_MS;
      if ((await engine.up(cluster(shape), region, { parallel: 32 })).result !== "succeeded") throw new Error("bench: first up failed");
      engine.stepMs = ROLLOUT_STEP_MS;
      const start = performance.now();
      const bump = await engine.up(cluster(shape, patchBump), region, { parallel: 32 });
      if (bump.result !== "succeeded") throw new Error(`bench: the bump failed: ${bump.error ?? ""}`);
      seconds.push((performance.now() - start) / 1000);
      // What every up costs before and after its steps: the program, the engine, the providers, the state.
      const again = performance.now();
      if ((await engine.up(cluster(shape, patchBump), region, { parallel: 32 })).result !== "succeeded") throw new Error("bench: the up after the bump failed");
      idle = Math.max(idle, (performance.now() - again) / 1000);
    }
    const [one, tenth] = seconds;
    lines.push(
      `engine-rollout-100-nodes: ${one.toFixed(1)} s, ${tenth.toFixed(1)} s (${(one / tenth).toFixed(1)}x; an up with nothing to change takes ${idle.toFixed(1)} s, ` +
        `the rollouts beyond it ${(one - idle).toFixed(1)} s and ${(tenth - idle).toFixed(1)} s: ${((one - idle) / (tenth - idle)).toFixed(1)}x; each node step is ${ROLLOUT_STEP_MS} ms here)`,
    );
  } finally {
    for (const w of worlds) await w.stop();
  }
  return lines;
}

async function main(): Promise<void> {
  console.log(await programFigure());
  console.log(planFigure());
  const cliRoot = pulumiCliRoot();
  if (!existsSync(join(cliRoot, "bin", "pulumi"))) {
    console.log(`engine-*: skipped, no Pulumi CLI at ${cliRoot} (npm run test:engine builds it)`);
    return;
  }
  for (const line of await engineFigures(cliRoot)) console.log(line);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
