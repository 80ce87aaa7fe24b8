/**
 * The plan for reviewers, ready to post as a pull request comment: what changes, which pools and how many nodes
 * (disruptive or not), a Mermaid diagram of the rollout order, and the ordered steps node by node with the exact
 * scripts and user data.
 *
 * A script or user data identical to one already shown is referenced, not repeated, and one that differs from an
 * earlier one in a few lines (another node's name, `kubeadm upgrade node` instead of `apply`) is shown as a diff
 * against it: the reviewer reads each distinct thing once, and a six-node pool fits in one comment (GitHub cuts
 * comments at 65,536 characters). `--format json` always carries every script in full.
 */
import { unifiedDiff } from "../components/promotion/file-diff";
import type { Plan, Step } from "../components/rollout/plan";
import { batchTitle, journeyLines, poolLine } from "./format";

const cell = (v: unknown) => (v === null || v === undefined ? "_unset_" : `\`${String(v).replace(/\|/g, "\\|")}\``);

/** A fence longer than any backtick run inside the text, so a script can never close it. */
function fenced(lang: string, text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${lang}\n${text.replace(/\n$/, "")}\n${fence}`;
}

const indent = (text: string) => text.split("\n").map((l) => (l ? `   ${l}` : l)).join("\n");

/** Consecutive steps on one node: one visit. A surge node is visited twice (launched early, deleted at the end). */
interface Visit {
  pool: string;
  node: string;
  batch: number;
  /** Index of the visit's first step in plan.steps. */
  first: number;
  steps: Step[];
}

function visitsOf(steps: Step[]): Visit[] {
  const visits: Visit[] = [];
  steps.forEach((s, i) => {
    const last = visits[visits.length - 1];
    if (last && last.pool === s.pool && last.node === s.node && last.batch === s.batch) last.steps.push(s);
    else visits.push({ pool: s.pool, node: s.node, batch: s.batch, first: i, steps: [s] });
  });
  return visits;
}

/** One box per batch holding its nodes' visits (they change at once); an arrow from each batch to the next. */
function mermaid(visits: Visit[]): string {
  const lines = ["flowchart TD"];
  let previous: string | undefined;
  visits.forEach((v, i) => {
    const box = `b${v.batch}`;
    if (box !== previous) {
      if (previous) lines.push("  end", `  ${previous} --> ${box}`);
      const title = batchTitle(visits.filter((o) => o.batch === v.batch).flatMap((o) => o.steps));
      lines.push(`  subgraph ${box}["${title}"]`);
      previous = box;
    }
    lines.push(`    v${i + 1}["${i + 1}. ${v.pool}/${v.node}: ${v.steps.map((s) => s.action).join(" → ")}"]`);
  });
  if (previous) lines.push("  end");
  return lines.join("\n");
}

interface Shown {
  step: number;
  kind: string;
  text: string;
}

const lineCount = (text: string) => text.replace(/\n$/, "").split("\n").length;

/** The lines that show one script or user data: in full, as the same as an earlier step's, or as a diff to one. */
function payload(kind: string, lang: string, text: string, step: number, shown: Shown[]): string[] {
  const details = (summary: string, body: string) => ["", indent(`<details><summary>${summary}</summary>\n\n${body}\n\n</details>`), ""];
  const same = shown.find((s) => s.kind === kind && s.text === text);
  if (same) return ["", `   ${kind}: the same as step ${same.step}'s`, ""];
  const closest = shown
    .filter((s) => s.kind === kind)
    .map((s) => ({ s, diff: unifiedDiff(s.text, text, { from: `step ${s.step}`, to: `step ${step}` }, 1) }))
    .sort((a, b) => a.diff.length - b.diff.length)[0];
  shown.push({ step, kind, text });
  // Below the two header lines, every line starting with - or + is a changed line.
  const changedLines = closest ? closest.diff.split("\n").slice(2).filter((l) => l.startsWith("-") || l.startsWith("+")).length : Infinity;
  if (closest && changedLines * 4 <= lineCount(text)) {
    return details(`${kind}: step ${closest.s.step}'s with ${changedLines} lines changed (diff)`, fenced("diff", closest.diff));
  }
  const summary = kind === "script" ? `script (run as root with bash), ${lineCount(text)} lines` : `${kind}, ${lineCount(text)} lines`;
  return details(summary, fenced(lang, text));
}

function stepLines(visits: Visit[]): string[] {
  const out: string[] = [];
  const shown: Shown[] = [];
  visits.forEach((v, i) => {
    if (i === 0 || visits[i - 1].batch !== v.batch) out.push("", `#### ${capitalized(batchTitle(visits.filter((o) => o.batch === v.batch).flatMap((o) => o.steps)))}`);
    out.push("", `##### ${i + 1}. \`${v.pool}/${v.node}\``, "");
    v.steps.forEach((s, k) => {
      const number = v.first + k + 1;
      out.push(`${number}. \`${s.action}\`${s.note ? ` — ${s.note}` : ""}`);
      if (s.script !== undefined) out.push(...payload("script", "bash", s.script, number, shown));
      if (s.userData !== undefined) out.push(...payload("user data", "yaml", s.userData, number, shown));
    });
  });
  return out;
}

/**
 * Nodes of the target that change (replaced, upgraded, added), and nodes that leave: a shrinking pool's, a removed
 * pool's (whose steps name pools the target no longer has), and pets nodes that leave management.
 */
function nodeCounts(plan: Plan): { touched: number; removed: number } {
  const touched = plan.pools.reduce((n, p) => n + p.changedNodes + p.addedNodes, 0);
  const gonePools = new Set(plan.steps.filter((s) => !plan.pools.some((p) => p.pool === s.pool)).map((s) => `${s.pool}/${s.node}`));
  return { touched, removed: plan.pools.reduce((n, p) => n + p.removedNodes, 0) + gonePools.size };
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function planMarkdown(plan: Plan, base?: string): string {
  const out: string[] = [`## kubeherd plan: \`${plan.stack}\`${base ? ` from \`${base}\`` : " (first deployment)"}`, ""];
  const drains = plan.steps.filter((s) => s.action === "drain").length;
  const nodes = plan.pools.reduce((n, p) => n + p.nodes, 0);
  const { touched, removed } = nodeCounts(plan);
  const leaving = removed > 0 ? `, ${removed} removed` : "";
  out.push(
    drains > 0
      ? `**Disruptive**: ${touched} of ${nodes} nodes change${leaving}, ${drains} drain(s), in ${new Set(plan.steps.map((s) => s.batch)).size} batch(es); the next batch starts once the whole batch before it is back.`
      : touched + removed > 0
        ? `**Not disruptive**: ${touched} of ${nodes} nodes change${leaving}, no node is drained.`
        : "**Not disruptive**: no node changes.",
    "",
  );

  out.push("### What changes", "");
  if (plan.changes.length === 0) out.push("Nothing in the config changes.");
  else {
    out.push("| key | from | to |", "|---|---|---|");
    for (const c of plan.changes) out.push(`| \`${c.key}\` | ${cell(c.from)} | ${cell(c.to)} |`);
  }

  if (plan.stages) out.push("", "### Journey, stage by stage", "", ...journeyLines(plan.stages).map((l, i) => `${i + 1}. ${l}`));
  out.push("", "### Pools, in rollout order", "", "| pool | role | mode | nodes | effect | disruptive |", "|---|---|---|---|---|---|");
  for (const p of plan.pools) {
    out.push(`| ${p.pool} | ${p.role} | ${p.mode}${p.strategy ? ` (${p.strategy})` : ""} | ${p.nodes} | ${poolLine(p).replace(/\|/g, "\\|")} | ${p.changedNodes + p.removedNodes > 0 ? "yes" : "no"} |`);
  }

  const visits = visitsOf(plan.steps);
  if (visits.length > 0) {
    out.push("", "### Rollout order", "", fenced("mermaid", mermaid(visits)));
    out.push("", "### Steps, node by node", ...stepLines(visits));
  } else {
    out.push("", "No step: nothing on the nodes changes.");
  }
  if (plan.warnings.length) out.push("", "### Warnings", "", ...plan.warnings.map((w) => `- ${w}`));
  return out.join("\n");
}
