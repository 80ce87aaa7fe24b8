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
    ["a minor downgrade", "1.30.2", "1.29.6", "a downgrade of the control plane's minor"],
    ["a major change", "1.30.2", "2.0.0", "a major change"],
  ])("refuses %s (%s -> %s)", (_, from, to, says) => {
    const problems = checkTransition(currentConfig({ versions: { kubernetes: from } }), currentConfig({ versions: { kubernetes: to } }));
    expect(found(problems)).toEqual(["error kubeherd:versions.kubernetes"]);
    expect(problems[0].message).toContain(says);
  });

  it("turns a patch downgrade into warnings that name the override, when the target sets allowUnsupportedTransition", () => {
    const base = currentConfig({ versions: kube("1.30.2") });
    const target = currentConfig({ versions: { ...kube("1.30.1"), allowUnsupportedTransition: true } });
    const problems = checkTransition(base, target);
    expect(found(problems)).toEqual([
      "warning kubeherd:versions.kubernetes",
      "warning kubeherd:versions.kubeadm",
      "warning kubeherd:versions.kubelet",
      "warning kubeherd:versions.kubectl",
    ]);
    for (const p of problems) expect(p.message).toContain("kubeherd:versions.allowUnsupportedTransition");
  });

  it("refuses a patch downgrade without the override, and says how to override it", () => {
    const problems = checkTransition(currentConfig({ versions: kube("1.30.2") }), currentConfig({ versions: kube("1.30.1") }));
    expect(problems.every((p) => p.severity === "error")).toBe(true);
    expect(problems).toHaveLength(4);
    expect(problems[0].message).toContain("set kubeherd:versions.allowUnsupportedTransition for an emergency");
  });

  it("refuses a minor downgrade of the control plane even under the override, pointing to the etcd snapshot and README", () => {
    const target = currentConfig({ versions: { ...kube("1.29.6"), allowUnsupportedTransition: true } });
    const problems = checkTransition(currentConfig({ versions: kube("1.30.2") }), target);
    expect(found(problems)).toEqual([
      "error kubeherd:versions.kubernetes",
      "error kubeherd:versions.kubeadm",
      "error kubeherd:versions.kubelet",
      "error kubeherd:versions.kubectl",
    ]);
    expect(problems[0].message).toContain("kubeadm cannot take a control plane back a minor");
    expect(problems[0].message).toContain("etcd snapshot");
    expect(problems[0].message).toContain('README "The way back"');
    expect(problems[0].message).not.toContain("set kubeherd:versions.allowUnsupportedTransition");
    expect(problems[2].message).toContain("across minors");
  });

  it("refuses a skipped minor even under the override, printing the journey", () => {
    const target = currentConfig({ versions: { ...kube("1.33.1"), allowUnsupportedTransition: true }, repositories: { kubernetes: ALL_MINORS } });
    const [problem] = checkTransition(currentConfig({ versions: kube("1.30.2"), repositories: { kubernetes: ALL_MINORS } }), target);
    expect(problem).toMatchObject({ severity: "error", key: "kubeherd:versions.kubernetes" });
    expect(problem.message).toContain("skipping 1.31 – 1.32");
    expect(problem.message).toContain("the journey: 1.30 → 1.31 → 1.32 → 1.33");
  });

  it("allows under the override exactly the patch downgrades apt and kubeadm can run, property-based", () => {
    const release = fc.record({ minor: fc.integer({ min: 26, max: 34 }), patch: fc.nat(9) });
    fc.assert(
      fc.property(release, release, fc.boolean(), (a, b, allow) => {
        const from = `1.${a.minor}.${a.patch}`;
        const to = `1.${b.minor}.${b.patch}`;
        const problems = checkTransition(
          currentConfig({ versions: kube(from), repositories: { kubernetes: ALL_MINORS } }),
          currentConfig({ versions: { ...kube(to), allowUnsupportedTransition: allow }, repositories: { kubernetes: ALL_MINORS } }),
        );
        const errors = problems.filter((p) => p.severity === "error");
        const forward = b.minor - a.minor === 1 || (b.minor === a.minor && b.patch >= a.patch);
        const patchBack = b.minor === a.minor && b.patch < a.patch;
        if (forward) expect(errors).toEqual([]);
        else if (patchBack) expect(errors.length === 0).toBe(allow);
        else expect(errors.map((p) => p.key)).toContain("kubeherd:versions.kubernetes");
      }),
      { numRuns: 300 },
    );
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

describe("a literal repository line that names one minor", () => {
  const kube = (release: string) => ({ kubernetes: release, kubeadm: `${release}-1.1`, kubelet: `${release}-1.1`, kubectl: `${release}-1.1`, "containerd.io": "1.7.24-1" });
  const PKGS_133 = "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.33/deb/ /";

  it("refuses 1.34 pins with a /v1.33/ line, naming the line's key and the pins' keys", () => {
    const problems = checkVersions(currentConfig({ versions: kube("1.34.1"), repositories: { kubernetes: PKGS_133 } }));
    expect(found(problems)).toEqual(["error kubeherd:repositories.kubernetes"]);
    expect(problems[0].message).toContain("serves only 1.33 packages");
    expect(problems[0].message).toContain("kubeherd:versions.kubeadm 1.34.1-1.1, kubeherd:versions.kubelet 1.34.1-1.1, kubeherd:versions.kubectl 1.34.1-1.1 are of another minor");
    expect(problems[0].message).toContain("write {minor} in place of 1.33");
  });

  it.each([
    ["the line's own minor", PKGS_133, "1.33.5"],
    ["a {minor} line", PKGS_133.replace("1.33", "{minor}"), "1.34.1"],
    ["a mirror of all minors", ALL_MINORS, "1.34.1"],
  ])("accepts %s", (_, line, release) => {
    expect(checkVersions(currentConfig({ versions: kube(release), repositories: { kubernetes: line } }))).toEqual([]);
  });
});

describe("pins: what the override may allow", () => {
  it.each([
    ["containerd.io", "1.7.19-1", "1.7.13-1", "warning"],
    ["containerd.io", "1.7.19-1", "1.6.36-1", "error"],
    ["kubectl", "1.30.2-1.1", "1.30.1-1.1", "warning"],
  ])("%s %s -> %s under allowUnsupportedTransition is a %s", (pkg, from, to, severity) => {
    const problems = checkTransition(currentConfig({ versions: { [pkg]: from } }), currentConfig({ versions: { [pkg]: to, allowUnsupportedTransition: true } }));
    expect(found(problems)).toEqual([`${severity} kubeherd:versions.${pkg}`]);
    if (severity === "warning") expect(problems[0].message).toContain("--allow-downgrades");
    else expect(problems[0].message).toContain("no override allows it");
  });
});
