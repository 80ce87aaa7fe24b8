import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runPlan } from "../../cli/offline-plan";
import { currentInput, patched } from "../support/fixtures/config";
import { REPO_DIR, tempProject } from "../support/fixtures/stackfiles";

const project = tempProject();
afterAll(() => project.remove());

const secrets = { kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } };
const plan = (stack: string, base?: string, format: "text" | "json" | "markdown" = "json") => runPlan({ stack, base, format, dir: project.dir });

describe("npm run plan: refusing a bad stack with exit 2, one line per problem naming the key", () => {
  const base = project.write("base", { ...currentInput, ...secrets });
  it.each([
    ["a kubelet newer than the control plane", { versions: { kubelet: "1.31.0-1.1" } }, "kubeherd:versions.kubelet"],
    ["a skipped minor against --base", { versions: { kubernetes: "1.32.0", kubeadm: "1.32.0-1.1", kubelet: "1.32.0-1.1", kubectl: "1.32.0-1.1", "containerd.io": "1.7.24-1" } }, "kubeherd:versions.kubernetes"],
    ["a downgrade", { versions: { kubernetes: "1.30.1", kubeadm: "1.30.1-1.1", kubelet: "1.30.1-1.1", kubectl: "1.30.1-1.1" } }, "kubeherd:versions.kubernetes"],
    ["a floating pin", { versions: { kubelet: "latest" } }, "kubeherd:versions.kubelet"],
    ["a pin carrying a shell command", { versions: { kubeadm: "1.30.2-1.1; rm -rf /" } }, "kubeherd:versions.kubeadm"],
    ["docker-ce with 1.24+ and no cri-dockerd", { versions: { runtime: "docker", "docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy", "docker-ce-cli": "5:27.3.1-1~ubuntu.22.04~jammy" } }, "kubeherd:versions.cri-dockerd"],
  ])("%s", (_, patch, key) => {
    project.write("bad", { ...patched(currentInput, patch), ...secrets });
    const result = plan("bad", base);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.some((line) => line.startsWith(`${key}: `))).toBe(true);
    for (const line of result.stderr) expect(line).toMatch(/^(warning: )?(kubeherd|aws):[\w.[\]-]+: /);
  });

  it("names a missing stack file", () => {
    const result = plan("nope");
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toMatch(/Pulumi\.nope\.yaml: no such stack file/);
  });

  it("refuses a move of aws:region from --base (its instances would be orphaned), naming aws:region", () => {
    project.write("elsewhere", { ...currentInput, ...secrets }, { "aws:region": "us-east-1" });
    const result = plan("elsewhere", base);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([expect.stringMatching(/^aws:region: goes from eu-west-1 to us-east-1: /)]);
  });

  it("refuses os.release moving from --base under the same os.image while a cattle pool boots it, not once the image moves too", () => {
    project.write("noble", { ...patched(currentInput, { os: { release: "24.04" } }), ...secrets });
    const refused = plan("noble", base);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toEqual([expect.stringMatching(/^kubeherd:os\.release: goes from 22\.04 to 24\.04 while kubeherd:os\.image stays /)]);
    project.write("noble", { ...patched(currentInput, { os: { release: "24.04", image: "ami-0fedcba9876543210" } }), ...secrets });
    expect(plan("noble", base).stderr.filter((l) => !l.startsWith("warning: "))).toEqual([]);
  });

  it("requires aws:region when kubeherd creates nodes", () => {
    project.write("noregion", { ...currentInput, ...secrets }, {});
    expect(plan("noregion").stderr).toContain("aws:region: is required for pools whose nodes kubeherd creates (their user data reads SSM in that region)");
  });
});

describe("npm run plan on the example stacks", () => {
  const repoPlan = (format: "text" | "json" | "markdown") => runPlan({ stack: "dev", base: join(REPO_DIR, "Pulumi.prod.yaml"), format, dir: REPO_DIR });

  it("prints the JSON plan of DESIGN.md from prod's config to dev's", () => {
    const result = repoPlan("json");
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { stack: string; changes: { key: string; from: unknown; to: unknown }[]; steps: { pool: string; node: string; action: string; script?: string; userData?: string; batch: number }[] };
    expect(json.stack).toBe("dev");
    expect(json.changes).toContainEqual({ key: "kubeherd:versions.kubelet", from: "1.32.9-1.1", to: "1.33.5-1.1" });
    expect(json.steps[0]).toMatchObject({ pool: "control-plane", node: "dev-cp-1", action: "drain" });
    expect(json.steps.find((s) => s.action === "run")?.script).toMatch(/^#!\/usr\/bin\/env bash\n(#.*\n)*set -euo pipefail\n/);
    expect(json.steps.find((s) => s.action === "launch")?.userData).toMatch(/^#cloud-config/);
    for (const s of json.steps) expect(Object.keys(s).every((k) => ["pool", "node", "action", "script", "userData", "note", "batch"].includes(k))).toBe(true);
    expect(json.steps.map((s) => s.batch)).toEqual([...json.steps.map((s) => s.batch)].sort((a, b) => a - b));
  });

  it("warns on stderr that the secrets are not set, and still plans", () => {
    const result = repoPlan("text");
    expect(result.stderr).toEqual([
      expect.stringMatching(/^warning: kubeherd:kubeconfig: is not set/),
      expect.stringMatching(/^warning: kubeherd:sshPrivateKey: is not set/),
    ]);
    expect(result.stdout).toMatch(/^kubeherd plan for stack dev from /);
  });

  it("runs as a command: exit code, stdout and stderr", () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [join(REPO_DIR, "node_modules/tsx/dist/cli.mjs"), join(REPO_DIR, "cli/plan.ts"), ...args], { cwd: project.dir, encoding: "utf8" });
    project.write("cmd", { ...currentInput, ...secrets });
    const ok = run("--stack", "cmd", "--format", "json");
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).stack).toBe("cmd");
    project.write("cmdbad", { ...patched(currentInput, { versions: { kubelet: "*" } }), ...secrets });
    const bad = run("--stack", "cmdbad");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^kubeherd:versions\.kubelet: /m);
    expect(run("--format", "yaml").status).toBe(2);
  });
});
