/**
 * Which pinned packages a node installs, in which group and order, and what the runtime needs around them.
 * Pure decisions on validated versions; the script generators only turn them into shell.
 */
import { type PinnedPackage, type Versions } from "../config/schema";
import { ConfigError, configKey, error } from "../config/problems";
import { FIRST_PKGS_K8S_IO_MINOR, kubernetesMinorNumber } from "../versions/repositories";

export interface Pin {
  readonly package: PinnedPackage;
  readonly version: string;
}

const DOCKER_PACKAGES = ["docker-ce", "docker-ce-cli", "containerd.io", "cri-dockerd"] as const;
const CONTAINERD_PACKAGES = ["containerd.io"] as const;

/** dockershim left the kubelet in 1.24: from then on docker-ce needs cri-dockerd (FACTS.md §3). */
export function usesCriDockerd(versions: Versions): boolean {
  return versions.runtime === "docker" && kubernetesMinorNumber(versions.kubernetes) >= FIRST_PKGS_K8S_IO_MINOR;
}

/**
 * The runtime group, installed in one apt call, in PINNED_PACKAGES order: for docker every pinned one of docker-ce,
 * docker-ce-cli, containerd.io, cri-dockerd (docker-ce up to 18.06 comes alone); for containerd, containerd.io.
 * The version rules (components/versions/runtime-support.ts) refuse pins the runtime would not install.
 */
export function runtimePins(versions: Versions): Pin[] {
  const names = versions.runtime === "docker" ? DOCKER_PACKAGES : CONTAINERD_PACKAGES;
  const pins = names.flatMap((name) => {
    const version = versions[name];
    return version ? [{ package: name, version }] : [];
  });
  const engine = versions.runtime === "docker" ? "docker-ce" : "containerd.io";
  if (!pins.some((p) => p.package === engine)) {
    throw new ConfigError([error(configKey("versions", [engine]), `runtime ${versions.runtime} needs a ${engine} pin`)]);
  }
  return pins;
}

export const kubeadmPin = (versions: Versions): Pin => ({ package: "kubeadm", version: versions.kubeadm });

export const kubeletPins = (versions: Versions): Pin[] => [
  { package: "kubelet", version: versions.kubelet },
  { package: "kubectl", version: versions.kubectl },
];

/** All pins of a node in install order: runtime, kubeadm, kubelet, kubectl. */
export const nodePins = (versions: Versions): Pin[] => [...runtimePins(versions), kubeadmPin(versions), ...kubeletPins(versions)];

/** `pkg`, `version`, `pkg`, `version`, … as the shell functions take them. */
export const pinWords = (pins: readonly Pin[]): string[] => pins.flatMap((p) => [p.package, p.version]);

/**
 * The CRI socket for `kubeadm join --cri-socket` and the kubelet; undefined where kubeadm's default (dockershim)
 * is right. Old kubeadm takes a bare path, newer ones warn without the unix:// scheme.
 */
export function criSocket(versions: Versions): string | undefined {
  const current = kubernetesMinorNumber(versions.kubernetes) >= FIRST_PKGS_K8S_IO_MINOR;
  if (versions.runtime === "docker") return current ? "unix:///var/run/cri-dockerd.sock" : undefined;
  return current ? "unix:///run/containerd/containerd.sock" : "/run/containerd/containerd.sock";
}
