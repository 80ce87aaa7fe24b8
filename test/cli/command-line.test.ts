/**
 * What plan, status and promote say on the command line, run as `npm run` runs them (tsx, a child process): one
 * argv parser (cli/args.ts) for all three, each problem on one line.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { currentInput, patched } from "../support/fixtures/config";
import { REPO_DIR, tempProject } from "../support/fixtures/stackfiles";

const project = tempProject();
afterAll(() => project.remove());

const secrets = { kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } };
const run = (command: "plan" | "status" | "promote", ...args: string[]) => {
  const r = spawnSync(process.execPath, [join(REPO_DIR, "node_modules/tsx/dist/cli.mjs"), join(REPO_DIR, "cli", `${command}.ts`), ...args], {
    cwd: project.dir,
    encoding: "utf8",
    env: { ...process.env, KUBECONFIG: "" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, lines: r.stderr.split("\n").filter((l) => l !== "") };
};

describe("--help", () => {
  it.each([
    ["plan", ["--stack NAME", "--base FILE", "--format text|json|markdown", "--live", "--kubeconfig FILE"]],
    ["status", ["--stack NAME", "--watch", "--format text|json"]],
    ["promote", ["--from STACK", "--to STACK", "--dry-run"]],
  ] as const)("npm run %s -- --help prints the usage and every option on stdout and exits 0", (command, words) => {
    const r = run(command, "--help");
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([]);
    expect(r.stdout).toMatch(new RegExp(`^usage: npm run ${command} -- `));
    for (const w of words) expect(r.stdout).toContain(w);
  });
});

describe("stack names", () => {
  // A stack file outside the project that a path in --stack would reach: none of the commands may read it.
  const outside = join(project.dir, "..", `${project.dir.split("/").pop()}-outside`);
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, "x.yaml"), "config:\n  kubeherd:cluster: {}\n");
  const escape = `../${outside.split("/").pop()}/x`;

  it.each([
    ["plan", ["--stack", escape]],
    ["status", ["--stack", "/etc/passwd"]],
    ["promote", ["--from", "dev", "--to", escape]],
  ] as const)("npm run %s %j refuses the name with one line and the usage, before reading any file", (command, args) => {
    const r = run(command, ...args);
    expect(r.code).toBe(2);
    expect(r.lines[0]).toMatch(/^--(stack|from|to) must be the name of a stack of this project .*: got "/);
    expect(r.lines[1]).toMatch(/^usage: npm run /);
    expect(r.lines).toHaveLength(2);
  });
});

describe("problems, one line each", () => {
  it("names the config key once in a refused transition", () => {
    const base = project.write("base", { ...currentInput, ...secrets });
    project.write("down", { ...patched(currentInput, { versions: { kubernetes: "1.30.1", kubeadm: "1.30.1-1.1", kubelet: "1.30.1-1.1", kubectl: "1.30.1-1.1" } }), ...secrets });
    const r = run("plan", "--stack", "down", "--base", base);
    expect(r.code).toBe(2);
    expect(r.lines).toContainEqual(expect.stringMatching(/^kubeherd:versions\.kubernetes: goes from 1\.30\.2 to 1\.30\.1, a downgrade/));
    for (const line of r.lines) expect(line.split("kubeherd:versions.kubernetes").length - 1, line).toBeLessThanOrEqual(line.startsWith("kubeherd:versions.kubernetes:") ? 1 : 2);
  });

  it("gives a YAML error in one line, naming the file once, for plan, status and promote", () => {
    writeFileSync(project.path("broken"), "config:\n  kubeherd:cluster: [\n   name: x\n");
    for (const r of [run("plan", "--stack", "broken"), run("status", "--stack", "broken"), run("promote", "--from", "broken", "--to", "base")]) {
      expect(r.code).toBe(2);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatch(/Pulumi\.broken\.yaml: .* at line \d+, column \d+$/);
      expect(r.lines[0].split("Pulumi.broken.yaml").length - 1).toBe(1);
    }
  });
});

describe("unset secrets", () => {
  project.write("nosecrets", currentInput);
  project.write("target", { ...currentInput, promotion: { from: "nosecrets" } });
  const unset = (lines: string[]) => lines.filter((l) => l.includes("is not set"));

  it("are a warning in the plan, which pulumi up will need them for", () => {
    const r = run("plan", "--stack", "nosecrets");
    expect(r.code).toBe(0);
    expect(unset(r.lines)).toEqual([
      expect.stringMatching(/^warning: kubeherd:kubeconfig: is not set .*the plan does not need it, pulumi up does$/),
      expect.stringMatching(/^warning: kubeherd:sshPrivateKey: is not set /),
    ]);
  });

  it("are not mentioned by status or promote, which never use them", () => {
    const status = run("status", "--stack", "nosecrets");
    expect(status.code).toBe(2);
    expect(status.lines).toEqual(["no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG"]);
    const promote = run("promote", "--from", "nosecrets", "--to", "target", "--dry-run");
    expect(promote.code).toBe(0);
    expect(unset(promote.lines)).toEqual([]);
  });
});
