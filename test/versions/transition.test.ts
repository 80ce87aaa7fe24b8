import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Problem } from "../../components/config/problems";
import { checkTransition, checkVersions } from "../../components/versions/rules";
import { articleConfig, currentConfig } from "../support/fixtures/config";

const ALL_MINORS = "deb [trusted=yes] http://mirror.internal.example.com/kubernetes stable main";

const kube = (release: string) => ({
  kubernetes: release,
  kubeadm: `${release}-1.1`,
  kubelet: `${release}-1.1`,
  kubectl: `${release}-1.1`,
});

const found = (problems: Problem[]) => problems.map((p) => `${p.severity} ${p.key}`);

describe("real upgrades", () => {
  it("allows the field article's patch: kubeadm 1.13.2-00 -> 1.13.3-00, docker-ce 18.06.1 -> 18.06.2 (CVE-2019-5736)", () => {
    const base = articleConfig();
    const target = articleConfig({
      versions: {
        kubernetes: "1.13.3",
        kubeadm: "1.13.3-00",
        kubelet: "1.13.3-00",
        kubectl: "1.13.3-00",
        "docker-ce": "18.06.2~ce~3-0~ubuntu",
      },
    });
    expect(checkTransition(base, target)).toEqual([]);
    expect(checkVersions(target)).toEqual([]);
  });

  it("allows pkgs.k8s.io 1.29.6-1.1 -> 1.30.2-1.1", () => {
    const base = currentConfig({ versions: kube("1.29.6") });
    expect(checkTransition(base, currentConfig({ versions: kube("1.30.2") }))).toEqual([]);
  });

  it("refuses 1.28.x -> 1.30.x: kubeadm upgrades one minor at a time", () => {
    const base = currentConfig({ versions: kube("1.28.11") });
    const problems = checkTransition(base, currentConfig({ versions: kube("1.30.2") }));
    expect(found(problems)).toEqual([
      "error kubeherd:versions.kubernetes",
      "warning kubeherd:versions.kubelet",
      "warning kubeherd:versions.kubectl",
    ]);
    expect(problems[0].message).toContain("kubeadm upgrades one minor at a time: go to 1.29 first");
  });

  it("allows docker-ce 5:20.10.24~3-0~ubuntu-jammy -> 5:27.3.1-1~ubuntu.24.04~noble and refuses the way back", () => {
    const docker = (pin: string) => currentConfig({ versions: { runtime: "docker", "docker-ce": pin, "containerd.io": undefined } });
    const old = docker("5:20.10.24~3-0~ubuntu-jammy");
    const recent = docker("5:27.3.1-1~ubuntu.24.04~noble");
    expect(checkTransition(old, recent)).toEqual([]);
    expect(found(checkTransition(recent, old))).toEqual(["error kubeherd:versions.docker-ce"]);
  });

  it("orders docker-ce 18.06 (no epoch) below 18.09 (epoch 5)", () => {
    const docker = (pin: string) => articleConfig({ versions: { "docker-ce": pin } });
    expect(checkTransition(docker("18.06.2~ce~3-0~ubuntu"), docker("5:18.09.2~3-0~ubuntu-bionic"))).toEqual([]);
    expect(found(checkTransition(docker("5:18.09.2~3-0~ubuntu-bionic"), docker("18.06.3~ce~3-0~ubuntu")))).toEqual([
      "error kubeherd:versions.docker-ce",
    ]);
  });
});

describe("the Kubernetes version", () => {
  it.each([
    ["a downgrade", "1.30.2", "1.30.1", "a downgrade"],
    ["a minor downgrade", "1.30.2", "1.29.6", "a downgrade"],
    ["a major change", "1.30.2", "2.0.0", "a major change"],
  ])("refuses %s (%s -> %s)", (_, from, to, says) => {
    const problems = checkTransition(currentConfig({ versions: { kubernetes: from } }), currentConfig({ versions: { kubernetes: to } }));
    expect(found(problems)).toEqual(["error kubeherd:versions.kubernetes"]);
    expect(problems[0].message).toContain(says);
  });

  it("turns refusals into warnings that name the override, when the target sets allowUnsupportedTransition", () => {
    const base = currentConfig({ versions: kube("1.30.2") });
    const target = currentConfig({ versions: { ...kube("1.29.6"), allowUnsupportedTransition: true } });
    const problems = checkTransition(base, target);
    expect(found(problems)).toEqual([
      "warning kubeherd:versions.kubernetes",
      "warning kubeherd:versions.kubeadm",
      "warning kubeherd:versions.kubelet",
      "warning kubeherd:versions.kubectl",
    ]);
    for (const p of problems) expect(p.message).toContain("kubeherd:versions.allowUnsupportedTransition");
  });

  it("refuses a downgrade without the override, and says how to override it", () => {
    const problems = checkTransition(currentConfig({ versions: kube("1.30.2") }), currentConfig({ versions: kube("1.29.6") }));
    expect(problems.every((p) => p.severity === "error")).toBe(true);
    expect(problems).toHaveLength(4);
    expect(problems[0].message).toContain("set kubeherd:versions.allowUnsupportedTransition for an emergency");
  });

  it("accepts any patch or next-minor step of one major, and refuses every downgrade or skip", () => {
    const release = fc.record({ minor: fc.integer({ min: 24, max: 40 }), patch: fc.nat(20) });
    fc.assert(
      fc.property(release, release, (a, b) => {
        const from = `1.${a.minor}.${a.patch}`;
        const to = `1.${b.minor}.${b.patch}`;
        const problems = checkTransition(
          currentConfig({ versions: { kubernetes: from } }),
          currentConfig({ versions: { kubernetes: to } }),
        );
        const forward = b.minor - a.minor === 1 || (b.minor === a.minor && b.patch >= a.patch);
        expect(found(problems)).toEqual(forward ? [] : ["error kubeherd:versions.kubernetes"]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("pins", () => {
  it.each([
    ["kubeadm", "1.30.2-1.1", "1.30.1-1.1"],
    ["kubelet", "1.30.2-1.1", "1.30.2-0.1"],
    ["kubectl", "1.30.2-1.1", "1.29.6-1.1"],
    ["docker-ce", "18.06.2~ce~3-0~ubuntu", "18.06.2~ce~3-0~ubuntu~rc1"],
    ["docker-ce-cli", "5:27.3.1-1~ubuntu.22.04~jammy", "5:27.3.0-1~ubuntu.22.04~jammy"],
    ["containerd.io", "1.7.19-1", "1.7.2-1"],
    ["cri-dockerd", "0.3.15.3-0.ubuntu-jammy", "0.3.9.3-0.ubuntu-jammy"],
  ])("refuses %s going down from %s to %s by dpkg order", (pkg, from, to) => {
    const problems = checkTransition(currentConfig({ versions: { [pkg]: from } }), currentConfig({ versions: { [pkg]: to } }));
    expect(found(problems)).toEqual([`error kubeherd:versions.${pkg}`]);
    expect(found(checkTransition(currentConfig({ versions: { [pkg]: to } }), currentConfig({ versions: { [pkg]: from } })))).toEqual([]);
  });

  it("warns when a kubelet skips a minor, which the skew policy allows", () => {
    const base = currentConfig({ versions: { ...kube("1.29.6"), kubelet: "1.28.11-1.1" }, repositories: { kubernetes: ALL_MINORS } });
    const target = currentConfig({ versions: kube("1.30.2"), repositories: { kubernetes: ALL_MINORS } });
    const problems = checkTransition(base, target);
    expect(found(problems)).toEqual(["warning kubeherd:versions.kubelet"]);
    expect(problems[0].message).toContain("skipping 1.29");
  });

  it("says nothing about pins added or removed", () => {
    const docker = articleConfig();
    const withCli = articleConfig({ versions: { "docker-ce": "5:18.09.2~3-0~ubuntu-bionic", "docker-ce-cli": "5:18.09.2~3-0~ubuntu-bionic" } });
    expect(checkTransition(docker, withCli)).toEqual([]);
  });
});

describe("the Ubuntu release", () => {
  it.each([
    ["18.04", "20.04", []],
    ["22.04", "24.04", []],
    ["22.04", "22.04", []],
    ["18.04", "22.04", ["error kubeherd:os.release"]],
    ["16.04", "24.04", ["error kubeherd:os.release"]],
    ["22.04", "20.04", ["error kubeherd:os.release"]],
  ])("from %s to %s gives %j", (from, to, expected) => {
    expect(found(checkTransition(currentConfig({ os: { release: from } }), currentConfig({ os: { release: to } })))).toEqual(expected);
  });

  it("says to go one LTS at a time", () => {
    const [problem] = checkTransition(currentConfig({ os: { release: "18.04" } }), currentConfig({ os: { release: "22.04" } }));
    expect(problem.message).toContain("do-release-upgrade goes one LTS at a time: go to 20.04 first");
  });
});

describe("the container runtime", () => {
  it.each([
    ["docker", "containerd"],
    ["containerd", "docker"],
  ])("refuses a switch from %s to %s and says to use a new cluster", (from, to) => {
    const problems = checkTransition(currentConfig({ versions: { runtime: from } }), currentConfig({ versions: { runtime: to } }));
    expect(found(problems)).toEqual(["error kubeherd:versions.runtime"]);
    expect(problems[0].message).toContain("new cluster (stack)");
  });
});

describe("an unchanged config", () => {
  it.each([["the article's", articleConfig()], ["a current", currentConfig()]])("%s cluster has no transition problem", (_, config) => {
    expect(checkTransition(config, config)).toEqual([]);
  });
});
