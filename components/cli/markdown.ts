/**
 * The plan for reviewers, ready to post as a pull request comment: what changes, which pools and how many nodes
 * (disruptive or not), a Mermaid diagram of the rollout order, and the ordered steps per node with the exact
 * scripts and user data.
 */
import type { Plan, Step } from "../rollout/plan";
import { poolLine } from "./format";

const cell = (v: unknown) => (v === null || v === undefined ? "_unset_" : `\`${String(v).replace(/\|/g, "\\|")}\``);

/** A fence longer than any backtick run inside the text, so a script can never close it. */
function fenced(lang: string, text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${lang}\n${text.replace(/\n$/, "")}\n${fence}`;
}

const nodeId = (pool: string, node: string) => `${pool}__${node}`.replace(/[^A-Za-z0-9_]/g, "_");

function mermaid(plan: Plan): string {
  const lines = ["flowchart TD"];
  // One box per visit of a node: a surge node is launched early and deleted at the end of the update.
  let previous: string | undefined;
  plan.steps.forEach((s, i) => {
    const prior = plan.steps[i - 1];
    if (prior && prior.pool === s.pool && prior.node === s.node) return;
    const box = `${nodeId(s.pool, s.node)}_${i}`;
    lines.push(`  ${box}["${s.pool}/${s.node}: ${runOf(plan.steps, i).join(" → ")}"]`);
    if (previous) lines.push(`  ${previous} --> ${box}`);
    previous = box;
  });
  return lines.join("\n");
}

/** The consecutive actions on the node of step i, beginning at step i. */
function runOf(steps: Step[], i: number): string[] {
  const out: string[] = [];
  for (let j = i; j < steps.length && steps[j].pool === steps[i].pool && steps[j].node === steps[i].node; j++) out.push(steps[j].action);
  return out;
}

export function planMarkdown(plan: Plan, base?: string): string {
  const out: string[] = [`## kubeherd plan: \`${plan.stack}\`${base ? ` from \`${base}\`` : " (first deployment)"}`, ""];
  const disruptive = plan.steps.some((s) => s.action === "drain");
  out.push(disruptive ? `**Disruptive**: ${plan.steps.filter((s) => s.action === "drain").length} node drain(s), one node at a time.` : "**Not disruptive**: no node is drained.", "");

  out.push("### What changes", "");
  if (plan.changes.length === 0) out.push("Nothing in the config changes.");
  else {
    out.push("| key | from | to |", "|---|---|---|");
    for (const c of plan.changes) out.push(`| \`${c.key}\` | ${cell(c.from)} | ${cell(c.to)} |`);
  }

  out.push("", "### Pools, in rollout order", "", "| pool | role | mode | nodes | effect | disruptive |", "|---|---|---|---|---|---|");
  for (const p of plan.pools) {
    out.push(`| ${p.pool} | ${p.role} | ${p.mode}${p.strategy ? ` (${p.strategy})` : ""} | ${p.nodes} | ${poolLine(p)} | ${p.changedNodes + p.removedNodes > 0 ? "yes" : "no"} |`);
  }

  if (plan.steps.length > 0) {
    out.push("", "### Rollout order", "", fenced("mermaid", mermaid(plan)));
    out.push("", "### Steps", "");
    plan.steps.forEach((s, i) => {
      out.push(`${i + 1}. **${s.pool}/${s.node}**: \`${s.action}\`${s.note ? ` — ${s.note}` : ""}`);
      if (s.script !== undefined) out.push("", "   <details><summary>script (run as root with bash)</summary>", "", indent(fenced("bash", s.script)), "", "   </details>", "");
      if (s.userData !== undefined) out.push("", "   <details><summary>user data</summary>", "", indent(fenced("yaml", s.userData)), "", "   </details>", "");
    });
  } else {
    out.push("", "No step: nothing on the nodes changes.");
  }
  if (plan.warnings.length) out.push("", "### Warnings", "", ...plan.warnings.map((w) => `- ${w}`));
  return out.join("\n");
}

const indent = (text: string) => text.split("\n").map((l) => (l ? `   ${l}` : l)).join("\n");
