/**
 * Configs for the engine suite, built through the real schema from the shared fixtures (test/support/fixtures/config.ts):
 * the article's cluster, the current one with a second cattle pool, and the bumps between them.
 */
import type { KubeherdConfig } from "../../../components/config/schema";
import { articleConfig, currentConfig, currentInput } from "../fixtures/config";

export const region = "eu-west-1";

type Input = Record<string, unknown>;

export const articleBump = {
  versions: { kubernetes: "1.13.3", kubeadm: "1.13.3-00", kubelet: "1.13.3-00", kubectl: "1.13.3-00", "docker-ce": "18.06.2~ce~3-0~ubuntu" },
};
/** A Kubernetes patch: every pets node re-runs, every cattle node is replaced. */
export const patchBump = { versions: { kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } };
/** A new image: cattle nodes are replaced, pets nodes are untouched. */
export const imageBump = { os: { image: "ami-0abcdef1234567891" } };

export { articleConfig };

/** The fixture's pools: control-plane (pets cp-1, cp-2), workers (cattle, 3), storage (pets storage-1). */
const [controlPlane, workers, storage] = currentInput.pools as Input[];

export interface PoolShape {
  /** Pool name → size, for the cattle pools `workers` and `batch` (a copy of workers); absent: no such pool. */
  workers?: number;
  batch?: number;
  /** A cattle control-plane pool `cp` of this size instead of the pets one. */
  cattleControlPlane?: number;
  /** Cattle pools with strategy `surge`; the others roll. */
  surge?: string[];
  /** `rollout` settings of the cattle pools `workers` and `batch` (budgets, byZone, canary). */
  rollout?: Input;
  /** The cattle pools' subnets instead of the fixture's two. */
  subnets?: string[];
}

/** Three subnets, for byZone. */
export const threeSubnets = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003"];

/** The current cluster with the given pools, in rollout order: control plane, workers, storage, batch. */
export function cluster(shape: PoolShape, patch: Input = {}): KubeherdConfig {
  const cattle = { ...workers, ...(shape.rollout ? { rollout: shape.rollout } : {}), ...(shape.subnets ? { subnets: shape.subnets } : {}) };
  const pools: Input[] = [
    shape.cattleControlPlane ? { ...workers, name: "cp", role: "control-plane", size: shape.cattleControlPlane } : controlPlane,
    ...(shape.workers ? [{ ...cattle, size: shape.workers }] : []),
    storage,
    ...(shape.batch ? [{ ...cattle, name: "batch", size: shape.batch }] : []),
  ];
  const config = currentConfig({ ...patch, pools });
  for (const pool of config.pools) {
    if (pool.mode === "cattle" && shape.surge?.includes(pool.name)) pool.rollout.strategy = "surge";
  }
  return config;
}
