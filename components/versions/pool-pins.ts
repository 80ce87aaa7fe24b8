/**
 * The rules of a pool's own `versions` block (issue 18): a worker pool may keep an older kubelet than the control
 * plane (a staged upgrade) within the skew policy, never a newer one; its kubeadm, kubelet and kubectl are of one
 * minor, the minor its repository line serves; a control-plane pool runs the cluster's versions (they ARE the
 * control plane's). The runtime and repository rules of the cluster apply to each pool's merged pins. Pure.
 */
import { configKey, error, type Problem } from "../config/problems";
import type { KubeherdConfig, Pool } from "../config/schema";
import { kubeVersionOfPin, minorOf, type KubeVersion } from "./kubernetes";
import { poolVersions } from "./pins";
import { minorOfRepositoryLine } from "./repository-minor";
import { checkRepositoryNeeds } from "./repository-needs";
import { checkRuntime } from "./runtime-support";
import { checkSkew, KUBE_PACKAGES } from "./skew";

const CLUSTER_PREFIX = `${configKey("versions")}.`;

/** Problems of every pool's own versions block; `cp` is the control plane (`versions.kubernetes`). */
export function checkPoolPins(config: KubeherdConfig, cp: KubeVersion, clusterProblems: readonly Problem[]): Problem[] {
  return config.pools.flatMap((pool, i) => checkPool(config, pool, i, cp, clusterProblems));
}

const poolKey = (i: number, key: string): string => configKey("pools", [i, "versions", key]);

function checkPool(config: KubeherdConfig, pool: Pool, i: number, cp: KubeVersion, clusterProblems: readonly Problem[]): Problem[] {
  const own = pool.versions;
  if (!own) return [];
  const keys = (Object.keys(own) as (keyof typeof own)[]).filter((k) => own[k] !== undefined);
  if (pool.role === "control-plane") {
    return keys
      .filter((k) => own[k] !== config.versions[k])
      .map((k) =>
        error(
          poolKey(i, k),
          `${own[k]} differs from ${configKey("versions", [k])} (${config.versions[k] ?? "not pinned"}), but pool ${pool.name} is a control-plane pool: ` +
            "kubeherd:versions are the control plane's and its nodes must agree: drop the key from the pool or change kubeherd:versions",
        ),
      );
  }
  const merged = poolVersions(config, pool);
  const rekeyed = (problems: Problem[]): Problem[] =>
    problems
      .filter((p) => !clusterProblems.some((c) => c.key === p.key && c.message === p.message))
      .map((p) => (p.key.startsWith(CLUSTER_PREFIX) ? { ...p, key: poolKey(i, p.key.slice(CLUSTER_PREFIX.length)) } : p));
  const problems: Problem[] = [];
  const ownKube = KUBE_PACKAGES.filter((k) => own[k] !== undefined);
  let mixed = false;
  if (ownKube.length > 0) {
    // kubeadm is checked below against the pool's kubelet: the pool's nodes do not apply the control plane.
    problems.push(...rekeyed(checkSkew(merged, cp).filter((p) => !p.key.endsWith(".kubeadm"))));
    const minors = oneMinor(config, pool, i);
    mixed = minors.length > 0;
    problems.push(...minors);
  }
  const ownRuntime = keys.some((k) => k === "runtime" || k === "docker-ce" || k === "docker-ce-cli" || k === "containerd.io" || k === "cri-dockerd");
  if (ownRuntime || ownKube.length > 0) {
    const poolConfig = { ...config, versions: merged };
    // The pool's nodes get the line of their kubeadm's minor (nodeRepositoryMinor): its needs are measured there.
    const lineMinor = kubeVersionOfPin(merged.kubeadm) ?? cp;
    problems.push(...rekeyed([...(ownRuntime ? checkRuntime(poolConfig, cp) : []), ...(mixed ? [] : checkRepositoryNeeds(poolConfig, lineMinor))]));
  }
  return problems;
}

/** kubeadm, kubelet and kubectl of the pool's kubelet minor, which a literal repository line must serve. */
function oneMinor(config: KubeherdConfig, pool: Pool, i: number): Problem[] {
  const merged = poolVersions(config, pool);
  const kubelet = kubeVersionOfPin(merged.kubelet);
  if (!kubelet) return []; // the skew rule names the unparsable pin
  const minor = minorOf(kubelet);
  const problems: Problem[] = [];
  for (const pkg of ["kubeadm", "kubectl"] as const) {
    const v = kubeVersionOfPin(merged[pkg]);
    if (!v || minorOf(v) === minor) continue;
    const whose = pool.versions?.[pkg] === undefined ? ` (the cluster's ${configKey("versions", [pkg])}, which the pool inherits)` : "";
    problems.push(
      error(
        poolKey(i, pkg),
        `${pkg} ${merged[pkg]}${whose} is of minor ${minorOf(v)} but the pool's kubelet ${merged.kubelet} is of ${minor}: a node's kubeadm, kubelet and kubectl come from one ` +
          `repository line of one minor (kubeadm of its node's kubelet minor): pin the pool's ${pkg} at a ${minor} version`,
      ),
    );
  }
  const line = config.repositories.kubernetes;
  const serves = line === undefined ? undefined : minorOfRepositoryLine(line);
  if (serves !== undefined && serves !== minor) {
    problems.push(
      error(
        poolKey(i, pool.versions?.kubelet === undefined ? "kubeadm" : "kubelet"),
        `pool ${pool.name} runs ${minor} packages but ${configKey("repositories", ["kubernetes"])} names /v${serves}/ and serves only ${serves}: ` +
          `write {minor} in place of ${serves} in the line (kubeherd fills in each pool's minor)`,
      ),
    );
  }
  return problems;
}
