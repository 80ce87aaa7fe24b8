/**
 * The automation a team adopts as is: the GitHub Actions workflow and the Renovate configuration. GIVEN the files
 * as committed, THEN they parse, the workflow wires test, plan comment, preview, dev up and the protected prod up,
 * its shell passes shellcheck, and Renovate's regexes, run here as Renovate runs them, find exactly dev's pins.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runPlan } from "../../cli/offline-plan";
import { codenameOf, type UbuntuRelease } from "../../components/versions/ubuntu";
import { REPO_DIR, tempProject, type Project } from "../support/fixtures/stackfiles";

interface Step {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  environment?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown[]> };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(readFileSync(join(REPO_DIR, ".github/workflows/kubeherd.yml"), "utf8")) as Workflow;
const action = (job: Job, name: string) => job.steps.find((s) => s.uses?.startsWith(`${name}@`));

describe(".github/workflows/kubeherd.yml", () => {
  it("runs on pull requests and pushes to main, and by hand", () => {
    expect(workflow.on).toMatchObject({ pull_request: { branches: ["main"] }, push: { branches: ["main"] }, workflow_dispatch: {} });
    expect(workflow.env.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
  });

  it("runs npm ci and npm test", () => {
    const runs = workflow.jobs.test.steps.map((s) => s.run ?? "");
    expect(runs.some((r) => r.startsWith("npm ci"))).toBe(true);
    expect(runs.some((r) => /\bnpm test$/.test(r))).toBe(true);
  });

  it("posts the markdown plans of dev and prod against the base branch as one comment", () => {
    const job = workflow.jobs.plan;
    expect(job.if).toBe("github.event_name == 'pull_request'");
    expect(job.permissions?.["pull-requests"]).toBe("write");
    const script = job.steps.map((s) => s.run ?? "").join("\n");
    expect(script).toContain("for stack in dev prod");
    expect(script).toContain('git show "origin/$BASE_REF:Pulumi.$stack.yaml"');
    expect(script).toContain("npm run -s plan -- ");
    expect(script).toContain("--format markdown");
    expect(String(action(job, "actions/github-script")?.with?.script)).toContain("<!-- kubeherd-plan -->");
  });

  it("adds the live disruption preview of each stack the read-only kubeconfig has a context for, and fails on exit 3 unless labelled", () => {
    const job = workflow.jobs.plan;
    const plans = job.steps.find((s) => s.id === "plans")!;
    expect(plans.env?.PREVIEW_KUBECONFIG).toBe("${{ secrets.KUBEHERD_PREVIEW_KUBECONFIG }}");
    expect(plans.run).toContain('args+=(--live --kubeconfig "$kubeconfig" --context "$stack")');
    expect(plans.run).toContain(`grep -q '^blocked (disruption): ' "$RUNNER_TEMP/plan.err"`);
    expect(plans.run).toContain('echo "disruption=$disruption"');
    expect(plans.run).toContain('rm -f "$kubeconfig"');
    const gate = job.steps.find((s) => s.if?.includes("steps.plans.outputs.disruption == '1'"));
    expect(gate?.if).toContain("!contains(github.event.pull_request.labels.*.name, 'kubeherd/accept-disruption')");
    expect(gate?.run).toContain("exit 1");
    // A bump across an API removal still in use: exit 3 too, told apart by its stderr line, accepted by its own label.
    expect(plans.run).toContain(`grep -q '^blocked (removed APIs): ' "$RUNNER_TEMP/plan.err"`);
    const removed = job.steps.find((s) => s.if?.includes("steps.plans.outputs.removed_apis == '1'"));
    expect(removed?.if).toContain("!contains(github.event.pull_request.labels.*.name, 'kubeherd/accept-removed-apis')");
    expect(removed?.run).toContain("exit 1");
    expect((workflow.on as { pull_request: { types: string[] } }).pull_request.types).toEqual(expect.arrayContaining(["labeled", "unlabeled", "synchronize"]));
  });

  it("previews dev and prod with pulumi/actions", () => {
    const job = workflow.jobs.preview;
    expect(job.strategy?.matrix.stack).toEqual(["dev", "prod"]);
    expect(action(job, "pulumi/actions")?.with).toMatchObject({ command: "preview" });
  });

  it("runs pulumi up on dev after a merge, and on prod only behind the production environment, after dev", () => {
    expect(action(workflow.jobs["up-dev"], "pulumi/actions")?.with).toMatchObject({ command: "up" });
    expect(String(action(workflow.jobs["up-dev"], "pulumi/actions")?.with?.["stack-name"])).toMatch(/dev/);
    const prod = workflow.jobs["up-prod"];
    expect(prod.environment).toBe("production");
    expect(prod.needs).toContain("up-dev");
    expect(prod.if).toContain("needs.up-dev.result == 'success'");
    expect(String(action(prod, "pulumi/actions")?.with?.["stack-name"])).toMatch(/prod/);
    const upJobs = Object.entries(workflow.jobs).filter(([, j]) => j.steps.some((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "up"));
    expect(upJobs.map(([name]) => name).sort()).toEqual(["up-dev", "up-prod"]);
  });

  it("gets AWS credentials through OIDC wherever Pulumi runs", () => {
    for (const [name, job] of Object.entries(workflow.jobs).filter(([, j]) => action(j, "pulumi/actions"))) {
      expect(action(job, "aws-actions/configure-aws-credentials")?.with?.["role-to-assume"], name).toMatch(/^\$\{\{ vars\.AWS_/);
      expect(job.permissions?.["id-token"], name).toBe("write");
    }
  });

  it("passes its shell through shellcheck, with GitHub expressions kept out of the scripts", () => {
    const scripts = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.run).filter((r): r is string => r !== undefined));
    for (const script of scripts) {
      expect(script).not.toContain("${{");
      const check = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
      expect(check.error, "shellcheck must be installed (npm test installs it)").toBeUndefined();
      expect(check.stdout + check.stderr, script).toBe("");
    }
  });
});

interface CustomManager {
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate: string;
  packageNameTemplate?: string;
  registryUrlTemplate?: string;
}
const renovate = JSON.parse(readFileSync(join(REPO_DIR, "renovate.json"), "utf8")) as { customManagers: CustomManager[]; enabledManagers: string[] };
const fileRegex = (pattern: string) => new RegExp(pattern.replace(/^\/(.*)\/$/, "$1"));

interface Dep {
  depName: string;
  currentValue: string;
  match: string;
  datasource: string;
}

/** What Renovate's regex manager extracts from a file (strategy "any": each matchString, flag g). */
function extract(path: string, content: string): Dep[] {
  return renovate.customManagers
    .filter((m) => m.managerFilePatterns.some((p) => fileRegex(p).test(path)))
    .flatMap((m) =>
      m.matchStrings.flatMap((s) =>
        [...content.matchAll(new RegExp(s, "g"))].map((r) => ({ depName: r.groups?.depName ?? "", currentValue: r.groups?.currentValue ?? "", match: r[0], datasource: m.datasourceTemplate })),
      ),
    );
}

/** Renovate's in-place update: the current value replaced inside the matched text. */
function bump(content: string, deps: Dep[], to: (d: Dep) => string): string {
  return deps.reduce((text, d) => text.replace(d.match, d.match.replace(d.currentValue, to(d))), content);
}

const devFile = readFileSync(join(REPO_DIR, "Pulumi.dev.yaml"), "utf8");

describe("renovate.json", () => {
  let project: Project | undefined;
  afterEach(() => project?.remove());

  it("only runs its own regex managers, and only on Pulumi.dev.yaml", () => {
    expect(renovate.enabledManagers).toEqual(["custom.regex"]);
    for (const m of renovate.customManagers) {
      expect(m.managerFilePatterns.some((p) => fileRegex(p).test("Pulumi.dev.yaml"))).toBe(true);
      expect(m.managerFilePatterns.some((p) => fileRegex(p).test("Pulumi.prod.yaml"))).toBe(false);
    }
  });

  it("finds exactly the pins of Pulumi.dev.yaml, by key name", () => {
    expect(extract("Pulumi.dev.yaml", devFile).map((d) => [d.depName, d.currentValue, d.datasource])).toEqual([
      ["kubeadm", "1.33.5", "github-releases"],
      ["kubelet", "1.33.5", "github-releases"],
      ["kubectl", "1.33.5", "github-releases"],
      ["kubernetes", "1.33.5", "github-releases"],
      ["containerd.io", "1.7.27-1", "deb"],
    ]);
  });

  it("finds docker-ce and docker-ce-cli pins, epoch and all, and no repository line", () => {
    const docker = devFile.replace("    runtime: containerd\n", "    runtime: docker\n    docker-ce: 5:27.3.1-1~ubuntu.22.04~jammy\n    docker-ce-cli: '5:27.3.1-1~ubuntu.22.04~jammy'\n")
      .replace("  kubeherd:os:\n", "  kubeherd:repositories:\n    kubernetes: deb [trusted=yes] http://mirror.example.com/k8s/v1.33 /\n  kubeherd:os:\n");
    const deps = extract("Pulumi.dev.yaml", docker).filter((d) => d.datasource === "deb");
    expect(deps.map((d) => [d.depName, d.currentValue])).toEqual([
      ["docker-ce", "5:27.3.1-1~ubuntu.22.04~jammy"],
      ["docker-ce-cli", "5:27.3.1-1~ubuntu.22.04~jammy"],
      ["containerd.io", "1.7.27-1"],
    ]);
    expect(extract("Pulumi.dev.yaml", docker).filter((d) => d.depName === "kubernetes")).toHaveLength(1);
  });

  it.each([
    ["a legacy-repository pin (frozen, needs a mirror)", "    kubelet: 1.13.3-00"],
    ["another apt revision (Renovate would keep it on a new version)", "    kubelet: 1.33.5-1.10"],
    ["a repository line", "    kubernetes: deb [trusted=yes] http://mirror.example.com/k8s/v1.33 /"],
    ["a key that only ends like a package", "    my-kubelet: 1.33.5-1.1"],
  ])("leaves %s alone", (_what, line) => {
    expect(extract("Pulumi.dev.yaml", `config:\n  kubeherd:versions:\n${line}\n`)).toEqual([]);
  });

  it("asks Docker's repository for the codename of dev's Ubuntu release", () => {
    const release = (parse(devFile) as { config: { "kubeherd:os": { release: UbuntuRelease } } }).config["kubeherd:os"].release;
    const deb = renovate.customManagers.find((m) => m.datasourceTemplate === "deb");
    expect(new URL(deb?.registryUrlTemplate ?? "").searchParams.get("suite")).toBe(codenameOf(release));
  });

  it("turns a Kubernetes patch release into a dev bump that plans, keeping the apt revision", () => {
    const deps = extract("Pulumi.dev.yaml", devFile).filter((d) => d.datasource === "github-releases");
    const bumped = bump(devFile, deps, () => "1.33.6");
    expect(bumped).toContain("    kubelet: 1.33.6-1.1\n");
    project = tempProject();
    copyFileSync(join(REPO_DIR, "Pulumi.yaml"), join(project.dir, "Pulumi.yaml"));
    writeFileSync(project.path("dev"), bumped);
    const plan = runPlan({ stack: "dev", base: join(REPO_DIR, "Pulumi.dev.yaml"), format: "json", dir: project.dir });
    expect(plan.code).toBe(0);
    expect(plan.plan?.changes.map((c) => `${c.key}: ${String(c.from)} -> ${String(c.to)}`)).toEqual([
      "kubeherd:versions.kubernetes: 1.33.5 -> 1.33.6",
      "kubeherd:versions.kubeadm: 1.33.5-1.1 -> 1.33.6-1.1",
      "kubeherd:versions.kubelet: 1.33.5-1.1 -> 1.33.6-1.1",
      "kubeherd:versions.kubectl: 1.33.5-1.1 -> 1.33.6-1.1",
    ]);
  });
});
