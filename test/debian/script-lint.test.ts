/**
 * Every script the planner generates passes shellcheck, and every cattle user data passes `cloud-init schema`,
 * across the plans of the example scenarios (first deployments and each kind of change, with default and local
 * repositories). The harness's own stand-ins are held to shellcheck too.
 */
import { DETACHED_RUN } from "../../components/scripts/detached-run";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { articleConfig, currentConfig } from "../support/fixtures/config";
import { cloudInitSchema, parseCloudConfig } from "../support/node-root/cloud-config";
import { hostStandins } from "../support/node-root/host-standins";
import { binariesOf } from "../support/debian/packages";
import { run } from "../support/node-root/process";
import { CATALOGUE } from "../support/debian/repository";
import { ARTICLE_BUMP, articleStack, currentStack, plan } from "../support/node-root/scenario";
import { standinCommand, standinPostinst } from "../support/node-root/standin-shell";

const kube = (kubernetes: string, pin: string) => ({ versions: { kubernetes, kubeadm: pin, kubelet: pin, kubectl: pin } });

const PLANS: [string, KubeherdConfig | undefined, KubeherdConfig][] = [
  ["first deployment, article cluster, its mirrors", undefined, articleConfig()],
  ["first deployment, current cluster, default repositories", undefined, currentConfig()],
  ["first deployment, current cluster, local repository", undefined, currentStack()],
  ["the article's bump", articleStack(), articleStack(ARTICLE_BUMP)],
  ["a docker-ce-only bump", articleStack(), articleStack({ versions: { "docker-ce": "18.06.2~ce~3-0~ubuntu" } })],
  ["a minor bump 1.29 → 1.30", currentStack(kube("1.29.6", "1.29.6-1.1")), currentStack()],
  ["a system upgrade", currentStack(), currentStack({ os: { systemUpgrade: "2024-07" } })],
  ["a release upgrade", currentStack(), currentStack({ os: { release: "24.04" } })],
];

const dir = mkdtempSync(join(tmpdir(), "kubeherd-lint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** shellcheck over files written to `dir`; the output names the file of each finding. */
async function shellcheck(files: Record<string, string>, shell: "bash" | "sh"): Promise<string> {
  const paths = Object.entries(files).map(([name, text]) => {
    const path = join(dir, name.replace(/[^A-Za-z0-9._-]+/g, "_"));
    writeFileSync(path, text);
    return path;
  });
  const r = await run("shellcheck", ["--shell", shell, "--external-sources", ...paths]);
  return r.code === 0 ? "" : r.stdout + r.stderr;
}

describe.each(PLANS)("the plan for %s", (name, base, target) => {
  const steps = plan(base, target).steps;
  const scripts = Object.fromEntries(steps.filter((s) => s.script).map((s) => [`${name}-${s.node}.sh`, s.script ?? ""]));
  const userData = [...new Set(steps.flatMap((s) => (s.userData ? [s.userData] : [])))];

  it("has only scripts shellcheck passes", async () => {
    expect(Object.keys(scripts).length + userData.length).toBeGreaterThan(0);
    expect(await shellcheck(scripts, "bash")).toBe("");
  });

  // only plans that launch cattle nodes have user data
  if (userData.length > 0) {
    it("has user data cloud-init accepts, whose boot script shellcheck passes", async () => {
      for (const doc of userData) {
        const r = await cloudInitSchema(doc);
        expect(r.code, r.stdout + r.stderr).toBe(0);
      }
      const bootScripts = Object.fromEntries(
        userData.flatMap((doc, i) => (parseCloudConfig(doc).write_files ?? []).map((f, j) => [`${name}-boot-${i}-${j}.sh`, f.content ?? ""])),
      );
      expect(Object.keys(bootScripts)).not.toEqual([]);
      expect(await shellcheck(bootScripts, "bash")).toBe("");
    });
  }
});

describe("the runner that keeps a node script going when its SSH connection drops", () => {
  it("passes shellcheck", async () => {
    expect(await shellcheck({ "detached-run.sh": `#!/bin/bash\n${DETACHED_RUN}\n` }, "bash")).toBe("");
  });
});

describe("the harness's stand-ins", () => {
  it("pass shellcheck as the /bin/sh scripts they are", async () => {
    const files: Record<string, string> = {};
    for (const [path, text] of Object.entries(hostStandins())) files[`host${path}`] = text;
    for (const pkg of Object.values(CATALOGUE).flat()) {
      files[`postinst-${pkg.name}-${pkg.version}`] = standinPostinst(pkg.name, pkg.version, pkg.requiresReboot ?? false);
      for (const [path, body] of Object.entries(binariesOf(pkg))) files[`${pkg.version}${path}`] = standinCommand(pkg.name, pkg.version, body);
    }
    expect(await shellcheck(files, "sh")).toBe("");
  });
});
