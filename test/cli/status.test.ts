import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runStatus } from "../../cli/status";
import { currentInput } from "../support/fixtures/config";
import { REPO_DIR, tempProject } from "../support/fixtures/stackfiles";
import { startApi } from "../support/kube-api/harness";

const project = tempProject();
afterAll(() => project.remove());
project.write("test", { ...currentInput, kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } });

async function cluster() {
  const h = await startApi();
  for (const n of ["cp-1", "cp-2", "storage-1"]) h.api.cluster.addNode(n, { kubeletVersion: "v1.30.1" });
  const kubeconfig = join(project.dir, `kubeconfig-${h.api.url.split(":").at(-1)}`);
  writeFileSync(kubeconfig, h.api.kubeconfig);
  return { ...h, kubeconfig };
}

describe("npm run status", () => {
  it("prints the stack's nodes against the pins, as text or JSON", async () => {
    const h = await cluster();
    const out: string[] = [];
    const errors: string[] = [];
    const run = (format: "text" | "json") => runStatus({ stack: "test", dir: project.dir, kubeconfig: h.kubeconfig, format, print: (t) => out.push(t), error: (l) => errors.push(l) });
    expect(await run("text")).toBe(0);
    expect(out[0].trimEnd().split("\n").at(-1)).toBe("0/6 nodes on the pins; 3 not found: workers-0, workers-1, workers-2");
    expect(await run("json")).toBe(0);
    expect(JSON.parse(out[1])).toMatchObject({ stack: "test", total: 6, onPins: 0, nodes: expect.arrayContaining([expect.objectContaining({ node: "cp-1", kubelet: { have: "v1.30.1", want: "v1.30.2", ok: false } })]) });
    expect(errors).toEqual([]);
  });

  it("exits 2 with one line when the kubeconfig may not list nodes", async () => {
    const h = await cluster();
    h.api.fail("GET", /^\/api\/v1\/nodes$/, 403, 'nodes is forbidden: User "ci" cannot list resource "nodes" in API group "" at the cluster scope');
    const errors: string[] = [];
    const code = await runStatus({ stack: "test", dir: project.dir, kubeconfig: h.kubeconfig, format: "text", print: () => undefined, error: (l) => errors.push(l) });
    expect(code).toBe(2);
    expect(errors).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+: list nodes: nodes is forbidden: .* \(HTTP 403\); the kubeconfig needs get, list and watch on nodes/)]);
  });

  it("--watch redraws with a progress bar as nodes reach the pins, and stops cleanly on SIGINT", async () => {
    const h = await cluster();
    const child = spawn(join(REPO_DIR, "node_modules/.bin/tsx"), [join(REPO_DIR, "cli/status.ts"), "--stack", "test", "--kubeconfig", h.kubeconfig, "--watch"], { cwd: project.dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const until = async (text: string) => {
      for (let i = 0; i < 600 && !stdout.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      expect(stdout).toContain(text);
    };
    try {
      await until("] 0/6 on the pins");
      h.api.cluster.setNodeStatus("cp-1", { kubeletVersion: "v1.30.2" });
      await until("[#####.........................] 1/6 on the pins\n1/6 nodes on the pins");
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
    expect(stderr).toBe("");
    // One list, then one watch: the redraw came from the watch, not from polling.
    const reads = h.api.requests.filter((r) => r.path === "/api/v1/nodes");
    expect(reads.filter((r) => r.query.watch !== "true")).toHaveLength(1);
  });
});
