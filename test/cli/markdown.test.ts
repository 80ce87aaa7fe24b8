/**
 * The plan for reviewers (`--format markdown`). The article's bump is pinned whole in
 * test/support/fixtures/article-bump.md; the other tests say what a reviewer can rely on in any plan.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { poolLine } from "../../cli/format";
import { planMarkdown } from "../../cli/markdown";
import { runPlan } from "../../cli/offline-plan";
import { REPO_DIR } from "../support/fixtures/stackfiles";
import { planRollout, type Plan } from "../../components/rollout/plan";
import { articleBumpMarkdown, articleBumpPlan } from "../support/fixtures/article-bump";
import { currentConfig } from "../support/fixtures/config";

const section = (md: string, title: string) => md.split(`### ${title}`)[1]?.split("\n### ")[0] ?? "";

describe("the markdown plan of the article's bump", () => {
  const md = articleBumpMarkdown();
  const plan = articleBumpPlan();

  it("is exactly the reviewed rendering committed in test/support/fixtures/article-bump.md", () => {
    expect(md).toBe(readFileSync(join(__dirname, "..", "support", "fixtures", "article-bump.md"), "utf8"));
  });

  it("summarises what changes, which pools, how many nodes and that it is disruptive", () => {
    expect(md).toContain("**Disruptive**: 6 of 6 nodes change, 6 drain(s), in 6 batch(es); the next batch starts once the whole batch before it is back.");
    expect(section(md, "What changes")).toContain("| `kubeherd:versions.docker-ce` | `18.06.1~ce~3-0~ubuntu` | `18.06.2~ce~3-0~ubuntu` |");
    expect(section(md, "Pools, in rollout order").trim().split("\n").slice(2)).toEqual([
      "| control-plane | control-plane | pets | 2 | 2 upgraded in place, 2 batches, one node at a time | yes |",
      "| workers | worker | cattle (rolling) | 3 | 3 replaced (rolling), 3 batches, one node at a time | yes |",
      "| storage | worker | pets | 1 | 1 upgraded in place, 1 batch, one node at a time | yes |",
    ]);
  });

  it("counts removed nodes apart from the nodes that change (dev planned over prod's nodes)", () => {
    const over = runPlan({ stack: "dev", base: join(REPO_DIR, "Pulumi.prod.yaml"), format: "markdown", dir: REPO_DIR });
    // dev: 1 pets node adopted, 2 workers replaced, 1 storage node adopted; prod's 3 + 4 + 2 other nodes leave.
    expect(over.stdout).toContain("**Disruptive**: 4 of 4 nodes change, 9 removed, 8 drain(s), in ");
  });

  it("draws the rollout order as a Mermaid chain of batches, each a box of its nodes, control plane first", () => {
    const boxes = [...section(md, "Rollout order").matchAll(/^ {4}v(\d+)\["\d+\. ([^:]+):/gm)].map((m) => m[2]);
    expect(boxes).toEqual(["control-plane/cp-1", "control-plane/cp-2", "workers/workers-0", "workers/workers-1", "workers/workers-2", "storage/storage-1"]);
    expect(section(md, "Rollout order")).toContain('  b5 --> b6\n  subgraph b6["batch 6: storage, 1 node"]');
  });

  it("draws a batch of several nodes as one box", () => {
    const pools = currentConfig().pools.map((p) => (p.mode === "cattle" ? { ...p, size: 4, rollout: { maxUnavailable: 2 } } : p));
    const target = currentConfig({ pools, versions: { kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } });
    const md = planMarkdown(planRollout({ stack: "dev", base: currentConfig({ pools }), target, region: "eu-west-1" }));
    expect(md).toMatch(/subgraph b3\["batch 3: workers, 2 nodes at once"\]\n {4}v3\["3\. workers\/workers-0: [^\n]+\n {4}v4\["4\. workers\/workers-1: [^\n]+\n {2}end/);
    expect(md).toContain("#### Batch 3: workers, 2 nodes at once");
  });

  it("shows a pool's maintenance window in its row, and in the text plan's pool line", () => {
    const window = { days: ["mon", "tue", "wed", "thu"], start: "22:00", end: "04:00", timeZone: "Europe/Amsterdam" };
    const pools = currentConfig().pools.map((p) => (p.mode === "cattle" ? { ...p, rollout: { window } } : p));
    const target = currentConfig({ pools, versions: { kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } });
    const plan = planRollout({ stack: "dev", base: currentConfig({ pools }), target, region: "eu-west-1" });
    const want = "3 replaced (rolling), 3 batches, one node at a time, window mon, tue, wed, thu 22:00–04:00 Europe/Amsterdam";
    expect(section(planMarkdown(plan), "Pools, in rollout order")).toContain(`| workers | worker | cattle (rolling) | 3 | ${want} | yes |`);
    expect(poolLine(plan.pools.find((p) => p.pool === "workers")!)).toBe(want);
  });

  it("numbers every step of the plan in order, grouped by node", () => {
    const steps = section(md, "Steps, node by node");
    const numbered = [...steps.matchAll(/^(\d+)\. `([a-z-]+)`/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(numbered).toEqual(plan.steps.map((s, i) => [i + 1, s.action]));
  });

  it("shows each distinct script once in full, repeats as references, near-copies as diffs of real lines", () => {
    const scripts = plan.steps.filter((s) => s.script !== undefined || s.userData !== undefined);
    const first = scripts[0].script ?? "";
    expect(md).toContain(first.trimEnd().split("\n").map((l) => (l ? `   ${l}` : l)).join("\n"));
    expect(md.match(/user data: the same as step 11's/g)).toHaveLength(2);
    const diffs = [...md.matchAll(/<summary>script: step (\d+)'s with \d+ lines changed \(diff\)<\/summary>\n\n\s*(`{3,})diff\n([\s\S]*?)\n\s*\2\n/g)];
    expect(diffs.length).toBeGreaterThan(0);
    for (const [, from, , body] of diffs) {
      const older = plan.steps[Number(from) - 1].script ?? "";
      const removed = body.split("\n").map((l) => l.replace(/^ {3}/, "")).filter((l) => l.startsWith("-") && !l.startsWith("--- "));
      for (const line of removed) expect(older.split("\n")).toContain(line.slice(1));
    }
  });
});

describe("planMarkdown", () => {
  const unchanged = (): Plan => planRollout({ stack: "dev", base: currentConfig(), target: currentConfig(), region: "eu-west-1" });

  it("says when nothing on the nodes changes", () => {
    const md = planMarkdown(unchanged(), "Pulumi.dev.yaml");
    expect(md).toContain("**Not disruptive**: no node changes.");
    expect(md).toContain("No step: nothing on the nodes changes.");
    expect(md).not.toContain("mermaid");
  });

  it("fences a script with more backticks than any run inside it", () => {
    const plan: Plan = { ...unchanged(), steps: [{ pool: "storage", node: "storage-1", action: "run", script: "echo ```` done\n", batch: 4 }] };
    expect(planMarkdown(plan)).toContain("   `````bash\n   echo ```` done\n   `````");
  });

  it("shows a node visited twice (surge) as two boxes in the rollout order", () => {
    const surge = { pools: currentConfig().pools.map((p) => (p.mode === "cattle" ? { ...p, rollout: { strategy: "surge" } } : p)) };
    const base = currentConfig(surge);
    const target = currentConfig({ ...surge, versions: { kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } });
    const md = planMarkdown(planRollout({ stack: "dev", base, target, region: "eu-west-1" }));
    expect(md.match(/\d+\. workers\/workers-0: /g)).toHaveLength(2);
  });
});
