/**
 * What a stack has completely rolled out, as plain data. The program exports it as the stack output `rolledOut`
 * only once every node's registration has returned (each node's ready hook has passed), so a stack that promotes
 * from this one can trust it: these pins run on every node of every pool.
 */
import type { KubeherdConfig } from "../config/schema";
import { cattleNodeName, petsNodeNames, poolsInRolloutOrder } from "../rollout/nodes";
import type { Launched } from "../rollout/cattle-client-only";
import type { Journey } from "../versions/journey";
import { pinList, poolVersions } from "../versions/pins";
import { placementOf } from "../versions/placement";

/** What a stack has completely rolled out: exported by the program only after every node is back. */
export interface RolledOut {
  /** The cluster's Kubernetes version (`kubeadm upgrade apply`), without the `v`. */
  kubernetes: string;
  /** Every pinned package and its exact apt version. */
  pins: Record<string, string>;
  /** The Ubuntu release (`kubeherd:os.release`). */
  release: string;
  /** The last system upgrade token that ran, when the stack has one. */
  systemUpgrade?: string;
  /** Per pool, in rollout order: the pins its nodes run and the nodes' names. */
  pools: Record<string, { pins: Record<string, string>; nodes: string[]; launched?: Launched }>;
  /** `os.image` the cattle pools booted; absent without cattle pools (and in outputs of kubeherd before it was recorded). */
  image?: string;
  /** `aws:region` of the instances kubeherd created; absent when it creates none (or before it was recorded). */
  region?: string;
  /**
   * The releases the stack ran before this one, oldest first: its earlier rollouts and the stages of its journeys
   * (the control plane's release and the cluster-wide pins of each), at most PASSED_KEPT. The promotion gate takes
   * them as rolled out, so a stack that promotes from this one can follow it stage by stage. Absent in outputs of
   * older kubeherd versions.
   */
  passed?: PassedRelease[];
}

export interface PassedRelease {
  kubernetes: string;
  pins: Record<string, string>;
}

/** How many earlier releases `passed` keeps: enough for a journey across every minor kubeherd supports at once. */
export const PASSED_KEPT = 12;

export interface RolledOutHistory {
  /** What the stack had rolled out before this `up` (its own last `rolledOut`). */
  before?: RolledOut;
  /** The journey this `up` walked (components/versions/journey.ts). */
  journey?: Journey;
  /** Per cattle pool, what its instances were launched with (components/rollout/cattle-client-only.ts). */
  launched?: Record<string, Launched>;
}

/** `region`: `aws:region`, recorded when kubeherd creates instances, so a later change of it is refused. */
export function rolledOutOf(config: KubeherdConfig, history: RolledOutHistory = {}, region?: string): RolledOut {
  // The cluster-wide pins: `kubeherd:versions`, what `kubeadm upgrade apply` and the promotion gate read.
  const pins = Object.fromEntries(pinList(config.versions));
  const pools: RolledOut["pools"] = {};
  for (const pool of poolsInRolloutOrder(config)) {
    const nodes = pool.mode === "cattle" ? Array.from({ length: pool.size }, (_, i) => cattleNodeName(pool, i)) : petsNodeNames(pool);
    const launched = history.launched?.[pool.name];
    pools[pool.name] = { pins: Object.fromEntries(pinList(poolVersions(config, pool))), nodes, ...(launched ? { launched } : {}) };
  }
  const passed = passedReleases({ kubernetes: config.versions.kubernetes, pins }, history);
  return {
    kubernetes: config.versions.kubernetes,
    pins,
    release: config.os.release,
    ...(config.os.systemUpgrade !== undefined ? { systemUpgrade: config.os.systemUpgrade } : {}),
    pools,
    ...placementOf(config, region),
    ...(passed.length > 0 ? { passed } : {}),
  };
}

/** The earlier releases and the journey's stages, oldest first, without repeats and without the current one. */
export function passedReleases(current: PassedRelease, { before, journey }: RolledOutHistory): PassedRelease[] {
  const all: PassedRelease[] = [
    ...(before?.passed ?? []),
    ...(before ? [{ kubernetes: before.kubernetes, pins: before.pins }] : []),
    ...(journey?.stages ?? []).filter((s) => s.kind === "control-plane").map((s) => ({ kubernetes: s.versions.kubernetes, pins: Object.fromEntries(pinList(s.versions)) })),
  ];
  const key = (r: PassedRelease) => JSON.stringify([r.kubernetes, Object.entries(r.pins).sort()]);
  const seen = new Set([key(current)]);
  const out: PassedRelease[] = [];
  for (const r of [...all].reverse()) {
    if (seen.has(key(r))) continue;
    seen.add(key(r));
    out.unshift(r);
  }
  return out.slice(-PASSED_KEPT);
}
