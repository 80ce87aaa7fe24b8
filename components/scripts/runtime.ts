/**
 * The container runtime part of a node script: install the runtime group, configure the systemd cgroup driver on
 * a first install only (an adopted node keeps its own configuration), restart a runtime only when it changed.
 */
import { type Versions } from "../config/schema";
import { FIRST_PKGS_K8S_IO_MINOR, kubernetesMinorNumber } from "../versions/repositories";
import { installLines } from "./apt";
import { type Pin, runtimePins } from "../versions/pins";
import { STATE_DIR } from "./prelude";
import { shellCall, shellQuote, shellSource } from "./quote";

export const RUNTIME_FUNCTIONS = shellSource`
# Marks a package for its first-install configuration when it is not installed yet.
note_first_install() {
  if [[ -z "$(installed_version "$1")" ]]; then touch "$state/first-install-$1"; fi
}

configure_containerd() {
  install -d -m 0755 /etc/containerd
  containerd config default >"$state/containerd-config.toml"
  sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' "$state/containerd-config.toml"
  if ! grep -q 'SystemdCgroup = true' "$state/containerd-config.toml"; then
    die "containerd's default configuration has no SystemdCgroup setting to turn on"
  fi
  mv -f -- "$state/containerd-config.toml" /etc/containerd/config.toml
  changed+=("containerd: systemd cgroup driver")
}

configure_docker() {
  if [[ -e /etc/docker/daemon.json ]]; then
    say "/etc/docker/daemon.json exists: leaving it as it is"
    return 0
  fi
  install -d -m 0755 /etc/docker
  printf '%s\n' '{"exec-opts": ["native.cgroupdriver=systemd"], "log-driver": "json-file", "log-opts": {"max-size": "100m"}}' >/etc/docker/daemon.json
  changed+=("docker: systemd cgroup driver")
}

# Restarts a unit when one of the given packages changed in this run (or in a run killed before its restart).
restart_if_changed() {
  local unit="$1" pkg
  shift
  for pkg; do
    if [[ -e $state/changed-$pkg ]]; then
      say "restarting $unit ($pkg changed)"
      systemctl daemon-reload
      systemctl restart "$unit"
      changed+=("restart $unit")
      return 0
    fi
  done
}`;

/** Which unit restarts when which pinned packages change, in restart order. */
function restarts(versions: Versions, pins: readonly Pin[]): [string, string[]][] {
  const pinned = new Set<string>(pins.map((p) => p.package));
  const only = (...names: string[]) => names.filter((n) => pinned.has(n));
  if (versions.runtime === "containerd") return [["containerd", only("containerd.io")]];
  return (
    [
      ["containerd", only("containerd.io")],
      // docker's engine sits on containerd: a new containerd.io restarts docker too. The CLI needs no restart.
      ["docker", only("docker-ce", "containerd.io")],
      ["cri-docker", only("cri-dockerd")],
    ] satisfies [string, string[]][]
  ).filter(([, packages]) => packages.length > 0);
}

export function runtimeLines(versions: Versions): string[] {
  const pins = runtimePins(versions);
  const engine = versions.runtime === "docker" ? "docker-ce" : "containerd.io";
  const configure = versions.runtime === "docker" ? "configure_docker" : "configure_containerd";
  return [
    shellCall("note_first_install", engine),
    ...installLines(pins),
    // The marker outlives a killed run, so the configuration still happens when the script is run again.
    `if [[ -e ${shellQuote(`${STATE_DIR}/first-install-${engine}`)} ]]; then ${configure}; rm -f -- ${shellQuote(`${STATE_DIR}/first-install-${engine}`)}; fi`,
    ...restarts(versions, pins).map(([unit, packages]) => shellCall("restart_if_changed", unit, ...packages)),
    shellCall("clear_changed", ...pins.map((p) => p.package)),
  ];
}

/**
 * The CRI socket for `kubeadm join --cri-socket` and the kubelet; undefined where kubeadm's default (dockershim)
 * is right. Old kubeadm takes a bare path, newer ones warn without the unix:// scheme.
 */
export function criSocket(versions: Versions): string | undefined {
  const current = kubernetesMinorNumber(versions.kubernetes) >= FIRST_PKGS_K8S_IO_MINOR;
  if (versions.runtime === "docker") return current ? "unix:///var/run/cri-dockerd.sock" : undefined;
  return current ? "unix:///run/containerd/containerd.sock" : "/run/containerd/containerd.sock";
}
