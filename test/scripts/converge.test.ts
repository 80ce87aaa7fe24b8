import { describe, expect, it } from "vitest";
import { ConfigError } from "../../components/config/problems";
import { convergeScript, type ConvergeTarget } from "../../components/scripts/converge";
import { kubeadmNodeArgs } from "../../components/scripts/kubeadm";
import { articleConfig, currentConfig } from "../support/fixtures/config";
import { ARTICLE_BUMP, CONVERGE_CASES, MINOR_BUMP, SCENARIOS } from "../support/scenarios/scripts";

const article = articleConfig({ versions: ARTICLE_BUMP });
const firstControlPlane: ConvergeTarget = { config: article, role: "control-plane", kubeadm: "apply", nodeName: "cp-1" };
const otherControlPlane: ConvergeTarget = { ...firstControlPlane, kubeadm: "node", nodeName: "cp-2" };
const worker: ConvergeTarget = { ...firstControlPlane, role: "worker", kubeadm: "node", nodeName: "storage-1" };

/** The part of a script after its function definitions: the steps, in order. */
function steps(script: string): string[] {
  const start = script.indexOf("\n# --- 0.");
  expect(start).toBeGreaterThan(0);
  return script.slice(start).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

function indexOf(lines: string[], fragment: string): number {
  const i = lines.findIndex((l) => l.includes(fragment));
  if (i < 0) throw new Error(`no step contains ${fragment}:\n${lines.join("\n")}`);
  return i;
}

describe("convergeScript: the article's bump", () => {
  const script = convergeScript(firstControlPlane);
  const lines = steps(script);

  it("starts strict and non-interactive", () => {
    expect(script.split("\n").slice(0, 6)).toEqual(expect.arrayContaining(["#!/usr/bin/env bash", "set -euo pipefail", "export DEBIAN_FRONTEND=noninteractive"]));
    expect(script.startsWith("#!/usr/bin/env bash\n")).toBe(true);
  });

  it("carries the new pins and none of the old ones", () => {
    expect(script).toContain("pins=('docker-ce' '18.06.2~ce~3-0~ubuntu' 'kubeadm' '1.13.3-00' 'kubelet' '1.13.3-00' 'kubectl' '1.13.3-00')");
    expect(script).not.toContain("1.13.2");
    expect(script).not.toContain("18.06.1");
  });

  it("installs the runtime, then kubeadm, then runs kubeadm upgrade apply, then kubelet and kubectl", () => {
    const order = [
      "write_source '/etc/apt/sources.list.d/kubeherd-kubernetes.list'",
      "apt_get update",
      'preflight "${pins[@]}"',
      "release_upgrade '18.04'",
      "install_pins 'docker-ce' '18.06.2~ce~3-0~ubuntu'",
      "restart_if_changed 'docker' 'docker-ce'",
      "install_pins 'kubeadm' '1.13.3-00'",
      "kubeadm_upgrade_apply 'v1.13.3'",
      "install_pins 'kubelet' '1.13.3-00' 'kubectl' '1.13.3-00'",
      "restart_if_changed 'kubelet' 'kubelet'",
      'ensure_held "${pinned_packages[@]}"',
      "system_upgrade '2019-02'",
      "summary",
      "reboot_if_pending",
    ].map((f) => indexOf(lines, f));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it("runs `kubeadm upgrade apply -y v1.13.3` on the first control-plane node only", () => {
    expect(script).toContain('kubeadm upgrade apply -y "$want"');
    for (const other of [otherControlPlane, worker]) {
      const s = convergeScript(other);
      expect(s).not.toContain("kubeadm upgrade apply");
      expect(s).not.toContain("kubeadm_upgrade_apply");
    }
  });

  it("passes rollout.ignorePreflightErrors to kubeadm upgrade apply as one quoted flag, and nowhere else", () => {
    const checks = ["CoreDNSMigration", "CoreDNSUnsupportedPlugins"];
    expect(steps(convergeScript({ ...firstControlPlane, ignorePreflightErrors: checks }))).toContain("kubeadm_upgrade_apply 'v1.13.3' '--ignore-preflight-errors=CoreDNSMigration,CoreDNSUnsupportedPlugins'");
    expect(lines).toContain("kubeadm_upgrade_apply 'v1.13.3'");
    expect(script).toContain('kubeadm upgrade apply -y "$want" "$@"');
    for (const other of [otherControlPlane, worker]) expect(convergeScript({ ...other, ignorePreflightErrors: checks })).not.toContain("--ignore-preflight-errors");
  });

  it("runs kubeadm 1.13's node commands on the other nodes, once per kubeadm version", () => {
    expect(steps(convergeScript(otherControlPlane))).toContain("kubeadm_upgrade_node '1.13.3-00' 'upgrade' 'node' 'experimental-control-plane'");
    expect(steps(convergeScript(worker))).toContain("kubeadm_upgrade_node '1.13.3-00' 'upgrade' 'node' 'config' '--kubelet-version' 'v1.13.3'");
    expect(convergeScript(worker)).toContain('local done="$state/kubeadm-upgraded-$1"');
  });

  it("writes the configured mirror lines verbatim, with no key to fetch", () => {
    expect(lines).toContain(
      "write_source '/etc/apt/sources.list.d/kubeherd-docker.list' 'deb [trusted=yes] http://mirror.internal.example.com/docker/ubuntu bionic stable'",
    );
    expect(lines.some((l) => l.startsWith("fetch_key"))).toBe(false);
  });

  it("unholds, installs with --allow-downgrades and holds again, only for packages that differ", () => {
    expect(script).toContain('if [[ "$(installed_version "$1")" != "$2" ]]; then');
    expect(script).toContain('apt-mark unhold "${names[@]}"');
    expect(script).toContain('apt_get install -y --allow-downgrades "${specs[@]}"');
    expect(script).toContain('apt-mark hold "${names[@]}"');
  });

  it("names the node in its messages", () => {
    expect(script).toContain("node='cp-1'");
    expect(convergeScript(worker)).toContain("node='storage-1'");
  });
});

describe("convergeScript: other changes", () => {
  it("switches the repository line first on a pkgs.k8s.io minor bump, and runs `kubeadm upgrade node`", () => {
    const config = currentConfig({ versions: MINOR_BUMP });
    const lines = steps(convergeScript({ config, role: "worker", kubeadm: "node", nodeName: "w-1" }));
    const line = indexOf(lines, "https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /");
    expect(line).toBeLessThan(indexOf(lines, "preflight"));
    expect(line).toBeLessThan(indexOf(lines, "install_pins"));
    expect(lines).toContain("fetch_key 'https://pkgs.k8s.io/core:/stable:/v1.31/deb/Release.key' '/etc/apt/keyrings/kubernetes-apt-keyring.gpg'");
    expect(lines).toContain("kubeadm_upgrade_node '1.31.0-1.1' 'upgrade' 'node'");
  });

  it("installs docker-ce alone for docker-ce 18.06 (no docker-ce-cli, no containerd.io)", () => {
    const script = convergeScript({ ...worker, config: articleConfig({ versions: { "docker-ce": "18.06.2~ce~3-0~ubuntu" } }) });
    expect(steps(script)).toContain("install_pins 'docker-ce' '18.06.2~ce~3-0~ubuntu'");
    expect(script).not.toContain("docker-ce-cli");
    expect(script).not.toContain("containerd.io");
    expect(script).toContain("configure_docker");
  });

  it("configures containerd with the systemd cgroup driver on a first install only", () => {
    const lines = steps(convergeScript({ ...worker, config: currentConfig() }));
    expect(lines).toContain("note_first_install 'containerd.io'");
    expect(lines).toContain(
      "if [[ -e '/var/lib/kubeherd/first-install-containerd.io' ]]; then configure_containerd; rm -f -- '/var/lib/kubeherd/first-install-containerd.io'; fi",
    );
    expect(lines).toContain("restart_if_changed 'containerd' 'containerd.io'");
  });

  it("upgrades the system once per token, with the pins held, and reboots only when asked to", () => {
    const script = convergeScript({ ...worker, config: currentConfig({ os: { systemUpgrade: "2026-11" } }) });
    expect(steps(script)).toContain("system_upgrade '2026-11'");
    expect(script).toContain('local token="$1" marker="$state/system-upgrade-$1"');
    expect(script).toContain('require_held "${pinned_packages[@]}"');
    expect(script).toContain("apt_get -y dist-upgrade");
    expect(script).toContain("-o Dpkg::Options::=--force-confold");
    expect(script).toContain('if [[ -e /var/run/reboot-required ]]; then touch "$state/pending-reboot"; fi');
    expect(steps(convergeScript({ ...worker, config: currentConfig() })).some((l) => l.startsWith("system_upgrade"))).toBe(false);
  });

  it("upgrades the release from the previous LTS only, with do-release-upgrade, before the target's pins", () => {
    const script = convergeScript({ ...worker, config: currentConfig({ os: { release: "24.04" } }) });
    const lines = steps(script);
    expect(lines[0]).toBe("check_release '24.04' '22.04'");
    expect(indexOf(lines, "download.docker.com/linux/ubuntu noble stable")).toBeLessThan(indexOf(lines, "preflight"));
    expect(indexOf(lines, "release_upgrade '24.04'")).toBeLessThan(indexOf(lines, "install_pins"));
    expect(script).toContain("do-release-upgrade -f DistUpgradeViewNonInteractive --allow-third-party");
    // do-release-upgrade refuses while the current release has updates pending
    expect(script.indexOf("apt_get -y dist-upgrade")).toBeLessThan(script.indexOf("do-release-upgrade -f"));
    expect(script.indexOf("set_sources disabled")).toBeLessThan(script.indexOf("do-release-upgrade -f"));
    expect(script).toContain('apt-mark unhold "${pinned_packages[@]}"');
    expect(script).toContain('apt-mark hold "${pinned_packages[@]}"');
  });

  it("points the kubelet at cri-dockerd with docker on Kubernetes 1.24+", () => {
    const config = SCENARIOS["docker with cri-dockerd on Kubernetes 1.30"];
    const lines = steps(convergeScript({ ...worker, config }));
    expect(lines).toContain(
      "install_pins 'docker-ce' '5:27.3.1-1~ubuntu.22.04~jammy' 'docker-ce-cli' '5:27.3.1-1~ubuntu.22.04~jammy' 'containerd.io' '1.7.22-1' 'cri-dockerd' '0.3.15.3-0.ubuntu-jammy'",
    );
    expect(lines).toContain("restart_if_changed 'cri-docker' 'cri-dockerd'");
    expect(indexOf(lines, "kubelet_runtime_endpoint 'unix:///var/run/cri-dockerd.sock'")).toBeLessThan(
      indexOf(lines, "restart_if_changed 'kubelet'"),
    );
    expect(lines).toContain("write_source '/etc/apt/sources.list.d/kubeherd-cri-dockerd.list' 'deb [trusted=yes] http://mirror.internal.example.com/cri-dockerd jammy main'");
  });

  it("refuses a runtime without its engine pin", () => {
    const config = currentConfig({ versions: { "containerd.io": undefined } });
    expect(() => convergeScript({ ...worker, config })).toThrow(ConfigError);
  });

  it.each(CONVERGE_CASES)("quotes every pin where it reaches the shell: %s", (_, target) => {
    const script = convergeScript(target);
    for (const version of [target.config.versions.kubeadm, target.config.versions.kubelet]) {
      const bare = script.split(version).slice(0, -1).filter((before) => !before.endsWith("'") && !before.endsWith("="));
      expect(bare).toEqual([]);
    }
  });

  it.each(CONVERGE_CASES)("defines every function it calls and no other: %s", (_, target) => {
    const script = convergeScript(target);
    const defined = [...script.matchAll(/^([a-z_]+)\(\) \{/gm)].map((m) => m[1]);
    expect(new Set(defined).size).toBe(defined.length);
    for (const name of defined) {
      const uses = script.split("\n").filter((l) => new RegExp(`(^|[^a-z_-])${name}([^a-z_-]|$)`).test(l) && !l.startsWith(`${name}() {`));
      expect(uses.length, `${name} is defined but never used`).toBeGreaterThan(0);
    }
  });
});

describe("kubeadmNodeArgs", () => {
  it.each([
    ["1.13.3", "worker", ["upgrade", "node", "config", "--kubelet-version", "v1.13.3"]],
    ["1.14.10", "control-plane", ["upgrade", "node", "experimental-control-plane"]],
    ["1.15.0", "worker", ["upgrade", "node"]],
    ["1.30.2", "control-plane", ["upgrade", "node"]],
  ] as const)("Kubernetes %s on a %s node runs kubeadm %j", (kubernetes, role, args) => {
    expect(kubeadmNodeArgs({ ...currentConfig().versions, kubernetes }, role)).toEqual(args);
  });
});
