/**
 * The nodes of each pool as plain data: what each node runs and what, when it changes, makes the node change.
 * The planner diffs these between the base and target configs; the pool components declare the same values as
 * resource inputs (user data, `replacementTrigger`, command `triggers`), so the plan and `pulumi up` agree.
 */
import { DETACHED_RUN } from "../scripts/detached-run";
import { createHash } from "node:crypto";
import type { CattlePool, KubeherdConfig, PetsPool, Pool } from "../config/schema";
import { pinList, poolVersions } from "../versions/pins";
import { convergeScript } from "../scripts/converge";
import { shellQuote } from "../scripts/quote";
import { formatKubeVersion, kubeVersionOfPin } from "../versions/kubernetes";
import { containerdVersionOfPin, dockerVersionOfPin } from "../versions/runtime";
import { cattleUserData } from "../scripts/userdata";

export interface CattleNode {
  pool: string;
  /** Logical node name (the Kubernetes node name is the instance's private DNS name, known once it runs). */
  node: string;
  index: number;
  subnet: string;
  userData: string;
  /** What replaces the node when it changes (its `replacementTrigger`): the launch template's content and the
   * node's subnet. */
  fingerprint: string;
}

export interface PetsNode {
  pool: string;
  /** The Kubernetes node name. */
  node: string;
  /** SSH address; undefined for EC2 nodes kubeherd creates (their private IP is known once they run). */
  host?: string;
  hostKey?: string;
  kubeadm: "apply" | "node";
  script: string;
  /** The pins and maintenance tokens the node converges to; a change re-runs the script (drained). */
  triggers: string[];
}

/** Control-plane pools first, then worker pools, each group in config order. */
export function poolsInRolloutOrder(config: KubeherdConfig): Pool[] {
  return [...config.pools.filter((p) => p.role === "control-plane"), ...config.pools.filter((p) => p.role === "worker")];
}

/** The SSM parameter that holds a cattle pool's join token. */
export const joinParameterName = (config: KubeherdConfig, pool: Pool): string => `/kubeherd/${config.cluster.name}/${pool.name}/join`;

/** The user data of the instances kubeherd creates for `pool` (cattle, and EC2 pets at their first boot). */
export function poolUserData(config: KubeherdConfig, pool: Pool, region: string): string {
  const versions = poolVersions(config, pool);
  return cattleUserData({ config: { ...config, versions }, role: "worker", pool: pool.name, joinParameter: joinParameterName(config, pool), region });
}

export function cattleNodes(config: KubeherdConfig, pool: CattlePool, region: string): CattleNode[] {
  const versions = poolVersions(config, pool);
  const userData = poolUserData(config, pool, region);
  return Array.from({ length: pool.size }, (_, index) => {
    const node = cattleNodeName(pool, index);
    const subnet = pool.subnets[index % pool.subnets.length];
    // Readable in a preview's diff: the pins and the image by value, the rest of the user data by its digest.
    const fingerprint = JSON.stringify({
      pins: pinList(versions).map(([pkg, v]) => `${pkg}=${v}`),
      image: config.os.image,
      instanceType: pool.instanceType,
      securityGroups: [...pool.securityGroups].sort(),
      subnet,
      userData: `sha256:${createHash("sha256").update(userData).digest("hex")}`,
    });
    return { pool: pool.name, node, index, subnet, userData, fingerprint };
  });
}

export const cattleNodeName = (pool: Pool, index: number): string => `${pool.name}-${index}`;

/** The name of the first node of the first control-plane pool: the one node that runs `kubeadm upgrade apply`. */
export function firstControlPlaneNode(config: KubeherdConfig): string | undefined {
  const pool = poolsInRolloutOrder(config).find((p) => p.role === "control-plane");
  if (!pool) return undefined;
  return pool.mode === "pets" ? petsNodeNames(pool)[0] : cattleNodeName(pool, 0);
}

export function petsNodeNames(pool: PetsPool): string[] {
  return pool.nodes ? pool.nodes.map((n) => n.name) : Array.from({ length: pool.size ?? 0 }, (_, i) => cattleNodeName(pool, i));
}

export function petsNodes(config: KubeherdConfig, pool: PetsPool): PetsNode[] {
  const first = firstControlPlaneNode(config);
  const { os } = config;
  const versions = poolVersions(config, pool);
  return petsNodeNames(pool).map((name, i) => {
    const kubeadm = name === first ? "apply" : "node";
    const listed = pool.nodes?.[i];
    const triggers = [
      `kubernetes=${versions.kubernetes}`,
      ...pinList(versions).map(([pkg, v]) => `${pkg}=${v}`),
      `release=${os.release}`,
      `system-upgrade=${os.systemUpgrade ?? ""}`,
      `kubeadm=${kubeadm}`,
    ];
    return {
      pool: pool.name,
      node: name,
      host: listed?.host,
      hostKey: listed?.hostKey,
      kubeadm,
      script: convergeScript({ config: { ...config, versions }, role: pool.role, kubeadm, nodeName: name, ...(kubeadm === "apply" ? { etcdSnapshot: pool.rollout.etcdSnapshot, ignorePreflightErrors: pool.rollout.ignorePreflightErrors } : {}) }),
      triggers,
    };
  });
}

/** What a node reports once it runs the pins: the hooks wait for these. */
export interface NodeExpectations {
  /** Without the `v`: `1.30.2`. */
  kubeletVersion: string;
  runtime: { name: "docker" | "containerd"; version: string };
}

/** What the nodes of `pool` (a pool or its name) report once they run its pins. */
export function nodeExpectations(config: KubeherdConfig, pool: Pool | string): NodeExpectations {
  const v = poolVersions(config, pool);
  const kubelet = kubeVersionOfPin(v.kubelet);
  const runtimePin = v.runtime === "docker" ? v["docker-ce"] : v["containerd.io"];
  const runtime = runtimePin ? (v.runtime === "docker" ? dockerVersionOfPin(runtimePin) : containerdVersionOfPin(runtimePin)) : undefined;
  if (!kubelet || !runtime) throw new Error("nodeExpectations needs a validated config (kubelet and runtime pins)");
  return { kubeletVersion: formatKubeVersion(kubelet), runtime: { name: v.runtime, version: formatKubeVersion(runtime) } };
}

/** Where an administrator installs sudoers/kubeherd-converge, the runner the fragment sudoers/kubeherd allows. */
export const CONVERGE_RUNNER = "/usr/local/sbin/kubeherd-converge";

/**
 * The remote command (and its stdin) that runs a node's script as root for the pool's SSH settings: with
 * `sudo: converge`, the fixed root-owned runner reads the script on stdin, so the user needs sudo for that one path.
 */
export function remoteConverge(script: string, ssh: { user: string; sudo: "bash" | "converge" }): { create: string; stdin?: string } {
  if (ssh.user === "root" || ssh.sudo === "bash") return { create: rootCommand(script, ssh.user) };
  return { create: `sudo -n ${CONVERGE_RUNNER}`, stdin: script };
}

/** The remote command that runs a node's script as root: directly for root, else through `sudo -n` (never asks); the
 *  script runs to its end even when the SSH connection drops (scripts/detached-run.ts). */
export function rootCommand(script: string, user: string): string {
  const run = `bash -c ${shellQuote(DETACHED_RUN)} kubeherd-run ${shellQuote(script)}`;
  return user === "root" ? run : `sudo -n ${run}`;
}
