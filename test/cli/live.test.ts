import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runLivePlan } from "../../cli/live-plan";
import { currentInput, patched } from "../support/fixtures/config";
import { REPO_DIR, tempProject } from "../support/fixtures/stackfiles";
import { startApi, type Harness } from "../support/kube-api/harness";

const project = tempProject();
afterAll(() => project.remove());

const secrets = { kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } };
const base = project.write("base", { ...patched(currentInput, { versions: { kubernetes: "1.30.1", kubeadm: "1.30.1-1.1", kubelet: "1.30.1-1.1", kubectl: "1.30.1-1.1" } }), ...secrets });
project.write("bump", { ...currentInput, ...secrets });

async function cluster(): Promise<Harness & { kubeconfig: string }> {
  const h = await startApi();
  for (const n of ["cp-1", "cp-2", "storage-1"]) h.api.cluster.addNode(n);
  const kubeconfig = join(project.dir, `kubeconfig-${h.api.url.split(":").at(-1)}`);
  writeFileSync(kubeconfig, h.api.kubeconfig);
  return { ...h, kubeconfig };
}

const live = (kubeconfig: string | undefined, format: "text" | "json" | "markdown" = "text", env: NodeJS.ProcessEnv = {}) =>
  runLivePlan({ stack: "bump", base, format, dir: project.dir, kubeconfig, env });

describe("npm run plan -- --live", () => {
  it("exits 0 and prints a verdict per drained node after the plan when every drain would go through", async () => {
    const h = await cluster();
    h.api.cluster.addDeployment("shop", "web", ["cp-1", "cp-2", "storage-1"]);
    const result = await live(h.kubeconfig);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^kubeherd plan for stack bump/);
    expect(result.stdout).toContain(`Live disruption preview (read from ${h.api.url} in `);
    expect(result.stdout).toMatch(/ {4}1\. control-plane\/cp-1: ok\n {7}evicts: Deployment shop\/web: shop\/web-5d9c8b7f6-0\n/);
    expect(result.stdout).toContain("workers/workers-0: unknown");
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("Every drain would go through (3 ok, 3 unknown).");
  });

  it("exits 3 when a PDB can never allow the eviction, naming it; the JSON plan carries a live object on each drain step", async () => {
    const h = await cluster();
    const { labels } = h.api.cluster.addStatefulSet("data", "pg", ["cp-1", "cp-2", "storage-1"]);
    h.api.cluster.addPdb("data", "pg-pdb", { matchLabels: labels }, { maxUnavailable: 0 });
    const text = await live(h.kubeconfig);
    expect(text.code).toBe(3);
    expect(text.stdout).toContain("waits until the drain times out on PDB data/pg-pdb: maxUnavailable 0 of 3 expected pods, so it can never allow a disruption, and this node needs 1");
    expect(text.stdout).toContain("3 of 6 drains would not finish: control-plane/cp-1 waits, control-plane/cp-2 waits, storage/storage-1 waits");

    const json = await live(h.kubeconfig, "json");
    expect(json.code).toBe(3);
    const doc = JSON.parse(json.stdout) as { steps: { action: string; node: string; live?: { verdict: string; budgets: { name: string; allowedNow: number; needs: number }[] } }[]; live: { blocking: boolean } };
    expect(doc.live.blocking).toBe(true);
    for (const step of doc.steps) expect(step.live !== undefined).toBe(step.action === "drain");
    const cp1 = doc.steps.find((s) => s.node === "cp-1" && s.action === "drain")!;
    expect(cp1.live).toMatchObject({ verdict: "waits", blocking: true, budgets: [{ name: "data/pg-pdb", allowedNow: 0, needs: 1, mostEver: 0, never: true }] });
  });

  it("adds a table per node to the markdown plan for the pull request comment", async () => {
    const h = await cluster();
    h.api.cluster.addDeployment("shop", "web", ["cp-1", "cp-2"]);
    h.api.cluster.addPod({ name: "debug", node: "cp-1" });
    const md = await live(h.kubeconfig, "markdown");
    expect(md.code).toBe(3);
    expect(md.stdout).toMatch(/^## kubeherd plan: `bump`/);
    expect(md.stdout).toContain("### Live disruption preview");
    expect(md.stdout).toContain("#### 1. `control-plane/cp-1`: **refused**");
    expect(md.stdout).toContain("| pod | owner | drain |\n|---|---|---|\n| `shop/web-5d9c8b7f6-0` | Deployment shop/web | evicted |\n| `default/debug` | no controller | **refused**: is managed by no controller");
  });

  it.each([
    ["no kubeconfig at all", () => undefined, {}, /^no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG$/],
    ["a file that is no kubeconfig", () => { const f = join(project.dir, "junk"); writeFileSync(f, "{{{ not yaml"); return f; }, {}, /junk: not a usable kubeconfig: /],
  ])("exits 2 with one line for %s", async (_, file, env, line) => {
    const result = await live(file(), "text", env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.filter((l) => !l.startsWith("warning:"))).toEqual([expect.stringMatching(line)]);
  });

  it("exits 2 with one line naming the rights it needs when the kubeconfig may not list pods", async () => {
    const h = await cluster();
    h.api.fail("GET", /^\/api\/v1\/pods$/, 403, 'pods is forbidden: User "ci" cannot list resource "pods" in API group "" at the cluster scope');
    const result = await live(h.kubeconfig);
    expect(result.code).toBe(2);
    expect(result.stderr.filter((l) => !l.startsWith("warning:"))).toEqual([
      `${h.api.url}: list pods: pods is forbidden: User "ci" cannot list resource "pods" in API group "" at the cluster scope (HTTP 403); the kubeconfig needs get, list and watch on nodes, pods, poddisruptionbudgets, replicasets, deployments and statefulsets (README: the kubeherd-preview ClusterRole)`,
    ]);
  });

  it("exits 2 for an invalid stack, as without --live, before reading the cluster", async () => {
    const h = await cluster();
    project.write("broken", { ...patched(currentInput, { versions: { kubelet: "latest" } }), ...secrets });
    const result = await runLivePlan({ stack: "broken", base, format: "text", dir: project.dir, kubeconfig: h.kubeconfig });
    expect(result.code).toBe(2);
    expect(result.stderr.some((l) => l.startsWith("kubeherd:versions.kubelet: "))).toBe(true);
    expect(h.api.requests).toEqual([]);
  });

  it("takes the context it is given, and names the contexts there are when it is missing", async () => {
    const h = await cluster();
    expect((await runLivePlan({ stack: "bump", base, format: "text", dir: project.dir, kubeconfig: h.kubeconfig, context: "fake" })).code).toBe(0);
    const missing = await runLivePlan({ stack: "bump", base, format: "text", dir: project.dir, kubeconfig: h.kubeconfig, context: "prod" });
    expect(missing.code).toBe(2);
    expect(missing.stderr.filter((l) => !l.startsWith("warning:"))).toEqual([`${h.kubeconfig}: no context prod (it has: fake)`]);
  });

  it("reads KUBECONFIG when --kubeconfig is not given", async () => {
    const h = await cluster();
    const result = await live(undefined, "text", { KUBECONFIG: h.kubeconfig });
    expect(result.code).toBe(0);
  });

  it("the command exits 2 with one line, no stack trace, when the API cannot be reached", () => {
    const file = join(project.dir, "unreachable");
    // Port 1 on the loopback address: nothing listens there, and nothing leaves this machine.
    writeFileSync(file, ["apiVersion: v1", "kind: Config", "clusters:", "- name: c", "  cluster:", "    server: http://127.0.0.1:1", "    insecure-skip-tls-verify: true", "users:", "- name: u", "  user: {token: t}", "contexts:", "- name: c", "  context: {cluster: c, user: u}", "current-context: c", ""].join("\n"));
    const run = spawnSync(join(REPO_DIR, "node_modules/.bin/tsx"), [join(REPO_DIR, "cli/plan.ts"), "--stack", "bump", "--base", base, "--live", "--kubeconfig", file], { cwd: project.dir, encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trim().split("\n").filter((l) => !l.startsWith("warning:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});
