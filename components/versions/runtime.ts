/**
 * The container runtime pins: docker-ce / docker-ce-cli (Docker's repository), containerd.io, cri-dockerd.
 *
 * Docker's version strings changed shape over the years, and only the leading release number is comparable
 * across them:
 *   18.06.2~ce~3-0~ubuntu             up to 18.06: no epoch, no Ubuntu codename
 *   5:18.09.2~3-0~ubuntu-bionic       18.09 to 20.10: epoch 5, codename after `ubuntu-`
 *   5:27.3.1-1~ubuntu.24.04~noble     23 and later: release and codename after `ubuntu.`
 *   0.3.9.3-0.ubuntu-jammy            cri-dockerd's .deb (Mirantis)
 */
import { tryParseDebianVersion } from "./dpkg";
import type { KubeVersion } from "./kubernetes";

/** A `major.minor.patch` release; Docker's `18.06` is minor 6. The same shape as a Kubernetes release. */
export type ReleaseVersion = KubeVersion;

/** The leading `X.Y.Z` of a pin's upstream part, after the epoch; it must be followed by its end or `~ + - .`. */
function leadingRelease(pin: string): ReleaseVersion | undefined {
  const parsed = tryParseDebianVersion(pin);
  if (!parsed) return undefined;
  const m = /^([0-9]+)\.([0-9]+)\.([0-9]+)(?:$|[~+.-])/.exec(parsed.upstream);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** `18.06.2~ce~3-0~ubuntu` -> 18.6.2; `5:27.3.1-1~ubuntu.24.04~noble` -> 27.3.1; docker-engine `1.13.1-0~ubuntu-xenial` -> 1.13.1. */
export function dockerVersionOfPin(pin: string): ReleaseVersion | undefined {
  return leadingRelease(pin);
}

/** `1.7.13-1` -> 1.7.13; `2.0.4-1` -> 2.0.4. */
export function containerdVersionOfPin(pin: string): ReleaseVersion | undefined {
  return leadingRelease(pin);
}

/** cri-dockerd numbers its packages with four parts (`0.3.9.3-0.ubuntu-jammy`): the first three are its release. */
export function criDockerdVersionOfPin(pin: string): ReleaseVersion | undefined {
  return leadingRelease(pin);
}

/**
 * The Ubuntu codename a pin was built for, or undefined when it names none:
 * `5:20.10.24~3-0~ubuntu-jammy` -> jammy, `5:27.3.1-1~ubuntu.24.04~noble` -> noble,
 * `0.3.9.3-0.ubuntu-jammy` -> jammy, `18.06.2~ce~3-0~ubuntu` -> undefined.
 */
export function ubuntuCodenameOfPin(pin: string): string | undefined {
  return /ubuntu(?:\.[0-9]+\.[0-9]+)?[-~.]([a-z]+)$/.exec(pin)?.[1];
}
