/**
 * Kubernetes release numbers and the apt pins of kubeadm, kubelet and kubectl.
 *
 * Two repositories shaped those pins: the legacy apt.kubernetes.io (`1.13.3-00`, one repository for every minor,
 * removed 2024-03-04) and pkgs.k8s.io (`1.30.2-1.1`, one repository per minor, v1.24+).
 */
import { tryParseDebianVersion } from "./dpkg";

export interface KubeVersion {
  major: number;
  minor: number;
  patch: number;
}

const RELEASE = /^v?([0-9]+)\.([0-9]+)\.([0-9]+)$/;

/** `1.30.2` or `v1.30.2`; anything else (a minor alone, a pre-release, a pin) is undefined. */
export function parseKubeVersion(v: string): KubeVersion | undefined {
  const m = RELEASE.exec(v.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/**
 * The release a Kubernetes package pin installs: `1.13.3-00` -> 1.13.3, `1.30.2-1.1` -> 1.30.2. A pre-release
 * pin (`1.31.0~rc.1-1.1`) gives its release triple. Undefined when the pin is not `X.Y.Z[~pre]-revision`.
 */
export function kubeVersionOfPin(pin: string): KubeVersion | undefined {
  const parsed = tryParseDebianVersion(pin);
  if (!parsed || parsed.revision === "") return undefined;
  const m = /^([0-9]+)\.([0-9]+)\.([0-9]+)(?:[~+].*)?$/.exec(parsed.upstream);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

export function compareKubeVersions(a: KubeVersion, b: KubeVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatKubeVersion(v: KubeVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** `1.30`: what pkgs.k8s.io repository paths and `{minor}` in a repository line carry. */
export function minorOf(v: KubeVersion): string {
  return `${v.major}.${v.minor}`;
}

/**
 * A pin in the style of the legacy apt.kubernetes.io, whose revisions were two digits (`-00`), unlike
 * pkgs.k8s.io's `-1.1`. Such versions exist only in a mirror of the removed repository.
 */
export function isLegacyPin(pin: string): boolean {
  const parsed = tryParseDebianVersion(pin);
  return parsed !== undefined && /^[0-9]{2}$/.test(parsed.revision);
}
