/**
 * The pins: which packages kubeherd pins (one list, in install order), which of them a node installs and in which
 * group, and the one answer to "which versions do this pool's nodes run". Every reader of a node's versions (the
 * scripts, replacement triggers and fingerprints, launch-template tags, the hooks' expectations, `npm run status`,
 * `rolledOut`) goes through `poolVersions`. Pure decisions on validated versions.
 */
import type { KubeherdConfig, Pool, Runtime, Versions } from "../config/schema";
import { ConfigError, configKey, error } from "../config/problems";
import { formatKubeVersion, kubeVersionOfPin } from "./kubernetes";
import { FIRST_PKGS_K8S_IO_MINOR, kubernetesMinorNumber } from "./repositories";

/** The packages kubeherd pins, in install order. */
export const PINNED_PACKAGES = ["docker-ce", "docker-ce-cli", "containerd.io", "cri-dockerd", "kubeadm", "kubelet", "kubectl"] as const;
export type PinnedPackage = (typeof PINNED_PACKAGES)[number];

/** The runtime group each runtime installs, in PINNED_PACKAGES order. */
export const RUNTIME_PACKAGES = {
  docker: ["docker-ce", "docker-ce-cli", "containerd.io", "cri-dockerd"],
  containerd: ["containerd.io"],
} as const satisfies Record<Runtime, readonly PinnedPackage[]>;
export type RuntimePackage = (typeof RUNTIME_PACKAGES)[Runtime][number];

// The schema's `versions` keys besides the pins are these; the compiler refuses a pin the list does not name.
type VersionsPinKey = Exclude<keyof Versions, "kubernetes" | "runtime" | "allowUnsupportedTransition" | "journey">;
const _everyPinListed: [VersionsPinKey] extends [PinnedPackage] ? ([PinnedPackage] extends [VersionsPinKey] ? true : never) : never = true;
void _everyPinListed;

export interface Pin {
  readonly package: PinnedPackage;
  readonly version: string;
}

/**
 * The versions the nodes of `pool` run: the pool's own `versions` block over the cluster's `kubeherd:versions`
 * (the journey and the override stay the cluster's). `kubernetes` is the release the node's kubeadm targets: the
 * control plane's, or, for a pool with its own kubeadm (of its kubelet's minor, ./pool-pins.ts), that kubeadm's
 * release, so a control-plane bump leaves a pinned pool's scripts, triggers and user data as they were. A pool is given by its config or its name (a
 * plan step or a Node label knows only the name); a name not in `config.pools` (a pool no longer in the config)
 * ran the cluster's. This is the one place a pool's own versions are read.
 */
export function poolVersions(config: Pick<KubeherdConfig, "versions"> & { readonly pools?: readonly Pool[] }, pool: Pool | string): Versions {
  const found = typeof pool === "string" ? config.pools?.find((p) => p.name === pool) : pool;
  const own = found?.versions;
  if (!own || Object.keys(own).length === 0) return config.versions;
  const merged: Versions = { ...config.versions };
  for (const [key, value] of Object.entries(own) as [keyof typeof own, string | undefined][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  const kubeadm = own.kubeadm === undefined ? undefined : kubeVersionOfPin(own.kubeadm);
  return kubeadm ? { ...merged, kubernetes: formatKubeVersion(kubeadm) } : merged;
}

/** Every pinned package that has a version, in PINNED_PACKAGES order, as [package, version]. */
export function pinList(versions: Versions): [PinnedPackage, string][] {
  return PINNED_PACKAGES.flatMap((pkg): [PinnedPackage, string][] => {
    const version = versions[pkg];
    return version === undefined ? [] : [[pkg, version]];
  });
}

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
  const pins = RUNTIME_PACKAGES[versions.runtime].flatMap((name) => {
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
