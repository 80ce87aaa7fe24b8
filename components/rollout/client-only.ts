/**
 * The pets nodes whose change from what the stack has rolled out (its `rolledOut` output) is the kubectl pin alone:
 * their converge run installs a client and restarts nothing, so the drain hook lets them be (the plan shows no
 * drain for them either, ./step-notes.ts). Pure: the program hands it its own `rolledOut`.
 */
import type { KubeherdConfig } from "../config/schema";
import { formatKubeVersion, kubeVersionOfPin } from "../versions/kubernetes";
import { poolVersions, type PinnedPackage } from "../versions/pins";
import type { RolledOut } from "../promotion/rolled-out";
import { petsNodes, poolsInRolloutOrder } from "./nodes";
import { clientOnly } from "./step-notes";

/** `pool/node` of every pets node whose only change is kubectl. */
export function clientOnlyNodes(config: KubeherdConfig, rolledOut: RolledOut | undefined): Set<string> {
  const out = new Set<string>();
  if (!rolledOut) return out;
  for (const pool of poolsInRolloutOrder(config)) {
    if (pool.mode !== "pets") continue;
    const pins = (rolledOut.pools[pool.name]?.pins ?? rolledOut.pins) as Partial<Record<PinnedPackage, string>>;
    // A pool or a pin the rollout did not have (or that the config no longer has) is no kubectl-only change.
    const wanted = poolVersions(config, pool);
    const pinned = (Object.keys(wanted) as string[]).filter((k) => k in pins || k === "kubectl");
    if (!rolledOut.pools[pool.name] || Object.keys(pins).some((k) => !(k in wanted) || wanted[k as PinnedPackage] === undefined) || pinned.length === 0) continue;
    const versions = { ...wanted, kubernetes: rolledOut.kubernetes };
    for (const pkg of Object.keys(versions) as (keyof typeof versions)[]) {
      if (pkg in pins) (versions as Record<string, unknown>)[pkg] = pins[pkg as PinnedPackage];
    }
    // A pool with its own kubeadm targets that kubeadm's release, not the control plane's (poolVersions).
    const ranKubeadm = pool.versions?.kubeadm === undefined ? undefined : kubeVersionOfPin(versions.kubeadm);
    if (ranKubeadm) versions.kubernetes = formatKubeVersion(ranKubeadm);
    const rolled: KubeherdConfig = {
      ...config,
      versions,
      // The pool's rolled-out pins are all in `versions`: its own block would be merged over them again.
      pools: config.pools.map((p) => (p.name === pool.name ? { ...p, versions: undefined } : p)),
      os: { ...config.os, release: rolledOut.release as KubeherdConfig["os"]["release"], systemUpgrade: rolledOut.systemUpgrade },
    };
    let before: Map<string, string[]>;
    try {
      before = new Map(petsTriggers(rolled, pool.name));
    } catch {
      continue; // the rolled-out versions make no script under today's rules: not a kubectl-only change
    }
    for (const [node, triggers] of petsTriggers(config, pool.name)) {
      if (clientOnly(before.get(node), triggers)) out.add(`${pool.name}/${node}`);
    }
  }
  return out;
}

function petsTriggers(config: KubeherdConfig, poolName: string): [string, string[]][] {
  const pool = config.pools.find((p) => p.name === poolName);
  if (pool?.mode !== "pets") return [];
  return petsNodes(config, pool).map((n) => [n.node, n.triggers]);
}
