/**
 * `npm run plan` as a child process on stacks with a pool's own `versions` (issue 18): each pool is planned
 * against its own pins, and a bad block is refused with exit 2 and one line naming `kubeherd:pools[i].versions.KEY`.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { currentInput } from "../support/fixtures/config";
import { REPO_DIR, tempProject } from "../support/fixtures/stackfiles";

const project = tempProject();
afterAll(() => project.remove());

const secrets = { kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } };
const at = (v: string) => ({ kubernetes: v, kubeadm: `${v}-1.1`, kubelet: `${v}-1.1`, kubectl: `${v}-1.1`, runtime: "containerd", "containerd.io": "1.7.24-1" });
const kube = (v: string) => ({ kubeadm: `${v}-1.1`, kubelet: `${v}-1.1`, kubectl: `${v}-1.1` });

function stack(name: string, cp: string, own: Record<number, Record<string, string>> = {}): string {
  const pools = (currentInput.pools as Record<string, unknown>[]).map((p, i) => (own[i] ? { ...p, versions: own[i] } : p));
  project.write(name, { ...currentInput, versions: at(cp), pools, ...secrets });
  return name;
}

const run = (...args: string[]) => spawnSync(process.execPath, [join(REPO_DIR, "node_modules/tsx/dist/cli.mjs"), join(REPO_DIR, "cli/plan.ts"), ...args], { cwd: project.dir, encoding: "utf8" });

interface JsonPlan {
  steps: { pool: string; node: string; action: string; script?: string; userData?: string }[];
}
const steps = (target: string, base: string): JsonPlan["steps"] => {
  const result = run("--stack", target, "--base", project.path(base), "--format", "json");
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return (JSON.parse(result.stdout) as JsonPlan).steps;
};
const poolsOf = (s: JsonPlan["steps"]) => [...new Set(s.map((x) => x.pool))];

describe("npm run plan with pins per pool", () => {
  const base = stack("base", "1.33.5");

  it("a bump of the cluster's versions leaves a pool pinned to its own block unchanged (a staged upgrade)", () => {
    const s = steps(stack("staged", "1.34.1", { 1: kube("1.33.5") }), base);
    expect(poolsOf(s)).toEqual(["control-plane", "storage"]);
    expect(s.find((x) => x.pool === "storage" && x.action === "run")?.script).toContain("1.34.1-1.1");
  });

  it("a bump of one pool's block changes that pool only, with its own pins and its own minor's line", () => {
    const s = steps(stack("follow", "1.34.1", { 1: kube("1.34.1") }), stack("stagedbase", "1.34.1", { 1: kube("1.33.5") }));
    expect(poolsOf(s)).toEqual(["workers"]);
    const launch = s.find((x) => x.action === "launch");
    expect(launch?.userData).toContain("'kubelet' '1.34.1-1.1'");
    expect(launch?.userData).toContain("/v1.34/");
  });

  it("a pool's own older minor reaches its nodes' script with its own minor's repository line", () => {
    const s = steps(stack("storage133", "1.34.1", { 1: kube("1.33.4"), 2: kube("1.33.5") }), stack("base1334", "1.33.4"));
    expect(poolsOf(s)).toEqual(["control-plane", "storage"]);
    const script = s.find((x) => x.pool === "storage" && x.action === "run")?.script ?? "";
    expect(script).toContain("'kubelet' '1.33.5-1.1'");
    expect(script).toContain("/core:/stable:/v1.33/deb/");
    expect(script).not.toContain("1.34.1");
    expect(s.find((x) => x.pool === "control-plane" && x.action === "run")?.script).toContain("/core:/stable:/v1.34/deb/");
  });

  it("refuses a pool kubelet newer than the control plane with exit 2 and one line naming the key", () => {
    stack("newer", "1.33.5", { 1: kube("1.34.1") });
    const bad = run("--stack", "newer");
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^kubeherd:pools\[1\]\.versions\.kubelet: kubelet 1\.34\.1-1\.1 is newer than the control plane 1\.33\.5/m);
  });

  it("refuses a control-plane pool whose block differs from the cluster's", () => {
    stack("cpown", "1.34.1", { 0: kube("1.33.5") });
    const bad = run("--stack", "cpown");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^kubeherd:pools\[0\]\.versions\.kubelet: .*control-plane pool/m);
  });
});
