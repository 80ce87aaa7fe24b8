import { describe, expect, it } from "vitest";
import type { Problem } from "../../components/config/problems";
import { checkVersions } from "../../components/versions/rules";
import { articleConfig, currentConfig, dockerCurrentVersions } from "../support/fixtures/config";

/** A mirror of every minor (no `{minor}`), so that only the rule under test speaks. */
const ALL_MINORS = "deb [trusted=yes] http://mirror.internal.example.com/kubernetes stable main";
// The schema takes `{minor}` in the suite only (see the report: pkgs.k8s.io has it in the URI).
const PER_MINOR = "deb [trusted=yes] http://mirror.internal.example.com/kubernetes v{minor} main";
const CRI_DOCKERD_REPO = "deb [trusted=yes] http://mirror.internal.example.com/cri-dockerd ./";

/** The Kubernetes pins of one release from pkgs.k8s.io. */
const kube = (release: string) => ({
  kubernetes: release,
  kubeadm: `${release}-1.1`,
  kubelet: `${release}-1.1`,
  kubectl: `${release}-1.1`,
});

/** A valid cluster on Kubernetes 1.30 with docker-ce 27 and cri-dockerd, on Ubuntu 22.04. */
const dockerCluster = (versions: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) =>
  currentConfig({
    versions: { ...dockerCurrentVersions, ...versions },
    repositories: { "cri-dockerd": CRI_DOCKERD_REPO },
    ...rest,
  });

/** `severity key` of each problem, the shape every test asserts. */
const found = (problems: Problem[]) => problems.map((p) => `${p.severity} ${p.key}`);

describe("checkVersions on the fixtures", () => {
  it("accepts the field article's cluster and a current one", () => {
    expect(checkVersions(articleConfig())).toEqual([]);
    expect(checkVersions(currentConfig())).toEqual([]);
    expect(checkVersions(dockerCluster())).toEqual([]);
  });
});

describe("kubeadm against the control plane", () => {
  it.each([
    ["a kubeadm of the previous minor", "1.29.6-1.1", ["error kubeherd:versions.kubeadm"]],
    ["a kubeadm older than the version it must apply", "1.30.1-1.1", ["error kubeherd:versions.kubeadm"]],
    ["a kubeadm of the next minor", "1.31.0-1.1", ["error kubeherd:versions.kubeadm"]],
    ["a newer kubeadm patch", "1.30.3-1.1", []],
    ["the same kubeadm", "1.30.2-1.1", []],
  ])("with control plane 1.30.2, %s (%s) gives %j", (_, kubeadm, expected) => {
    expect(found(checkVersions(currentConfig({ versions: { kubeadm } })))).toEqual(expected);
  });

  it("says that kubeadm cannot apply a newer version than itself", () => {
    const [problem] = checkVersions(currentConfig({ versions: { kubeadm: "1.30.1-1.1" } }));
    expect(problem.message).toContain("kubeadm cannot apply a newer version than itself");
  });
});

describe("kubelet against the control plane", () => {
  it.each([
    ["1.30.2", "1.30.3-1.1", ["error kubeherd:versions.kubelet"]],
    ["1.30.2", "1.31.0-1.1", ["error kubeherd:versions.kubelet"]],
    ["1.30.2", "1.26.15-1.1", ["error kubeherd:versions.kubelet"]],
    ["1.30.2", "1.27.16-1.1", []],
    ["1.30.2", "1.30.0-1.1", []],
    // Kubelets older than 1.25 may lag two minors only.
    ["1.26.15", "1.23.17-00", ["error kubeherd:versions.kubelet"]],
    ["1.26.15", "1.24.17-1.1", []],
    ["1.28.11", "1.25.16-1.1", []],
  ])("with control plane %s, kubelet %s gives %j", (release, kubelet, expected) => {
    const config = currentConfig({ versions: { ...kube(release), kubelet }, repositories: { kubernetes: ALL_MINORS } });
    expect(found(checkVersions(config))).toEqual(expected);
  });

  it("names the oldest kubelet minor the policy allows", () => {
    const config = currentConfig({ versions: { kubelet: "1.26.15-1.1" }, repositories: { kubernetes: ALL_MINORS } });
    expect(checkVersions(config)[0].message).toMatch(/4 minors older .* pin kubelet 1\.27 or newer/);
  });
});

describe("kubectl against the control plane", () => {
  it.each([
    ["1.28.11-1.1", ["error kubeherd:versions.kubectl"]],
    ["1.32.0-1.1", ["error kubeherd:versions.kubectl"]],
    ["1.29.6-1.1", []],
    ["1.31.0-1.1", []],
  ])("with control plane 1.30.2, kubectl %s gives %j", (kubectl, expected) => {
    const config = currentConfig({ versions: { kubectl }, repositories: { kubernetes: ALL_MINORS } });
    expect(found(checkVersions(config))).toEqual(expected);
  });
});

describe("runtime docker", () => {
  it.each([
    ["without docker-ce", { "docker-ce": undefined }, ["error kubeherd:versions.docker-ce"]],
    ["without cri-dockerd on 1.30", { "cri-dockerd": undefined }, ["error kubeherd:versions.cri-dockerd"]],
    ["without docker-ce-cli for docker 27", { "docker-ce-cli": undefined }, ["error kubeherd:versions.docker-ce-cli"]],
    ["without containerd.io for docker 27", { "containerd.io": undefined }, ["error kubeherd:versions.containerd.io"]],
  ])("refuses a cluster %s", (_, versions, expected) => {
    expect(found(checkVersions(dockerCluster(versions)))).toEqual(expected);
  });

  it("says dockershim left the kubelet in 1.24", () => {
    const [problem] = checkVersions(dockerCluster({ "cri-dockerd": undefined }));
    expect(problem.message).toContain("dockershim was removed from the kubelet in 1.24");
  });

  it("needs a repository for a pinned cri-dockerd, which has no upstream apt repository", () => {
    const config = dockerCluster({}, { repositories: { "cri-dockerd": undefined } });
    expect(found(checkVersions(config))).toEqual(["error kubeherd:repositories.cri-dockerd"]);
  });

  it("runs Kubernetes 1.23 on docker without cri-dockerd: dockershim is still there", () => {
    const config = articleConfig({
      versions: {
        kubernetes: "1.23.17",
        kubeadm: "1.23.17-00",
        kubelet: "1.23.17-00",
        kubectl: "1.23.17-00",
        "docker-ce": "5:20.10.24~3-0~ubuntu-focal",
        "docker-ce-cli": "5:20.10.24~3-0~ubuntu-focal",
        "containerd.io": "1.6.20-1",
      },
      os: { release: "20.04" },
    });
    expect(checkVersions(config)).toEqual([]);
  });

  it.each([
    ["docker-ce-cli next to docker-ce 18.06 (the CLI was not split out yet)", "18.06.2~ce~3-0~ubuntu", ["error kubeherd:versions.docker-ce-cli"]],
    ["docker-ce-cli next to docker-ce 18.09", "5:18.09.2~3-0~ubuntu-bionic", []],
  ])("with Kubernetes 1.13, judges %s", (_, dockerCe, expected) => {
    const config = articleConfig({
      versions: { "docker-ce": dockerCe, "docker-ce-cli": "5:18.09.2~3-0~ubuntu-bionic", "containerd.io": "1.2.2-3" },
    });
    expect(found(checkVersions(config))).toEqual(expected);
  });

  it.each([
    ["1.13.2", "18.06.2~ce~3-0~ubuntu", []],
    ["1.13.2", "17.12.1~ce-0~ubuntu", []],
    ["1.13.2", "1.11.2-0~xenial", []],
    ["1.13.2", "1.10.3-0~xenial", ["warning kubeherd:versions.docker-ce"]],
    ["1.13.2", "5:19.03.15~3-0~ubuntu-bionic", ["warning kubeherd:versions.docker-ce"]],
    ["1.14.10", "18.06.3~ce~3-0~ubuntu", []],
    ["1.16.15", "17.12.1~ce-0~ubuntu", ["warning kubeherd:versions.docker-ce"]],
    ["1.17.17", "5:19.03.15~3-0~ubuntu-bionic", []],
  ])("with Kubernetes %s, docker-ce %s against the validated Docker versions gives %j", (release, dockerCe, expected) => {
    const split = dockerCe.startsWith("5:");
    const config = articleConfig({
      versions: {
        ...kube(release),
        kubeadm: `${release}-00`,
        kubelet: `${release}-00`,
        kubectl: `${release}-00`,
        "docker-ce": dockerCe,
        ...(split ? { "docker-ce-cli": dockerCe, "containerd.io": "1.2.13-2" } : {}),
      },
    });
    expect(found(checkVersions(config))).toEqual(expected);
  });
});

describe("runtime containerd", () => {
  it("refuses a cluster without containerd.io", () => {
    const config = currentConfig({ versions: { "containerd.io": undefined } });
    expect(found(checkVersions(config))).toEqual(["error kubeherd:versions.containerd.io"]);
  });

  it.each([
    ["docker-ce", "5:27.3.1-1~ubuntu.22.04~jammy"],
    ["docker-ce-cli", "5:27.3.1-1~ubuntu.22.04~jammy"],
    ["cri-dockerd", "0.3.15.3-0.ubuntu-jammy"],
  ])("refuses an unused %s pin", (pkg, pin) => {
    const problems = checkVersions(currentConfig({ versions: { [pkg]: pin } }));
    expect(found(problems)).toEqual([`error kubeherd:versions.${pkg}`]);
    expect(problems[0].message).toMatch(/remove the .* pin, or set kubeherd:versions.runtime to docker/);
  });

  it.each([
    ["1.25.16", "1.5.11-1", true],
    ["1.26.15", "1.5.11-1", false],
    ["1.26.15", "1.6.14-1", false],
    ["1.26.15", "1.6.15-1", true],
    ["1.26.15", "1.7.0-1", true],
    ["1.29.6", "2.0.0-1", true],
    ["1.30.2", "1.6.27-1", false],
    ["1.30.2", "1.6.28-1", true],
    ["1.30.2", "1.7.12-1", false],
    ["1.30.2", "1.7.13-1", true],
    ["1.30.2", "2.0.0-1", true],
    ["1.30.2", "2.1.0-1", true],
    ["1.33.1", "1.6.35-1", false],
    ["1.33.1", "1.6.36-1", true],
    ["1.33.1", "1.7.23-1", false],
    ["1.33.1", "1.7.24-1", true],
    ["1.33.1", "2.0.3-1", false],
    ["1.33.1", "2.0.4-1", true],
  ])("on Kubernetes %s, accepts containerd.io %s: %s", (release, containerd, ok) => {
    const problems = checkVersions(currentConfig({ versions: { ...kube(release), "containerd.io": containerd } }));
    expect(found(problems)).toEqual(ok ? [] : ["error kubeherd:versions.containerd.io"]);
  });

  it("names the minimum of the pinned containerd line", () => {
    const [problem] = checkVersions(currentConfig({ versions: { "containerd.io": "1.7.12-1" } }));
    expect(problem.message).toContain("pin containerd.io 1.7.13 or a newer 1.7 release");
  });

  it("warns that Kubernetes 1.35 refuses the cgroup v1 of Ubuntu 20.04", () => {
    const config = currentConfig({ versions: { ...kube("1.35.0"), "containerd.io": "2.1.4-1" }, os: { release: "20.04" } });
    expect(found(checkVersions(config))).toEqual(["warning kubeherd:os.release"]);
    expect(checkVersions(currentConfig({ versions: { ...kube("1.35.0"), "containerd.io": "2.1.4-1" } }))).toEqual([]);
  });
});

describe("Ubuntu codenames in runtime pins", () => {
  it("refuses jammy builds on Ubuntu 24.04, one problem per pin", () => {
    const problems = checkVersions(dockerCluster({}, { os: { release: "24.04" } }));
    expect(found(problems)).toEqual([
      "error kubeherd:versions.docker-ce",
      "error kubeherd:versions.docker-ce-cli",
      "error kubeherd:versions.cri-dockerd",
    ]);
    expect(problems[0].message).toContain(
      "docker-ce 5:27.3.1-1~ubuntu.22.04~jammy is built for jammy but kubeherd:os.release is 24.04 (noble): there are no packages of this pin for that release",
    );
  });

  it("accepts noble builds on Ubuntu 24.04", () => {
    const noble = {
      "docker-ce": "5:27.3.1-1~ubuntu.24.04~noble",
      "docker-ce-cli": "5:27.3.1-1~ubuntu.24.04~noble",
      "cri-dockerd": "0.3.15.3-0.ubuntu-noble",
    };
    expect(checkVersions(dockerCluster(noble, { os: { release: "24.04" } }))).toEqual([]);
  });

  it("refuses a 20.10 build for jammy on focal", () => {
    const config = dockerCluster(
      { "docker-ce": "5:20.10.24~3-0~ubuntu-jammy", "docker-ce-cli": "5:20.10.24~3-0~ubuntu-focal", "cri-dockerd": "0.3.15.3-0.ubuntu-focal" },
      { os: { release: "20.04" } },
    );
    expect(found(checkVersions(config))).toEqual(["error kubeherd:versions.docker-ce"]);
  });
});

describe("the Kubernetes repository", () => {
  it("needs a mirror for the article's 1.13 pins, since apt.kubernetes.io is gone", () => {
    const problems = checkVersions(articleConfig({ repositories: { kubernetes: undefined } }));
    expect(found(problems)).toEqual(["error kubeherd:repositories.kubernetes"]);
    expect(problems[0].message).toContain("removed on 2024-03-04");
    expect(problems[0].message).toContain("deb [trusted=yes] http://");
  });

  it("needs a mirror for legacy -00 pins, even of a minor pkgs.k8s.io has", () => {
    const legacy = { kubeadm: "1.28.2-00", kubelet: "1.28.2-00", kubectl: "1.28.2-00", kubernetes: "1.28.2" };
    expect(found(checkVersions(currentConfig({ versions: legacy })))).toEqual(["error kubeherd:repositories.kubernetes"]);
    expect(checkVersions(currentConfig({ versions: legacy, repositories: { kubernetes: ALL_MINORS } }))).toEqual([]);
  });

  it.each([
    ["the default pkgs.k8s.io", undefined, ["error kubeherd:versions.kubelet", "error kubeherd:versions.kubectl"]],
    ["a mirror line with {minor}", PER_MINOR, ["error kubeherd:versions.kubelet", "error kubeherd:versions.kubectl"]],
    ["a mirror line of all minors", ALL_MINORS, []],
  ])("with %s, takes kubelet and kubectl of the cluster minor only", (_, line, expected) => {
    const config = currentConfig({
      versions: { kubelet: "1.29.6-1.1", kubectl: "1.29.6-1.1" },
      repositories: { kubernetes: line },
    });
    expect(found(checkVersions(config))).toEqual(expected);
  });
});

describe("messages", () => {
  it("are one line each and name the pinned value", () => {
    const problems = [
      ...checkVersions(articleConfig({ repositories: { kubernetes: undefined }, versions: { kubelet: "1.10.13-00" } })),
      ...checkVersions(dockerCluster({ "docker-ce-cli": undefined, "cri-dockerd": undefined }, { os: { release: "24.04" } })),
    ];
    expect(problems.length).toBeGreaterThan(2);
    for (const p of problems) expect(p.message).not.toMatch(/\n/);
    expect(problems.map((p) => p.message).join(" ")).toContain("1.10.13-00");
  });
});
