/** `npm run status` for a terminal: a table of the stack's nodes in rollout order, a progress bar, a summary. */
import type { Check, StackStatus } from "../components/kube/status";

const mark = (c: Check) => (c.have === undefined ? "-" : c.ok ? c.have : `${c.have} (want ${c.want})`);

const CORDON = { no: "no", "by-kubeherd": "yes, by kubeherd", "by-someone-else": "yes, not by kubeherd" } as const;

/** `[##########..........] 5/10 on the pins` */
export function progressBar(s: StackStatus, width = 30): string {
  const filled = s.total === 0 ? width : Math.round((s.onPins / s.total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${s.onPins}/${s.total} on the pins`;
}

export function statusText(s: StackStatus, opts: { bar?: boolean } = {}): string {
  const rows = s.nodes.map((n) => [
    `${n.pool}/${n.node}`,
    n.kubeNode ?? "not found",
    n.kubeNode ? (n.ready ? "yes" : "no") : "-",
    mark(n.kubelet),
    mark(n.runtime),
    mark(n.os),
    n.kubeNode ? CORDON[n.cordoned] : "",
    n.kubeNode ? (n.onPins ? "yes" : "no") : "",
  ]);
  const head = ["NODE", "KUBERNETES NODE", "READY", "KUBELET", "RUNTIME", "OS IMAGE", "CORDONED", "ON PINS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const want = s.nodes[0];
  const out = [
    `kubeherd status of stack ${s.stack}${want ? `: pins kubelet ${want.kubelet.want}, ${want.runtime.want}, ${want.os.want}` : ""}`,
    "",
    line(head),
    ...rows.map(line),
    "",
  ];
  // The long words stay out of the table: why a node is not Ready, how a missing one was looked for.
  const notes = s.nodes.flatMap((n) => (!n.kubeNode ? [`${n.pool}/${n.node}: not found (no ${n.lookup})`] : !n.ready ? [`${n.pool}/${n.node}: ${n.readiness}`] : []));
  if (notes.length) out.push(...notes, "");
  if (opts.bar) out.push(progressBar(s));
  out.push(s.summary);
  return out.join("\n");
}
