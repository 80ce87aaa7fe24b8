/**
 * Renderings of the removed-API pre-flight (components/versions/removed-api-gate.ts) after the plan: text, a
 * `removedApis` object in the JSON plan, and a markdown section for the pull request comment. Only a bump that
 * crosses a removal shows one.
 */
import { describeRequest, describeUse, type RemovedApiVerdict } from "../components/versions/removed-api-gate";

type Shown = RemovedApiVerdict & { scanned: string[] };

const accepted = (a: boolean) => (a ? " — accepted" : "");

function metricsLine(v: Shown): string {
  if (v.metrics === "read") return v.requests.length ? "clients that requested a removed version since the API server started:" : "no client requested a removed version since the API server started (apiserver_requested_deprecated_apis)";
  return v.metricsNote ?? "the API server's metrics were not read";
}

export function removedApiText(v: Shown): string {
  const out = ["", `Removed-API pre-flight, control plane ${v.transition.from} → ${v.transition.to}: ${v.verdict}`];
  out.push(`  removes: ${v.crossed.map((x) => `${x.apiVersion} (${x.kinds.join(", ")}; ${x.removedIn})`).join("; ")}`);
  out.push(`  scanned: ${v.scanned.length ? v.scanned.join(", ") : "no kind it names is served any more"}`);
  for (const o of v.objects) out.push(`  object ${describeUse(o)}, written by ${o.writtenBy.join(", ")}; use ${o.use}${accepted(o.accepted)}`);
  out.push(`  ${metricsLine(v)}`);
  for (const r of v.requests) out.push(`  client request ${describeRequest(r)}${accepted(r.accepted)}`);
  out.push("", v.summary);
  return out.join("\n");
}

/** The JSON plan with a `removedApis` object at the top. */
export function withRemovedApis(planJson: string, v: Shown): string {
  const doc = JSON.parse(planJson) as Record<string, unknown>;
  return JSON.stringify(
    {
      ...doc,
      removedApis: {
        verdict: v.verdict,
        blocking: v.verdict === "blocked",
        from: v.transition.from,
        to: v.transition.to,
        crossed: v.crossed.map((x) => ({ apiVersion: x.apiVersion, kinds: x.kinds, removedIn: x.removedIn })),
        scanned: v.scanned,
        objects: v.objects,
        requests: v.requests,
        metrics: v.metrics,
        ...(v.metricsNote ? { metricsNote: v.metricsNote } : {}),
        summary: v.summary,
      },
    },
    null,
    2,
  );
}

const md = (s: string) => s.replace(/\|/g, "\\|");

export function removedApiMarkdown(v: Shown): string {
  const out = ["", `### Removed APIs: control plane ${v.transition.from} → ${v.transition.to}`, "", v.verdict === "blocked" ? `**${md(v.summary)}**` : md(v.summary), ""];
  out.push(`Removed by this bump: ${v.crossed.map((x) => `\`${x.apiVersion}\` (${x.kinds.join(", ")}; ${x.removedIn})`).join(", ")}.`, "");
  if (v.objects.length) {
    out.push("| object | written through | removed in | written by | use instead | |", "|---|---|---|---|---|---|");
    for (const o of v.objects) out.push(`| \`${md(o.object)}\` | \`${o.apiVersion}\` | ${o.removedIn} | ${md(o.writtenBy.join(", "))} | ${md(o.use)} | ${o.accepted ? "accepted" : "**blocks**"} |`);
    out.push("");
  }
  if (v.requests.length) {
    out.push("| clients requested | resource | removed in | |", "|---|---|---|---|");
    for (const r of v.requests) out.push(`| \`${r.apiVersion}\` | ${md(r.resource)} | ${r.removedIn || "?"} | ${r.accepted ? "accepted" : "**blocks**"} |`);
    out.push("");
  }
  out.push(`- ${md(metricsLine(v).replace(/:$/, ": see the table above"))}`);
  return out.join("\n");
}
