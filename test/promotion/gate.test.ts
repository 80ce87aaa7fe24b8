/**
 * The promotion gate as a pure function: GIVEN what the source stack has rolled out, WHEN the target's pins are
 * checked, THEN every pin the source has not completed is refused by its config key, unless an override says who
 * and why.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatProblem } from "../../components/config/problems";
import type { KubeherdConfig } from "../../components/config/schema";
import { checkPromotion } from "../../components/promotion/gate";
import type { RolledOut } from "../../components/promotion/rolled-out";
import { currentConfig } from "../support/fixtures/config";

/** What a stack running `config` reports, built by hand so this test does not lean on rolledOutOf. */
function ran(config: KubeherdConfig): RolledOut {
  const pins: Record<string, string> = {};
  for (const pkg of ["docker-ce", "docker-ce-cli", "containerd.io", "cri-dockerd", "kubeadm", "kubelet", "kubectl"] as const) {
    const v = config.versions[pkg];
    if (v !== undefined) pins[pkg] = v;
  }
  return { kubernetes: config.versions.kubernetes, pins, release: config.os.release, pools: { workers: { pins, nodes: ["workers-0"] } } };
}

const K8S_BUMP = { versions: { kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } };
const promoting = (patch: Record<string, unknown> = {}, override?: string) =>
  currentConfig({ ...patch, promotion: { from: "dev", ...(override ? { override } : {}) } });

describe("checkPromotion", () => {
  it("passes pins the source stack runs", () => {
    expect(checkPromotion(promoting(K8S_BUMP), ran(currentConfig(K8S_BUMP)), "dev")).toEqual([]);
  });

  it("refuses each pin the source has not rolled out, naming its key and what the source runs", () => {
    const problems = checkPromotion(promoting(K8S_BUMP), ran(currentConfig()), "dev");
    expect(problems.map(formatProblem)).toEqual([
      "kubeherd:versions.kubernetes: 1.30.3 has not been rolled out on dev (dev runs 1.30.2): promote after dev's pulumi up completes, or set kubeherd:promotion.override",
      "kubeherd:versions.kubeadm: 1.30.3-1.1 has not been rolled out on dev (dev runs 1.30.2-1.1): promote after dev's pulumi up completes, or set kubeherd:promotion.override",
      "kubeherd:versions.kubelet: 1.30.3-1.1 has not been rolled out on dev (dev runs 1.30.2-1.1): promote after dev's pulumi up completes, or set kubeherd:promotion.override",
      "kubeherd:versions.kubectl: 1.30.3-1.1 has not been rolled out on dev (dev runs 1.30.2-1.1): promote after dev's pulumi up completes, or set kubeherd:promotion.override",
    ]);
  });

  it("refuses a package the source does not pin at all", () => {
    const docker = { versions: { runtime: "docker", "containerd.io": undefined, "docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy" } };
    const problems = checkPromotion(promoting(docker), ran(currentConfig()), "dev");
    expect(problems.map((p) => [p.key, p.severity])).toEqual([["kubeherd:versions.docker-ce", "error"]]);
    expect(problems[0].message).toContain("dev does not pin docker-ce");
  });

  it("refuses an Ubuntu release the source has not rolled out", () => {
    const problems = checkPromotion(promoting({ os: { release: "24.04" } }), ran(currentConfig()), "dev");
    expect(problems.map((p) => p.key)).toEqual(["kubeherd:os.release"]);
  });

  it.each([
    ["never completed a rollout", undefined],
    ["exported nothing", { kubernetes: "", pins: {}, release: "", pools: {} }],
  ])("refuses on kubeherd:promotion.from when the source %s", (_what, source) => {
    expect(checkPromotion(promoting(), source, "dev").map(formatProblem)).toEqual([
      "kubeherd:promotion.from: dev has not completed a rollout (its stack has no rolledOut output): promote after dev's pulumi up completes, or set kubeherd:promotion.override",
    ]);
  });

  it("lets a stack that changes no pin deploy even when its source never completed a rollout", () => {
    expect(checkPromotion(promoting(), undefined, "dev", ran(currentConfig()))).toEqual([]);
    expect(checkPromotion(promoting(K8S_BUMP), undefined, "dev", ran(currentConfig())).map((p) => p.key)).toEqual(["kubeherd:promotion.from"]);
  });

  it("lets a stack stay behind its source: pins it already runs itself are no promotion", () => {
    const prodRuns = ran(currentConfig());
    const devRuns = ran(currentConfig(K8S_BUMP));
    expect(checkPromotion(promoting(), devRuns, "dev", prodRuns)).toEqual([]);
    expect(checkPromotion(promoting(K8S_BUMP), ran(currentConfig({ versions: { kubernetes: "1.30.4", kubeadm: "1.30.4-1.1", kubelet: "1.30.4-1.1", kubectl: "1.30.4-1.1" } })), "dev", prodRuns)).toHaveLength(4);
  });

  it("turns every refusal into a warning quoting the override", () => {
    const override = "jdoe: CVE-2019-5736 hotfix, INC-1234";
    const problems = checkPromotion(promoting(K8S_BUMP, override), ran(currentConfig()), "dev");
    expect(problems).toHaveLength(4);
    for (const p of problems) {
      expect(p.severity).toBe("warning");
      expect(p.message).toContain(`deployed anyway under kubeherd:promotion.override: "${override}"`);
    }
  });

  it("warns that an override nothing needs should be removed", () => {
    const problems = checkPromotion(promoting(K8S_BUMP, "jdoe: left over from INC-1234"), ran(currentConfig(K8S_BUMP)), "dev");
    expect(problems.map((p) => [p.key, p.severity])).toEqual([["kubeherd:promotion.override", "warning"]]);
  });

  it("refuses a pin exactly when neither the source nor the stack itself runs it", () => {
    const patches = fc.constantFrom("1.30.2", "1.30.3", "1.30.4");
    fc.assert(
      fc.property(patches, patches, fc.option(patches, { nil: undefined }), (target, source, current) => {
        const at = (v: string) => ({ versions: { kubernetes: v, kubeadm: `${v}-1.1`, kubelet: `${v}-1.1`, kubectl: `${v}-1.1` } });
        const problems = checkPromotion(promoting(at(target)), ran(currentConfig(at(source))), "dev", current ? ran(currentConfig(at(current))) : undefined);
        const allowed = target === source || target === current;
        expect(problems.length).toBe(allowed ? 0 : 4);
      }),
    );
  });
});

describe("checkPromotion stage by stage (a source that passed through releases, rolledOut.passed)", () => {
  const release = (r: string) => ({ versions: { kubernetes: r, kubeadm: `${r}-1.1`, kubelet: `${r}-1.1`, kubectl: `${r}-1.1` } });
  /** dev walked 1.30 -> 1.33 in one journey: it runs 1.33.5 and passed through 1.30.2, 1.31.5 and 1.32.9. */
  const dev = (): RolledOut => ({
    ...ran(currentConfig(release("1.33.5"))),
    passed: ["1.30.2", "1.31.5", "1.32.9"].map((r) => ({ kubernetes: r, pins: ran(currentConfig(release(r))).pins })),
  });

  it("passes the next stage of dev's journey, taken whole, where only dev's current pins passed before", () => {
    const prodRuns = ran(currentConfig());
    expect(checkPromotion(promoting(release("1.31.5")), dev(), "dev", prodRuns)).toEqual([]);
    expect(checkPromotion(promoting(release("1.32.9")), dev(), "dev", prodRuns)).toEqual([]);
    expect(checkPromotion(promoting(release("1.33.5")), dev(), "dev", prodRuns)).toEqual([]);
    // Without the record (an older dev output), the stage is the dead end it was: only dev's current pins pass.
    const old = { ...dev(), passed: undefined };
    expect(checkPromotion(promoting(release("1.31.5")), old, "dev", prodRuns).map((p) => p.key)).toContain("kubeherd:versions.kubernetes");
  });

  it("refuses a mix of two releases dev passed through, naming what it passed through", () => {
    const mixed = currentConfig({ ...release("1.31.5"), promotion: { from: "dev" } });
    mixed.versions = { ...mixed.versions, kubelet: "1.32.9-1.1" };
    const problems = checkPromotion(mixed, dev(), "dev", ran(currentConfig()));
    expect(problems.map((p) => p.key)).toEqual(["kubeherd:versions.kubernetes", "kubeherd:versions.kubeadm", "kubeherd:versions.kubelet", "kubeherd:versions.kubectl"]);
    expect(problems[0].message).toContain("1.31.5 has not been rolled out on dev (dev runs 1.33.5; it passed through 1.30.2, 1.31.5, 1.32.9, each promotable whole");
  });

  it("refuses a release dev never ran, between two it passed through", () => {
    const problems = checkPromotion(promoting(release("1.31.6")), dev(), "dev", ran(currentConfig()));
    expect(problems.map((p) => p.key)).toContain("kubeherd:versions.kubernetes");
  });
});
