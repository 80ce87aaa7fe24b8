/**
 * Renderings of the live disruption preview (components/kube/live.ts): text after the plan, a `live` object on
 * each drain step of the JSON plan, and markdown (a table per node) after the markdown plan for the pull request
 * comment. Kept apart from format.ts and markdown.ts, which render the offline plan.
 */
import type { LivePreview } from "../components/kube/live";
import type { BudgetNeed, NodeLive } from "../components/disruption/drain-preview";
import { describeResources } from "../components/disruption/room";

const title = (n: NodeLive) => `${n.pool}/${n.node}${n.kubeNode && n.kubeNode !== n.node ? ` (${n.kubeNode})` : ""}`;

const budgetLine = (b: BudgetNeed) =>
  `${b.name} allows ${b.allowedNow} now, this node needs ${b.needs}${b.batchNeeds !== b.needs ? ` (batch ${b.batchNeeds})` : ""}; ${b.rule}${b.never ? ": never allows one" : ""}`;

const roomLine = (n: NodeLive) =>
  n.room && n.room.needed.pods > 0
    ? `${n.room.fits ? "room" : "NO ROOM"}: the moving pods request ${describeResources(n.room.needed)}; ${n.room.nodes} staying schedulable nodes have ${describeResources(n.room.free)} free`
    : undefined;

/** `2 ok, 1 waits, 1 refused`: the verdicts counted, in the order of VERDICTS. */
function verdictCounts(preview: LivePreview): string {
  const counts = new Map<string, number>();
  for (const n of preview.nodes) counts.set(n.verdict, (counts.get(n.verdict) ?? 0) + 1);
  return [...counts.entries()].map(([v, c]) => `${c} ${v}`).join(", ");
}

export function liveSummary(preview: LivePreview): string {
  if (preview.nodes.length === 0) return "No node is drained: nothing to preview.";
  const blocking = preview.nodes.filter((n) => n.blocking);
  return blocking.length
    ? `${blocking.length} of ${preview.nodes.length} drains would not finish: ${blocking.map((n) => `${title(n)} ${n.verdict}`).join(", ")} (${verdictCounts(preview)})`
    : `Every drain would go through (${verdictCounts(preview)}).`;
}

const batchOf = (n: NodeLive, previous?: NodeLive) => (n.batch !== undefined && n.batch !== previous?.batch ? n.batch : undefined);

export function liveText(preview: LivePreview, server: string): string {
  const out = ["", `Live disruption preview (read from ${server} in ${(preview.readMs / 1000).toFixed(1)}s):`];
  preview.nodes.forEach((n, i) => {
    const batch = batchOf(n, preview.nodes[i - 1]);
    if (batch !== undefined) out.push(`  batch ${batch}:`);
    out.push(`  ${String(i + 1).padStart(3)}. ${title(n)}: ${n.verdict}`);
    for (const w of n.why) out.push(`       ${w}`);
    if (n.evict.length) out.push(`       evicts: ${n.evict.map((e) => `${e.owner}: ${e.pods.join(", ")}`).join("; ")}`);
    if (n.terminating.length) out.push(`       waits for terminating: ${n.terminating.join(", ")}`);
    if (n.leave.length) out.push(`       leaves: ${n.leave.map((l) => `${l.pod} (${l.reason})`).join(", ")}`);
    if (n.refuse.length) out.push(`       refuses: ${n.refuse.map((r) => r.pod).join(", ")}`);
    for (const b of n.budgets) out.push(`       PDB ${budgetLine(b)}`);
    for (const u of n.unavailable) out.push(`       unavailable while it moves: ${u.workload}, ${u.why}`);
    const room = roomLine(n);
    if (room) out.push(`       ${room}`);
  });
  out.push("", liveSummary(preview));
  return out.join("\n");
}

/** The JSON plan with a `live` object on each drain step (in plan order) and the preview's summary at the top. */
export function withLive(planJson: string, preview: LivePreview): string {
  const doc = JSON.parse(planJson) as { steps: { action: string; live?: unknown }[] } & Record<string, unknown>;
  let k = 0;
  for (const step of doc.steps) {
    if (step.action !== "drain") continue;
    const { pool: _pool, node: _node, ...live } = preview.nodes[k++] ?? {};
    step.live = live;
  }
  return JSON.stringify({ ...doc, live: { blocking: preview.blocking, summary: liveSummary(preview) } }, null, 2);
}

const md = (v: string) => v.replace(/\|/g, "\\|");
const code = (v: string) => `\`${md(v)}\``;

function podRows(n: NodeLive): string[] {
  const rows: string[] = [];
  for (const e of n.evict) {
    for (const pod of e.pods) {
      const refused = n.refuse.find((r) => r.pod === pod);
      rows.push(`| ${code(pod)} | ${md(e.owner)} | ${refused ? `**refused**: ${md(refused.reason)}` : "evicted"} |`);
    }
  }
  for (const pod of n.terminating) rows.push(`| ${code(pod)} | | already terminating: the drain waits for it |`);
  for (const l of n.leave) rows.push(`| ${code(l.pod)} | ${md(l.owner)} | left: ${md(l.reason)} |`);
  for (const r of n.refuse) if (!n.evict.some((e) => e.pods.includes(r.pod))) rows.push(`| ${code(r.pod)} | ${md(r.owner)} | **refused**: ${md(r.reason)} |`);
  return rows;
}

export function liveMarkdown(preview: LivePreview): string {
  const out = ["", "### Live disruption preview", "", preview.blocking ? `**${md(liveSummary(preview))}**` : md(liveSummary(preview))];
  preview.nodes.forEach((n, i) => {
    const batch = batchOf(n, preview.nodes[i - 1]);
    if (batch !== undefined) out.push("", `#### Batch ${batch}`);
    out.push("", `#### ${i + 1}. ${code(`${n.pool}/${n.node}`)}${n.kubeNode && n.kubeNode !== n.node ? ` (${code(n.kubeNode)})` : ""}: **${n.verdict}**`, "");
    for (const w of n.why) out.push(`- ${md(w)}`);
    if (n.why.length) out.push("");
    const rows = podRows(n);
    if (rows.length) out.push("| pod | owner | drain |", "|---|---|---|", ...rows, "");
    if (n.budgets.length) {
      out.push("| PDB | allows now | this node needs | rule |", "|---|---|---|---|");
      for (const b of n.budgets) out.push(`| ${code(b.name)} | ${b.allowedNow} | ${b.needs}${b.batchNeeds !== b.needs ? ` (batch ${b.batchNeeds})` : ""} | ${md(b.rule)}${b.never ? " — **never allows one**" : ""} |`);
      out.push("");
    }
    for (const u of n.unavailable) out.push(`- unavailable while it moves: ${md(u.workload)}, ${md(u.why)}`);
    const room = roomLine(n);
    if (room) out.push(`- ${md(room)}`);
  });
  return out.join("\n");
}
