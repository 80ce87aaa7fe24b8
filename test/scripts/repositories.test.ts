import { describe, expect, it } from "vitest";
import { ConfigError } from "../../components/config/problems";
import { aptSources, kubernetesMinor, repositoryProblems } from "../../components/versions/repositories";
import { articleConfig, currentConfig } from "../support/fixtures/config";
import { MINOR_BUMP } from "../support/scenarios/scripts";

const byName = (config: Parameters<typeof aptSources>[0]) => Object.fromEntries(aptSources(config).map((s) => [s.name, s]));

describe("aptSources", () => {
  it("defaults to Docker's repository for the codename and pkgs.k8s.io for the minor, with their keys", () => {
    const sources = byName(currentConfig());
    expect(sources.docker).toEqual({
      name: "docker",
      file: "/etc/apt/sources.list.d/kubeherd-docker.list",
      line: "deb [signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu jammy stable",
      key: { url: "https://download.docker.com/linux/ubuntu/gpg", keyring: "/etc/apt/keyrings/docker.asc" },
    });
    expect(sources.kubernetes).toEqual({
      name: "kubernetes",
      file: "/etc/apt/sources.list.d/kubeherd-kubernetes.list",
      line: "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /",
      key: {
        url: "https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key",
        keyring: "/etc/apt/keyrings/kubernetes-apt-keyring.gpg",
      },
    });
    expect(sources["cri-dockerd"]).toBeUndefined();
  });

  it("switches the Kubernetes line with the minor, and only with the minor", () => {
    const patch = byName(currentConfig({ versions: { kubernetes: "1.30.5", kubeadm: "1.30.5-1.1", kubelet: "1.30.5-1.1", kubectl: "1.30.5-1.1" } }));
    const minor = byName(currentConfig({ versions: MINOR_BUMP }));
    expect(patch.kubernetes.line).toBe(byName(currentConfig()).kubernetes.line);
    expect(minor.kubernetes.line).toContain("/core:/stable:/v1.31/deb/ /");
  });

  it("uses configured lines verbatim with {minor} and {codename} filled in, and fetches no key for them", () => {
    const config = currentConfig({
      repositories: {
        docker: "deb [trusted=yes] file:/srv/repo/docker {codename} stable",
        kubernetes: "deb [trusted=yes] http://mirror.example.com/k8s/v{minor} ./",
      },
    });
    const sources = byName(config);
    expect(sources.docker).toEqual({ name: "docker", file: "/etc/apt/sources.list.d/kubeherd-docker.list", line: "deb [trusted=yes] file:/srv/repo/docker jammy stable" });
    expect(sources.kubernetes.line).toBe("deb [trusted=yes] http://mirror.example.com/k8s/v1.30 ./");
    expect(sources.kubernetes.key).toBeUndefined();
  });

  it("takes the codename of the target release, so a release upgrade moves the docker line with it", () => {
    expect(byName(currentConfig({ os: { release: "24.04" } })).docker.line).toContain(" noble stable");
    expect(byName(articleConfig()).docker.line).toBe("deb [trusted=yes] http://mirror.internal.example.com/docker/ubuntu bionic stable");
  });

  it("adds cri-dockerd's line when cri-dockerd is pinned", () => {
    const config = currentConfig({
      versions: { runtime: "docker", "docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy", "cri-dockerd": "0.3.15.3-0.ubuntu-jammy" },
      repositories: { "cri-dockerd": "deb [trusted=yes] http://mirror.example.com/cri-dockerd {codename} main" },
    });
    expect(byName(config)["cri-dockerd"]).toEqual({
      name: "cri-dockerd",
      file: "/etc/apt/sources.list.d/kubeherd-cri-dockerd.list",
      line: "deb [trusted=yes] http://mirror.example.com/cri-dockerd jammy main",
    });
  });

  it.each([
    ["a legacy 1.13 pin without a mirror line", articleConfig({ repositories: { kubernetes: undefined } }), "kubeherd:repositories.kubernetes"],
    [
      "a cri-dockerd pin without a repository",
      currentConfig({ versions: { runtime: "docker", "docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy", "cri-dockerd": "0.3.15.3-0.ubuntu-jammy" } }),
      "kubeherd:repositories.cri-dockerd",
    ],
  ])("refuses %s, naming the config key", (_, config, key) => {
    expect(() => aptSources(config)).toThrow(ConfigError);
    expect(() => aptSources(config)).toThrow(key);
  });
});

describe("repositoryProblems", () => {
  it("reports a placeholder that would reach apt unfilled", () => {
    const config = currentConfig({ repositories: { kubernetes: "deb [trusted=yes] http://mirror.example.com/{release} ./" } });
    expect(repositoryProblems(config)).toEqual([
      expect.objectContaining({ key: "kubeherd:repositories.kubernetes", severity: "error", message: expect.stringContaining("{release}") }),
    ]);
    expect(repositoryProblems(currentConfig())).toEqual([]);
  });
});

describe("kubernetesMinor", () => {
  it.each([
    ["1.13.3", "1.13"],
    ["v1.30.2", "1.30"],
  ])("reads %s as minor %s", (version, minor) => {
    expect(kubernetesMinor(version)).toBe(minor);
  });
});
