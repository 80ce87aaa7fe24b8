/**
 * Rules between the deployed config (base) and the wanted one (target): kubeadm upgrades one minor at a time and
 * never downgrades (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/), pins move
 * forward in dpkg order, Ubuntu moves one LTS at a time, and a node's runtime is never swapped in place.
 */
import { configKey, error, warning, type Problem } from "../config/problems";
import type { KubeherdConfig } from "../config/schema";
import { PINNED_PACKAGES } from "./pins";
import { compareDebianVersions, tryParseDebianVersion } from "./dpkg";
import { compareKubeVersions, formatKubeVersion, kubeVersionOfPin, minorOf, parseKubeVersion, type KubeVersion } from "./kubernetes";
import { UBUNTU_RELEASE_NAMES } from "./ubuntu";

const OVERRIDE = configKey("versions", ["allowUnsupportedTransition"]);

export function checkUpgradePath(base: KubeherdConfig, target: KubeherdConfig): Problem[] {
  // The override is the target's: it is set for the one change that needs it, and says so in the plan.
  const overridable = (key: string, message: string): Problem =>
    target.versions.allowUnsupportedTransition
      ? warning(key, `${message} (allowed because ${OVERRIDE} is true: an unsupported transition)`)
      : error(key, `${message}, or set ${OVERRIDE} for an emergency`);
  return [
    ...checkKubernetes(base, target, overridable),
    ...checkPins(base, target, overridable),
    ...checkRelease(base, target),
    ...checkRuntimeSwitch(base, target),
  ];
}

type Overridable = (key: string, message: string) => Problem;

function checkKubernetes(base: KubeherdConfig, target: KubeherdConfig, overridable: Overridable): Problem[] {
  const from = parseKubeVersion(base.versions.kubernetes);
  const to = parseKubeVersion(target.versions.kubernetes);
  if (!from || !to) return [];
  const key = configKey("versions", ["kubernetes"]);
  const change = `goes from ${formatKubeVersion(from)} to ${formatKubeVersion(to)}`;
  if (from.major !== to.major) {
    return [overridable(key, `${change}, a major change: kubeadm upgrades one minor at a time within a major: stay on ${from.major}.x`)];
  }
  if (compareKubeVersions(to, from) < 0) {
    return [overridable(key, `${change}, a downgrade: kubeadm does not support downgrades: keep ${formatKubeVersion(from)} or move forward`)];
  }
  if (to.minor - from.minor > 1) {
    const next = minorOf({ ...from, minor: from.minor + 1 });
    return [overridable(key, `${change}, skipping ${skipped(from, to)}: kubeadm upgrades one minor at a time: go to ${next} first`)];
  }
  return [];
}

/** "1.29" or "1.29 – 1.30": the minors strictly between two releases of one major. */
function skipped(from: KubeVersion, to: KubeVersion): string {
  const first = minorOf({ ...from, minor: from.minor + 1 });
  const last = minorOf({ ...from, minor: to.minor - 1 });
  return first === last ? first : `${first} – ${last}`;
}

function checkPins(base: KubeherdConfig, target: KubeherdConfig, overridable: Overridable): Problem[] {
  const problems: Problem[] = [];
  for (const pkg of PINNED_PACKAGES) {
    const from = base.versions[pkg];
    const to = target.versions[pkg];
    if (from === undefined || to === undefined) continue;
    if (!tryParseDebianVersion(from) || !tryParseDebianVersion(to)) continue;
    const key = configKey("versions", [pkg]);
    if (compareDebianVersions(to, from) < 0) {
      problems.push(overridable(key, `${pkg} goes from ${from} down to ${to} (dpkg version order): kubeherd rolls pins forward only, downgrades are unsupported: pin ${from} or newer`));
      continue;
    }
    if (pkg !== "kubelet" && pkg !== "kubectl") continue;
    const a = kubeVersionOfPin(from);
    const b = kubeVersionOfPin(to);
    if (a && b && a.major === b.major && b.minor - a.minor > 1) {
      problems.push(warning(key, `${pkg} goes from ${from} to ${to}, skipping ${skipped(a, b)}: the skew policy allows it, but the usual path is one minor at a time: consider ${minorOf({ ...a, minor: a.minor + 1 })} first`));
    }
  }
  return problems;
}

function checkRelease(base: KubeherdConfig, target: KubeherdConfig): Problem[] {
  const from = UBUNTU_RELEASE_NAMES.indexOf(base.os.release);
  const to = UBUNTU_RELEASE_NAMES.indexOf(target.os.release);
  const key = configKey("os", ["release"]);
  const change = `goes from ${base.os.release} to ${target.os.release}`;
  if (to < from) {
    return [error(key, `${change}, a downgrade: Ubuntu cannot be downgraded in place: keep ${base.os.release}, or build the nodes anew in a new pool`)];
  }
  if (to - from > 1) {
    const next = UBUNTU_RELEASE_NAMES[from + 1];
    return [error(key, `${change}, skipping ${UBUNTU_RELEASE_NAMES.slice(from + 1, to).join(", ")}: do-release-upgrade goes one LTS at a time: go to ${next} first`)];
  }
  return [];
}

function checkRuntimeSwitch(base: KubeherdConfig, target: KubeherdConfig): Problem[] {
  const from = base.versions.runtime;
  const to = target.versions.runtime;
  if (from === to) return [];
  return [
    error(configKey("versions", ["runtime"]), `goes from ${from} to ${to}: kubeherd does not migrate a node's container runtime in place: keep ${from} here, and bring up a new cluster (stack) with ${to} and move the workloads there`),
  ];
}
