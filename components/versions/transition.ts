/**
 * One judge of a transition: from what is rolled out (`Deployed`: the plan's `--base` config, or the program's own
 * `rolledOut` stack output) to the wanted config. The plan command and the program both call `judgeTransition`,
 * so `npm run plan`, `pulumi preview` and `pulumi up` refuse the same transitions with the same lines.
 *
 * What `versions.allowUnsupportedTransition` may allow is only what kubeadm and apt can really do:
 * - a patch downgrade of kubelet, kubectl, kubeadm (within its minor) and the runtime packages: apt installs it
 *   with `--allow-downgrades` (the converge script passes it);
 * - a patch downgrade of the control plane within its minor: kubeadm's version policy
 *   (cmd/kubeadm/app/phases/upgrade/policy.go, `EnforceVersionPolicies`) has no error for it, so
 *   `kubeadm upgrade apply -y vX.Y.Z` runs without a flag.
 * Never allowed: a skipped control-plane minor (kubeadm's "can upgrade only 1 minor version at a time" is a
 * mandatory error, https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/), a minor or major
 * downgrade of the control plane, a minor downgrade of a package, a runtime switch, an Ubuntu downgrade or skip.
 */
import { configKey, error, warning, type Problem } from "../config/problems";
import { DEFAULT_SNAPSHOT_DIR } from "../config/patterns";
import type { KubeherdConfig } from "../config/schema";
import { PINNED_PACKAGES, poolVersions, type PinnedPackage } from "./pins";
import { compareDebianVersions, tryParseDebianVersion } from "./dpkg";
import { compareKubeVersions, formatKubeVersion, kubeVersionOfPin, minorOf, parseKubeVersion, type KubeVersion } from "./kubernetes";
import { containerdVersionOfPin, criDockerdVersionOfPin, dockerVersionOfPin } from "./runtime";
import type { Deployed } from "./deployed";
import { isJourney, planJourney } from "./journey";
import { UBUNTU_RELEASE_NAMES } from "./ubuntu";

export type { Deployed } from "./deployed";

export function deployedOfConfig(config: KubeherdConfig): Deployed {
  const pinsOf = (versions: KubeherdConfig["versions"]): Deployed["pins"] => {
    const pins: Deployed["pins"] = {};
    for (const pkg of PINNED_PACKAGES) if (versions[pkg] !== undefined) pins[pkg] = versions[pkg];
    return pins;
  };
  const pools = Object.fromEntries(config.pools.map((pool) => [pool.name, pinsOf(poolVersions(config, pool))]));
  const image = config.pools.some((p) => p.mode === "cattle") ? config.os.image : undefined;
  return { kubernetes: config.versions.kubernetes, pins: pinsOf(config.versions), release: config.os.release, runtime: config.versions.runtime, pools, ...(image ? { image } : {}) };
}

export const OVERRIDE = configKey("versions", ["allowUnsupportedTransition"]);
const CONTROL_PLANE = configKey("versions", ["kubernetes"]);
/** Where README tells how to restore a control plane from its etcd snapshot. */
export const WAY_BACK = `README "The way back"`;

const KUBE_PINS: readonly PinnedPackage[] = ["kubeadm", "kubelet", "kubectl"];

export interface JudgeOptions {
  /**
   * Whether a multi-minor control-plane bump may be planned as a journey (./journey.ts): then it is judged by
   * whether its stages can be planned. Otherwise it is refused, printing the path. @default false
   */
  journeys?: boolean;
}

export function judgeTransition(from: Deployed, target: KubeherdConfig, options: JudgeOptions = {}): Problem[] {
  if (options.journeys && isJourney(from, target)) {
    // Every stage is itself a one-minor step: the stages' pins are judged by the journey planner.
    const overridable: Overridable = (key, message) => error(key, `${message}: not on a journey`);
    const pins = [...judgePins(from, target, overridable), ...judgePoolPins(from, target, overridable)].filter((p) => p.severity === "error");
    return [...planJourney(from, target).problems, ...pins, ...judgeRelease(from, target), ...judgeRuntimeSwitch(from, target)];
  }
  const allowed = target.versions.allowUnsupportedTransition;
  const overridable = (key: string, message: string): Problem =>
    allowed
      ? warning(key, `${message} (allowed because ${OVERRIDE} is true: an unsupported transition)`)
      : error(key, `${message}, or set ${OVERRIDE} for an emergency`);
  return [
    ...judgeControlPlane(from, target, overridable),
    ...judgePins(from, target, overridable),
    ...judgePoolPins(from, target, overridable),
    ...judgeRelease(from, target),
    ...judgeRuntimeSwitch(from, target),
  ];
}

type Overridable = (key: string, message: string) => Problem;

/** The minors a control plane goes through from `from` to `to` (exclusive of `from`, inclusive of `to`'s minor). */
export function minorsBetween(from: KubeVersion, to: KubeVersion): string[] {
  const out: string[] = [];
  for (let m = from.minor + 1; m <= to.minor; m++) out.push(minorOf({ ...from, minor: m }));
  return out;
}

function judgeControlPlane(from: Deployed, target: KubeherdConfig, overridable: Overridable): Problem[] {
  const a = parseKubeVersion(from.kubernetes);
  const b = parseKubeVersion(target.versions.kubernetes);
  if (!a || !b) return [];
  const change = `goes from ${formatKubeVersion(a)} to ${formatKubeVersion(b)}`;
  if (a.major !== b.major) {
    return [error(CONTROL_PLANE, `${change}, a major change: kubeadm upgrades one minor at a time within a major: stay on ${a.major}.x`)];
  }
  if (b.minor < a.minor) {
    return [
      error(
        CONTROL_PLANE,
        `${change}, a downgrade of the control plane's minor: kubeadm cannot take a control plane back a minor (etcd and the stored API objects have moved on), and no override allows it: ` +
          `keep ${minorOf(a)} and move forward, or restore the control plane from the etcd snapshot kubeherd saved on the first control-plane node before its upgrade (pools[].rollout.etcdSnapshot.dir, default ${DEFAULT_SNAPSHOT_DIR}; kubeadm also keeps its data under /etc/kubernetes/tmp/kubeadm-backup-etcd-*) as ${WAY_BACK} describes`,
      ),
    ];
  }
  if (compareKubeVersions(b, a) < 0) {
    return [overridable(CONTROL_PLANE, `${change}, a downgrade: kubeadm does not support downgrades (a patch back within ${minorOf(a)} is the one it can run): keep ${formatKubeVersion(a)} or move forward`)];
  }
  if (b.minor - a.minor > 1) {
    const path = minorsBetween(a, b);
    return [
      error(
        CONTROL_PLANE,
        `${change}, skipping ${skipped(a, b)}: kubeadm upgrades one minor at a time: go to ${path[0]} first; kubeadm refuses a skipped minor and no override allows it (the journey: ${minorOf(a)} → ${path.join(" → ")}, one control-plane stage per minor)`,
      ),
    ];
  }
  return [];
}

/** "1.29" or "1.29 – 1.30": the minors strictly between two releases of one major. */
function skipped(from: KubeVersion, to: KubeVersion): string {
  const first = minorOf({ ...from, minor: from.minor + 1 });
  const last = minorOf({ ...from, minor: to.minor - 1 });
  return first === last ? first : `${first} – ${last}`;
}

/** The release a pin installs, for the same-minor test of a patch downgrade. */
function releaseOfPin(pkg: PinnedPackage, pin: string): KubeVersion | undefined {
  if (KUBE_PINS.includes(pkg)) return kubeVersionOfPin(pin);
  if (pkg === "containerd.io") return containerdVersionOfPin(pin);
  if (pkg === "cri-dockerd") return criDockerdVersionOfPin(pin);
  return dockerVersionOfPin(pin);
}

function judgePins(from: Deployed, target: KubeherdConfig, overridable: Overridable): Problem[] {
  return PINNED_PACKAGES.flatMap((pkg) => judgePin(pkg, from.pins[pkg], target.versions[pkg], configKey("versions", [pkg]), overridable));
}

/**
 * Each pool's own pins against what that pool ran (issue 18): a pool with its own block is judged under
 * `pools[i].versions.KEY` for the keys it sets; a pool whose deployed pins differed from the cluster's (it had a
 * block) is judged for every package, so dropping a block cannot take a pool's nodes back. A pair the cluster-wide
 * judge already judged (same pins on both sides) is not judged twice.
 */
function judgePoolPins(from: Deployed, target: KubeherdConfig, overridable: Overridable): Problem[] {
  return target.pools.flatMap((pool, i) => {
    const ran = from.pools?.[pool.name];
    const to = poolVersions(target, pool);
    if (!ran && !pool.versions) return [];
    return PINNED_PACKAGES.flatMap((pkg) => {
      const was = ran?.[pkg] ?? from.pins[pkg];
      if (was === from.pins[pkg] && to[pkg] === target.versions[pkg]) return [];
      const key = pool.versions?.[pkg] !== undefined ? configKey("pools", [i, "versions", pkg]) : configKey("versions", [pkg]);
      return judgePin(pkg, was, to[pkg], key, overridable).map((p) => ({ ...p, message: `pool ${pool.name}: ${p.message}` }));
    });
  });
}

function judgePin(pkg: PinnedPackage, was: string | undefined, to: string | undefined, key: string, overridable: Overridable): Problem[] {
  if (was === undefined || to === undefined) return [];
  if (!tryParseDebianVersion(was) || !tryParseDebianVersion(to)) return [];
  const a = releaseOfPin(pkg, was);
  const b = releaseOfPin(pkg, to);
  if (compareDebianVersions(to, was) < 0) {
    const sameMinor = a !== undefined && b !== undefined && a.major === b.major && a.minor === b.minor;
    const down = `${pkg} goes from ${was} down to ${to} (dpkg version order)`;
    return [
      sameMinor
        ? overridable(key, `${down}: kubeherd rolls pins forward only; a downgrade within ${a.major}.${a.minor} is what apt can do (with --allow-downgrades, for this package only): pin ${was} or newer`)
        : error(key, `${down}, across minors: neither kubeadm nor the package supports going back a minor on a node, and no override allows it: pin ${was} or newer, or replace the node (cattle) from a config that pins ${to}`),
    ];
  }
  if (pkg !== "kubelet" && pkg !== "kubectl") return [];
  if (a && b && a.major === b.major && b.minor - a.minor > 1) {
    return [warning(key, `${pkg} goes from ${was} to ${to}, skipping ${skipped(a, b)}: the skew policy allows it, but the usual path is one minor at a time: consider ${minorOf({ ...a, minor: a.minor + 1 })} first`)];
  }
  return [];
}

function judgeRelease(from: Deployed, target: KubeherdConfig): Problem[] {
  const a = UBUNTU_RELEASE_NAMES.indexOf(from.release as (typeof UBUNTU_RELEASE_NAMES)[number]);
  const b = UBUNTU_RELEASE_NAMES.indexOf(target.os.release);
  if (a < 0) return [];
  const key = configKey("os", ["release"]);
  const change = `goes from ${from.release} to ${target.os.release}`;
  if (b < a) {
    return [error(key, `${change}, a downgrade: Ubuntu cannot be downgraded in place: keep ${from.release}, or build the nodes anew in a new pool`)];
  }
  if (b - a > 1) {
    return [error(key, `${change}, skipping ${UBUNTU_RELEASE_NAMES.slice(a + 1, b).join(", ")}: do-release-upgrade goes one LTS at a time: go to ${UBUNTU_RELEASE_NAMES[a + 1]} first`)];
  }
  return [];
}

function judgeRuntimeSwitch(from: Deployed, target: KubeherdConfig): Problem[] {
  const was = from.runtime ?? (from.pins["docker-ce"] !== undefined ? "docker" : "containerd");
  const to = target.versions.runtime;
  if (was === to) return [];
  const key = configKey("versions", ["runtime"]);
  return [error(key, `goes from ${was} to ${to}: kubeherd does not migrate a node's container runtime in place: keep ${was} here, and bring up a new cluster (stack) with ${to} and move the workloads there`)];
}
