/**
 * Which pods a drain evicts, skips or refuses, after kubectl's drain filters (k8s.io/kubectl/pkg/drain): each
 * filter looks at one pod and gives a verdict with a reason, so the refusal message can name every pod and why.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { Rollout } from "../config/schema";

export type DrainPolicy = Pick<Rollout, "deleteEmptyDirData" | "deleteUnmanagedPods">;

export type PodVerdict =
  | { action: "evict" }
  /** Already terminating: nothing to evict, but the drain waits until it is gone. */
  | { action: "wait" }
  | { action: "skip"; reason: string }
  | { action: "refuse"; reason: string };

export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

export const podName = (pod: V1Pod) => `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? "?"}`;

export const controllerOf = (pod: V1Pod) => (pod.metadata?.ownerReferences ?? []).find((o) => o.controller === true);

export function podVerdict(pod: V1Pod, policy: DrainPolicy): PodVerdict {
  // A static pod's mirror cannot be evicted; it goes and comes with the kubelet.
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) return { action: "skip", reason: "mirror pod" };
  const controller = controllerOf(pod);
  // The DaemonSet controller ignores unschedulable and would put an evicted pod straight back.
  if (controller?.kind === "DaemonSet") return { action: "skip", reason: "DaemonSet pod" };
  if (pod.metadata?.deletionTimestamp) return { action: "wait" };
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return { action: "evict" };
  const emptyDirs = (pod.spec?.volumes ?? []).filter((v) => v.emptyDir !== undefined).map((v) => v.name);
  if (emptyDirs.length > 0 && !policy.deleteEmptyDirData) {
    return {
      action: "refuse",
      reason: `has emptyDir data (${emptyDirs.join(", ")}) that would be deleted; rollout.deleteEmptyDirData is false`,
    };
  }
  if (!controller && !policy.deleteUnmanagedPods) {
    return {
      action: "refuse",
      reason: "is managed by no controller and would not be recreated; set rollout.deleteUnmanagedPods to delete it",
    };
  }
  return { action: "evict" };
}

export interface DrainSelection {
  evict: V1Pod[];
  wait: V1Pod[];
  skipped: { pod: V1Pod; reason: string }[];
  refused: { pod: V1Pod; reason: string }[];
}

export function selectPods(pods: readonly V1Pod[], policy: DrainPolicy): DrainSelection {
  const out: DrainSelection = { evict: [], wait: [], skipped: [], refused: [] };
  for (const pod of pods) {
    const verdict = podVerdict(pod, policy);
    if (verdict.action === "evict") out.evict.push(pod);
    else if (verdict.action === "wait") out.wait.push(pod);
    else if (verdict.action === "skip") out.skipped.push({ pod, reason: verdict.reason });
    else out.refused.push({ pod, reason: verdict.reason });
  }
  return out;
}

export function refusalMessage(node: string, refused: DrainSelection["refused"]): string {
  const lines = refused.map(({ pod, reason }) => `  ${podName(pod)} ${reason}`);
  return `node ${node}: refusing to drain, ${refused.length} pod${refused.length === 1 ? "" : "s"} would be lost:\n${lines.join("\n")}`;
}
