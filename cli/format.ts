/** Renderings of a plan: `text` for a terminal, `json` for tools (the DESIGN.md contract). */
import type { Plan, Step } from "../components/rollout/plan";

/** The plan's renderings: these two, and markdown (markdown.ts) for a pull request comment. */
export const FORMATS = ["text", "json", "markdown"] as const;
export type Format = (typeof FORMATS)[number];

export function planJson(plan: Plan): string {
  const steps = plan.steps.map((s) => ({
    pool: s.pool,
    node: s.node,
    action: s.action,
    ...(s.script !== undefined ? { script: s.script } : {}),
    ...(s.userData !== undefined ? { userData: s.userData } : {}),
    ...(s.note !== undefined ? { note: s.note } : {}),
    batch: s.batch,
    ...(s.stage !== undefined ? { stage: s.stage } : {}),
  }));
  const journey = plan.stages ? { stages: plan.stages } : {};
  return JSON.stringify({ stack: plan.stack, changes: plan.changes, ...journey, steps, pools: plan.pools, warnings: plan.warnings }, null, 2);
}

const show = (v: unknown) => (v === null ? "(unset)" : String(v));

export function poolLine(p: Plan["pools"][number]): string {
  const what: string[] = [];
  if (p.changedNodes) what.push(p.mode === "cattle" ? `${p.changedNodes} replaced (${p.strategy})` : `${p.changedNodes} upgraded in place`);
  if (p.addedNodes) what.push(p.mode === "cattle" ? `${p.addedNodes} launched` : `${p.addedNodes} adopted`);
  if (p.removedNodes) what.push(`${p.removedNodes} removed`);
  if (what.length === 0) return "no change";
  what.push(p.batchSize === 1 ? `${p.batches} batch${p.batches === 1 ? "" : "es"}, one node at a time` : `${p.batches} batch${p.batches === 1 ? "" : "es"} of up to ${p.batchSize} nodes`);
  if (p.window) what.push(`window ${p.window}`);
  return what.join(", ");
}

/** Consecutive steps of one batch. */
export function batchesOf(steps: readonly Step[]): { batch: number; steps: Step[]; first: number }[] {
  const out: { batch: number; steps: Step[]; first: number }[] = [];
  steps.forEach((s, i) => {
    const last = out[out.length - 1];
    if (last && last.batch === s.batch) last.steps.push(s);
    else out.push({ batch: s.batch, steps: [s], first: i });
  });
  return out;
}

/** `batch 4: workers, 3 nodes at once (zone subnet-…)` */
export function batchTitle(steps: readonly Step[]): string {
  const nodes = [...new Set(steps.map((s) => s.node))];
  const pools = [...new Set(steps.map((s) => s.pool))].join(", ");
  const at = nodes.length === 1 ? `${nodes.length} node` : `${nodes.length} nodes at once`;
  const notes = [...new Set(steps.map((s) => s.note).filter((n): n is string => n !== undefined && /end of the update/.test(n)))];
  const stage = steps[0].stage !== undefined ? `stage ${steps[0].stage}, ` : "";
  return `${stage}batch ${steps[0].batch}: ${pools}, ${at}${notes.length ? ` (at the end of the update)` : ""}`;
}

function stepDetail(s: Step): string {
  const parts: string[] = [];
  if (s.script !== undefined) parts.push(`script: ${s.script.split("\n").length} lines`);
  if (s.userData !== undefined) parts.push(`user data: ${s.userData.split("\n").length} lines`);
  if (s.note) parts.push(s.note);
  return parts.length ? `  (${parts.join("; ")})` : "";
}

export function planText(plan: Plan, base?: string): string {
  const out: string[] = [`kubeherd plan for stack ${plan.stack} ${base ? `from ${base}` : "(first deployment)"}`, ""];
  out.push("Changes:");
  if (plan.changes.length === 0) out.push("  none");
  // A first deployment sets every key: show what the nodes will run, and count the rest.
  const first = plan.changes.length > 0 && plan.changes.every((c) => c.from === null);
  const shown = first ? plan.changes.filter((c) => /^kubeherd:(versions|os)\./.test(c.key)) : plan.changes;
  const width = Math.max(0, ...shown.map((c) => c.key.length));
  for (const c of shown) out.push(`  ${c.key.padEnd(width)}  ${show(c.from)} -> ${show(c.to)}`);
  if (first) out.push(`  … and ${plan.changes.length - shown.length} more settings of a first deployment (--format json lists them all)`);
  if (plan.stages) out.push("", "Journey (stage by stage, in order):", ...journeyLines(plan.stages).map((l) => `  ${l}`));
  out.push("", "Pools (in rollout order):");
  for (const p of plan.pools) out.push(`  ${p.pool.padEnd(16)} ${p.role.padEnd(13)} ${p.mode.padEnd(6)} ${String(p.nodes).padStart(3)} nodes  ${poolLine(p)}`);
  out.push("", "Steps:");
  if (plan.steps.length === 0) out.push("  none: nothing on the nodes changes");
  for (const b of batchesOf(plan.steps)) {
    out.push(`  ${batchTitle(b.steps)}`);
    b.steps.forEach((s, k) => out.push(`  ${String(b.first + k + 1).padStart(3)}. ${`${s.pool}/${s.node}`.padEnd(28)} ${s.action.padEnd(10)}${stepDetail(s)}`.trimEnd()));
  }
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  if (plan.steps.some((s) => s.script !== undefined || s.userData !== undefined)) {
    out.push("", "Scripts and user data are printed in full by --format json and --format markdown.");
  }
  return out.join("\n");
}

/** `stage 2: control plane to 1.32 (v1.32.9): control-plane` */
export function journeyLines(stages: NonNullable<Plan["stages"]>): string[] {
  return stages.map((s) => `stage ${s.number}: ${s.kind === "control-plane" ? "control plane" : "workers"} to ${s.minor} (v${s.kubernetes}): ${s.pools.join(", ")}`);
}
