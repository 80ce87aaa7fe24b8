/**
 * Journeys: a control plane more than one minor behind its target goes through every minor in turn
 * (kubeadm refuses to skip one: https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/),
 * and the worker pools move only when the kubelet skew policy requires it before the next control-plane stage,
 * or at the end (https://kubernetes.io/releases/version-skew-policy/: kubelets never newer than kube-apiserver,
 * up to three minors older from 1.25, two before).
 *
 * Pets pools upgrade in place and so go one minor at a time (kubeadm upgrades one minor at a time on every node);
 * a cattle pool's replaced nodes join at the control plane's minor, so a cattle pool moves in one stage. Pure:
 * (what is rolled out, the target config) -> stages, each with the exact versions its nodes converge to.
 */
import { configKey, error, type Problem } from "../config/problems";
import type { JourneyStagePins, KubeherdConfig, Pool, Versions } from "../config/schema";
import { formatKubeVersion, kubeVersionOfPin, minorOf, parseKubeVersion, type KubeVersion } from "./kubernetes";
import { minorOfRepositoryLine } from "./repository-minor";
import type { Deployed } from "./deployed";

export interface JourneyStage {
  /** 1, 2, …: the order the stages run in. */
  number: number;
  kind: "control-plane" | "workers";
  /** The Kubernetes minor the stage's nodes reach (`1.32`). */
  minor: string;
  /** The pools that move in this stage, in rollout order. */
  pools: string[];
  /** The versions the stage's nodes converge to: that minor's release and pins, the target's runtime pins. */
  versions: Versions;
}

export interface Journey {
  /** The control plane's minors, from the rolled-out one to the target's. */
  path: string[];
  stages: JourneyStage[];
}

const JOURNEY_KEY = configKey("versions", ["journey"]);

/** Kubelets may lag the API server by 3 minors from 1.25 on, by 2 before (the skew policy, by the kubelet's version). */
export function allowedKubeletLag(kubeletMinor: number): number {
  return kubeletMinor < 25 ? 2 : 3;
}

/** Whether a kubelet of minor `kubelet` may talk to an API server of minor `apiServer` (one major, 1.x). */
export function kubeletSkewAllowed(kubelet: number, apiServer: number): boolean {
  return kubelet <= apiServer && apiServer - kubelet <= allowedKubeletLag(kubelet);
}

/** True when the control plane moves more than one minor: a journey, not a single step. */
export function isJourney(from: Deployed, target: KubeherdConfig): boolean {
  const a = parseKubeVersion(from.kubernetes);
  const b = parseKubeVersion(target.versions.kubernetes);
  return a !== undefined && b !== undefined && a.major === b.major && b.minor - a.minor > 1;
}

/**
 * The stages from `from` to `target`, or the problems that stop it: a minor of the path without an entry in
 * `versions.journey`, an entry of no minor on the path, a literal repository line that cannot serve every minor.
 */
export function planJourney(from: Deployed, target: KubeherdConfig): { journey?: Journey; problems: Problem[] } {
  const a = parseKubeVersion(from.kubernetes);
  const b = parseKubeVersion(target.versions.kubernetes);
  if (!a || !b || !isJourney(from, target)) return { problems: [] };
  const problems: Problem[] = [];
  const between = Array.from({ length: b.minor - a.minor - 1 }, (_, i) => a.minor + 1 + i);
  // Pets workers whose kubelet is older than the control plane pass through the minors below it too.
  const lowest = Math.min(a.minor, kubeVersionOfPin(from.pins.kubelet ?? "")?.minor ?? a.minor);
  const passable = Array.from({ length: b.minor - lowest - 1 }, (_, i) => lowest + 1 + i);
  const entries = new Map<number, JourneyStagePins>();
  target.versions.journey.forEach((entry, i) => {
    const v = parseKubeVersion(entry.kubernetes);
    const key = configKey("versions", ["journey", i, "kubernetes"]);
    if (!v || v.major !== a.major || !passable.includes(v.minor)) {
      problems.push(error(key, `${entry.kubernetes} is not a minor this journey passes through (${passable.map((m) => `${a.major}.${m}`).join(", ")}): remove it or fix its release`));
      return;
    }
    for (const pkg of ["kubeadm", "kubelet", "kubectl"] as const) {
      const pv = kubeVersionOfPin(entry[pkg]);
      if (!pv || pv.minor !== v.minor || pv.major !== v.major) {
        problems.push(error(configKey("versions", ["journey", i, pkg]), `${entry[pkg]} is not a ${minorOf(v)} pin: each stage pins its own minor's ${pkg}`));
      }
    }
    if (entries.has(v.minor)) problems.push(error(key, `${minorOf(v)} is given twice: one entry per minor`));
    entries.set(v.minor, entry);
  });
  const missing = between.filter((m) => !entries.has(m));
  if (missing.length > 0) {
    const example = `{kubernetes: ${a.major}.${missing[0]}.Z, kubeadm: ${a.major}.${missing[0]}.Z-1.1, kubelet: ${a.major}.${missing[0]}.Z-1.1, kubectl: ${a.major}.${missing[0]}.Z-1.1}`;
    problems.push(
      error(
        configKey("versions", ["kubernetes"]),
        `goes from ${formatKubeVersion(a)} to ${formatKubeVersion(b)}, skipping ${missing.map((m) => `${a.major}.${m}`).join(", ")}: kubeadm upgrades one minor at a time and takes the control plane through every minor (the journey: ${[a.minor, ...between, b.minor].map((m) => `${a.major}.${m}`).join(" → ")}): ` +
          `give the exact release and pins of ${missing.map((m) => `${a.major}.${m}`).join(", ")} in ${JOURNEY_KEY}, e.g. ${example}`,
      ),
    );
  }
  const line = target.repositories.kubernetes;
  const literal = line === undefined ? undefined : minorOfRepositoryLine(line);
  if (literal !== undefined) {
    problems.push(
      error(
        configKey("repositories", ["kubernetes"]),
        `the line names /v${literal}/ and so cannot serve the journey's other minors (${[...between, b.minor].map((m) => `${a.major}.${m}`).filter((m) => m !== literal).join(", ")}): write {minor} in place of ${literal}`,
      ),
    );
  }
  if (problems.length > 0) return { problems };

  const versionsAt = (minor: number): Versions => {
    const entry = entries.get(minor);
    return minor === b.minor || !entry ? target.versions : { ...target.versions, ...entry };
  };
  const stages = stagesOf(from, target, a, b, versionsAt);
  const unpinned = stages.filter((st) => st.minor !== minorOf(b) && !entries.has(Number(st.minor.split(".")[1])));
  for (const st of unpinned) {
    problems.push(error(JOURNEY_KEY, `${st.pools.join(", ")} must pass through ${st.minor} (stage ${st.number}: pets nodes go one minor at a time, within the kubelet skew policy): give ${st.minor}'s exact release and pins here`));
  }
  if (problems.length > 0) return { problems };
  return { journey: { path: [a.minor, ...between, b.minor].map((m) => `${a.major}.${m}`), stages }, problems: [] };
}

interface PoolState {
  pool: Pool;
  minor: number;
}

function stagesOf(from: Deployed, target: KubeherdConfig, a: KubeVersion, b: KubeVersion, versionsAt: (minor: number) => Versions): JourneyStage[] {
  const kubelet = kubeVersionOfPin(from.pins.kubelet ?? "")?.minor ?? a.minor;
  const controlPlane = target.pools.filter((p) => p.role === "control-plane").map((p) => p.name);
  const workers: PoolState[] = target.pools.filter((p) => p.role === "worker").map((pool) => ({ pool, minor: kubelet }));
  const stages: JourneyStage[] = [];
  const push = (kind: JourneyStage["kind"], minor: number, pools: string[]) => {
    if (pools.length === 0) return;
    stages.push({ number: stages.length + 1, kind, minor: `${a.major}.${minor}`, pools, versions: versionsAt(minor) });
  };
  /** Moves worker pools up until `ok(minor)` holds for each: pets one minor per stage, cattle straight to `reach`. */
  const moveWorkers = (reach: number, ok: (minor: number) => boolean) => {
    for (;;) {
      const behind = workers.filter((w) => !ok(w.minor));
      if (behind.length === 0) return;
      // One stage per minor reached: the cattle pools jump to `reach`, pets pools take one step.
      const targets = behind.map((w) => (w.pool.mode === "cattle" ? Math.max(reach, w.minor + 1) : w.minor + 1));
      const next = Math.min(...targets);
      const moving = behind.filter((_, i) => targets[i] === next);
      for (const w of moving) w.minor = next;
      push("workers", next, moving.map((w) => w.pool.name));
    }
  };
  // At the end the workers reach the target's kubelet, which may stay behind the control plane within the policy.
  const end = Math.min(b.minor, kubeVersionOfPin(target.versions.kubelet)?.minor ?? b.minor);
  let cp = a.minor;
  for (let next = a.minor + 1; next <= b.minor; next++) {
    moveWorkers(Math.min(cp, end), (minor) => kubeletSkewAllowed(minor, next));
    push("control-plane", next, controlPlane);
    cp = next;
  }
  moveWorkers(end, (minor) => minor >= end);
  return stages;
}

/**
 * A journey moves the pools it started with, all on the cluster's versions: pools added or removed go in a rollout
 * of their own, before or after, and so does a pool on its own pins (`pools[].versions`, or rolled out on pins of
 * its own): the stages would otherwise take it from the cluster's kubelet, not its own, and could skip its minors.
 */
export function journeyPoolProblems(from: Deployed, target: KubeherdConfig): Problem[] {
  const problems: Problem[] = [];
  target.pools.forEach((pool, i) => {
    const ownTarget = pool.versions !== undefined && Object.keys(pool.versions).length > 0;
    const ran = from.pools?.[pool.name];
    const ownRan = ran !== undefined && (["kubelet", "kubeadm", "kubectl"] as const).some((pkg) => ran[pkg] !== undefined && ran[pkg] !== from.pins[pkg]);
    if (!ownTarget && !ownRan) return;
    problems.push(error(
      configKey("pools", [i, "versions"]),
      ownTarget
        ? `pool ${pool.name} pins its own versions: a journey of several minors moves every pool on the cluster's versions, stage by stage; drop the block for the journey (or stop the control plane at the next minor first) and pin the pool again in a rollout of its own afterwards`
        : `pool ${pool.name} runs pins of its own (kubelet ${ran?.kubelet ?? "?"}, not the cluster's ${from.pins.kubelet ?? "?"}): bring it onto the cluster's versions in a rollout of its own before a journey of several minors`,
    ));
  });
  if (!from.pools || Object.keys(from.pools).length === 0) return problems;
  const base = Object.keys(from.pools);
  const names = target.pools.map((p) => p.name);
  const added = names.filter((p) => !base.includes(p));
  const removed = base.filter((p) => !names.includes(p));
  if (added.length + removed.length === 0) return problems;
  return [...problems, error(configKey("pools"), `a journey of several minors does not also add or remove pools (${[...added.map((p) => `+${p}`), ...removed.map((p) => `-${p}`)].join(", ")}): change the pools in a rollout of their own, before or after the journey`)];
}
