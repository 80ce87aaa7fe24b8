/**
 * What the fake cluster's kubelets and controllers report: node conditions and info, pod readiness, and the
 * disruption controller's arithmetic (expected pods, desired and current healthy, disruptions allowed).
 */
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { selects } from "../../../components/disruption/selectors";

export function isReady(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase === "Running" && (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

function scaled(value: number | string, total: number): number {
  return typeof value === "number" ? value : Math.ceil((Number.parseInt(value, 10) / 100) * total);
}

export function budgetStatus(pdb: V1PodDisruptionBudget, pods: V1Pod[], expectedOf: (pods: V1Pod[]) => number) {
  const selected = pods.filter((p) => p.metadata?.namespace === pdb.metadata?.namespace && selects(pdb.spec?.selector, p.metadata?.labels));
  const expected = expectedOf(selected);
  const currentHealthy = selected.filter(isReady).length;
  const spec = pdb.spec ?? {};
  const desiredHealthy =
    spec.minAvailable !== undefined ? scaled(spec.minAvailable, expected) : Math.max(0, expected - scaled(spec.maxUnavailable ?? 0, expected));
  return { currentHealthy, desiredHealthy, expectedPods: expected, disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy), observedGeneration: 1 };
}

export function nodeReady(ready: boolean, reason?: string) {
  return ready
    ? { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }
    : { type: "Ready", status: "False", reason: reason ?? "KubeletNotReady", message: "container runtime network not ready" };
}

export function nodeInfo(kubeletVersion: string, containerRuntimeVersion: string) {
  return {
    kubeletVersion,
    kubeProxyVersion: kubeletVersion,
    containerRuntimeVersion,
    architecture: "amd64",
    bootID: "b",
    kernelVersion: "6.8.0",
    machineID: "m",
    operatingSystem: "linux",
    osImage: "Ubuntu 22.04.4 LTS",
    systemUUID: "s",
  };
}
