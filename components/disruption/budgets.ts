/**
 * A PodDisruptionBudget as an eviction meets it (the API server's eviction subresource, policy/v1): how many
 * disruptions it allows now, the most it can ever allow when every pod it expects is healthy, and which pods an
 * eviction charges to it. Pending, finished and terminating pods are deleted without asking the budget; a pod
 * that is not Ready is too when the budget says `AlwaysAllow`, or (`IfHealthyBudget`, the default) when the
 * budget is healthy; a Ready pod takes one of the disruptions allowed.
 */
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { selects } from "./selectors";

/** `namespace/name`, as messages name a budget. */
export const budgetName = (pdb: V1PodDisruptionBudget) => `${pdb.metadata?.namespace ?? ""}/${pdb.metadata?.name ?? ""}`;

export const coversPod = (pdb: V1PodDisruptionBudget, pod: V1Pod) =>
  pod.metadata?.namespace === pdb.metadata?.namespace && selects(pdb.spec?.selector, pod.metadata?.labels);

export const isPodReady = (pod: V1Pod) =>
  pod.status?.phase === "Running" && (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

/** Pods the eviction API deletes without looking at any budget. */
export function ignoresBudgets(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Pending" || phase === "Succeeded" || phase === "Failed" || pod.metadata?.deletionTimestamp !== undefined;
}

/** An int-or-percent of `total`, rounded up as the disruption controller does. */
function scaled(value: number | string, total: number): number {
  if (typeof value === "number") return value;
  const percent = /^(\d+)%$/.exec(value);
  return percent ? Math.ceil((Number(percent[1]) / 100) * total) : Number(value);
}

export interface BudgetLimits {
  name: string;
  allowedNow: number;
  /** The most disruptions it can allow once all the pods it expects are healthy: 0 means never. */
  mostEver: number;
  /** The rule in the budget's own words: `maxUnavailable 0`, `minAvailable 3 of 3 expected pods`. */
  rule: string;
  healthy: { current: number; desired: number };
}

/**
 * The limits of `pdb`; `pods` are the cluster's pods, used to count the expected pods when the disruption
 * controller has not (no status yet).
 */
export function budgetLimits(pdb: V1PodDisruptionBudget, pods: readonly V1Pod[]): BudgetLimits {
  const selected = pods.filter((p) => coversPod(pdb, p));
  const expected = pdb.status?.expectedPods ?? selected.length;
  const spec = pdb.spec ?? {};
  let mostEver: number;
  let rule: string;
  if (spec.minAvailable !== undefined) {
    const min = scaled(spec.minAvailable, expected);
    mostEver = expected - min;
    rule = `minAvailable ${spec.minAvailable}${typeof spec.minAvailable === "string" ? ` (${min})` : ""} of ${expected} expected pods`;
  } else {
    const max = spec.maxUnavailable !== undefined ? scaled(spec.maxUnavailable, expected) : 0;
    mostEver = Math.min(max, expected);
    rule = `maxUnavailable ${spec.maxUnavailable ?? "unset"}${typeof spec.maxUnavailable === "string" ? ` (${max})` : ""} of ${expected} expected pods`;
  }
  // The API server refuses every eviction until the disruption controller has processed the budget.
  const processed = pdb.status !== undefined && (pdb.status.observedGeneration ?? 0) >= (pdb.metadata?.generation ?? 0);
  return {
    name: budgetName(pdb),
    allowedNow: processed ? Math.max(0, pdb.status?.disruptionsAllowed ?? 0) : 0,
    mostEver: Math.max(0, mostEver),
    rule,
    healthy: { current: pdb.status?.currentHealthy ?? selected.filter(isPodReady).length, desired: pdb.status?.desiredHealthy ?? expected - Math.max(0, mostEver) },
  };
}

export type Charge = "free" | "disruption" | "needs-healthy-budget";

/** What evicting `pod` asks of `pdb` (the pod is covered by it). */
export function chargeOf(pod: V1Pod, pdb: V1PodDisruptionBudget, limits: BudgetLimits): Charge {
  if (ignoresBudgets(pod)) return "free";
  if (isPodReady(pod)) return "disruption";
  if (pdb.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow") return "free";
  return limits.healthy.current >= limits.healthy.desired && limits.healthy.desired > 0 ? "free" : "needs-healthy-budget";
}
