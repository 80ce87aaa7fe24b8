/**
 * `npm run plan` for a bump of several minors: GIVEN a base on 1.30 and a target on 1.33 with the journey's
 * releases, THEN the plan lists the stages in order (text, markdown, JSON with a `stage` on every step), and each
 * run step carries that stage's exact script.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runPlan } from "../../cli/offline-plan";
import { currentInput, patched } from "../support/fixtures/config";
import { REPO_DIR, tempProject } from "../support/fixtures/stackfiles";

const project = tempProject();
afterAll(() => project.remove());

const secrets = { kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } };
const MIRROR = "deb [trusted=yes] http://mirror.internal.example.com/kubernetes/v{minor} ./";
const pins = (release: string) => ({ kubernetes: release, kubeadm: `${release}-1.1`, kubelet: `${release}-1.1`, kubectl: `${release}-1.1` });
const stack = (release: string, extra: Record<string, unknown> = {}) => ({
  ...patched(currentInput, { versions: { ...pins(release), "containerd.io": "2.0.4-1", ...extra }, repositories: { kubernetes: MIRROR } }),
  ...secrets,
});

interface JsonStep { pool: string; node: string; action: string; script?: string; batch: number; stage?: number }

describe("npm run plan on a journey of several minors", () => {
  const base = project.write("old", stack("1.30.2"));
  project.write("new", stack("1.33.5", { journey: [pins("1.31.3"), pins("1.32.3")] }));

  it("prints every stage in order in JSON, each step with its stage, each run step with its stage's exact script", () => {
    const result = runPlan({ stack: "new", base, format: "json", dir: project.dir });
    expect(result.stderr.filter((l) => !l.startsWith("warning: "))).toEqual([]);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { stages: { number: number; kind: string; minor: string; pools: string[] }[]; steps: JsonStep[]; warnings: string[] };
    expect(json.stages.map((s) => `${s.kind} ${s.minor}`)).toEqual([
      "control-plane 1.31", "control-plane 1.32", "control-plane 1.33", "workers 1.31", "workers 1.32", "workers 1.33",
    ]);
    const stages = json.steps.map((s) => s.stage as number);
    expect(stages).toEqual([...stages].sort((a, b) => a - b));
    expect(json.steps.map((s) => s.batch)).toEqual([...json.steps.map((s) => s.batch)].sort((a, b) => a - b));
    const runs = json.steps.filter((s) => s.action === "run");
    // cp-1 applies each minor in turn; cp-2 runs kubeadm upgrade node with that minor's kubeadm.
    expect(runs.filter((s) => s.node === "cp-1").map((s) => /^kubeadm_upgrade_apply '(\S+)'$/m.exec(s.script ?? "")?.[1])).toEqual(["v1.31.3", "v1.32.3", "v1.33.5"]);
    const cp2 = runs.filter((s) => s.node === "cp-2");
    expect(cp2.map((s) => /^install_pins 'kubeadm' '(\S+)'$/m.exec(s.script ?? "")?.[1])).toEqual(["1.31.3-1.1", "1.32.3-1.1", "1.33.5-1.1"]);
    for (const s of cp2) expect(s.script).toMatch(/^kubeadm_upgrade_node '\S+' 'upgrade' 'node'$/m);
    // Each stage's repository line is its own minor's.
    expect(runs.filter((s) => s.node === "cp-1").map((s) => /kubernetes\/v(1\.\d+) \.\//.exec(s.script ?? "")?.[1])).toEqual(["1.31", "1.32", "1.33"]);
    // The pets worker goes one minor at a time, the cattle workers are replaced once, at the target.
    expect(runs.filter((s) => s.pool === "storage").map((s) => s.stage)).toEqual([4, 5, 6]);
    expect(new Set(json.steps.filter((s) => s.action === "launch").map((s) => s.stage))).toEqual(new Set([6]));
    expect(json.warnings.join("\n")).toContain("pulumi up walks them in this order");
  });

  it("shows the stages in text and markdown", () => {
    const text = runPlan({ stack: "new", base, format: "text", dir: project.dir }).stdout;
    expect(text).toContain("Journey (stage by stage, in order):\n  stage 1: control plane to 1.31 (v1.31.3): control-plane\n  stage 2: control plane to 1.32 (v1.32.3): control-plane");
    expect(text).toMatch(/stage 6, batch \d+: workers/);
    const markdown = runPlan({ stack: "new", base, format: "markdown", dir: project.dir }).stdout;
    expect(markdown).toContain("### Journey, stage by stage\n\n1. stage 1: control plane to 1.31 (v1.31.3): control-plane");
    expect(markdown).toMatch(/#### Stage 4, batch \d+: storage/);
  });

  it("refuses, as a child process with exit 2, a journey that lacks a minor's release, naming both keys", () => {
    project.write("gap", stack("1.33.5", { journey: [pins("1.31.3")] }));
    const run = spawnSync(process.execPath, [join(REPO_DIR, "node_modules/tsx/dist/cli.mjs"), join(REPO_DIR, "cli/plan.ts"), "--stack", "gap", "--base", base], { cwd: project.dir, encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^kubeherd:versions\.kubernetes: goes from 1\.30\.2 to 1\.33\.5, skipping 1\.32: .* in kubeherd:versions\.journey/m);
  });

  it("refuses a literal repository line of one minor on a journey", () => {
    project.write("literal", { ...stack("1.33.5", { journey: [pins("1.31.3"), pins("1.32.3")] }), repositories: { kubernetes: "deb [trusted=yes] https://pkgs.k8s.io/core:/stable:/v1.33/deb/ /" } });
    const result = runPlan({ stack: "literal", base, format: "json", dir: project.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContainEqual(expect.stringMatching(/^kubeherd:repositories\.kubernetes: the line names \/v1\.33\/ and so cannot serve the journey's other minors \(1\.31, 1\.32\)/));
  });
});
