/**
 * What a disruption scenario expects of a live preview, checked the same way against the in-process API
 * (test/kube/live.test.ts) and the real control plane (test/e2e/live-preview.e2e.ts): the nodes in plan order, each
 * expected node's verdict and whether it blocks, the pods and PDBs its reasons name, the workloads left unavailable.
 */
import { expect } from "vitest";
import type { LivePreview } from "../../../components/kube/live";
import type { Scenario } from "./disruption";

export function expectVerdicts(preview: LivePreview, scenario: Scenario): void {
  expect(preview.nodes.map((n) => n.node)).toEqual(scenario.nodes.map((n) => n.name));
  for (const want of scenario.expect) {
    const got = preview.nodes.find((n) => n.node === want.node)!;
    expect({ node: got.node, verdict: got.verdict, blocking: got.blocking }).toEqual({ node: want.node, verdict: want.verdict, blocking: want.blocking });
    for (const name of want.names ?? []) expect(got.why.join("\n")).toContain(name);
    if (want.unavailable) expect(got.unavailable.map((u) => u.workload)).toEqual(want.unavailable);
  }
}
