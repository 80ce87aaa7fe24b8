/**
 * Makes a disruption scenario's objects through the Kubernetes API with @kubernetes/client-node, as a test would
 * on any cluster: namespaces, Nodes (with the status a kubelet registers: allocatable, Ready, versions), each
 * Deployment with a ReplicaSet it owns and that ReplicaSet's pods bound to their nodes (so placement is the
 * scenario's, not a scheduler's), StatefulSets with their pods, bare pods, DaemonSets and PDBs. Then it waits
 * until every pod it made is Ready and every PDB has a status from the disruption controller.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api, type V1Node, type V1OwnerReference, type V1Pod, type V1PodSpec } from "@kubernetes/client-node";
import { ApiClient } from "../../components/kube/apiClient";
import { Deadline, systemClock } from "../../components/kube/clock";
import { isPodReady } from "../../components/kube/budgets";
import { watchUntil } from "../../components/kube/observe";
import type { Scenario, ScenarioWorkload } from "./disruption";

export interface BuildOptions {
  /** Extra annotations on every Node, e.g. KWOK's `kwok.x-k8s.io/node: fake` on a real control plane. */
  nodeAnnotations?: Record<string, string>;
  /** The kubelet version the Nodes report. @default v1.30.1 (the scenarios' base) */
  kubeletVersion?: string;
  /** @default 30 */
  settleSeconds?: number;
}

const IMAGE = "registry.k8s.io/pause:3.9";

function podSpec(node: string, w: { requests?: ScenarioWorkload["requests"]; emptyDir?: boolean }): V1PodSpec {
  return {
    nodeName: node,
    containers: [{ name: "main", image: IMAGE, ...(w.requests ? { resources: { requests: w.requests } } : {}) }],
    ...(w.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
  };
}

const owner = (kind: string, name: string, uid: string | undefined): V1OwnerReference => ({ apiVersion: "apps/v1", kind, name, uid: uid ?? "", controller: true, blockOwnerDeletion: true });

/** The pods the scenario makes itself, as `namespace/name`. */
export function scenarioPods(s: Scenario): string[] {
  return [
    ...(s.workloads ?? []).flatMap((w) => w.on.map((_, i) => `${w.namespace}/${w.kind === "Deployment" ? `${w.name}-rs-${i}` : `${w.name}-${i}`}`)),
    ...(s.bare ?? []).map((b) => `${b.namespace}/${b.name}`),
  ];
}

export async function buildScenario(kc: KubeConfig, s: Scenario, opts: BuildOptions = {}): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const namespaces = new Set([...(s.workloads ?? []), ...(s.bare ?? []), ...(s.daemonSets ?? []), ...(s.pdbs ?? [])].map((o) => o.namespace));
  for (const name of namespaces) {
    await core.createNamespace({ body: { metadata: { name } } }).catch((e: unknown) => {
      if ((e as { code?: number }).code !== 409) throw e;
    });
  }
  for (const n of s.nodes) {
    const node: V1Node = {
      metadata: { name: n.name, labels: { "kubernetes.io/hostname": n.name, ...n.labels }, annotations: opts.nodeAnnotations },
      spec: { unschedulable: n.unschedulable },
      status: {
        allocatable: { cpu: n.cpu ?? "4", memory: n.memory ?? "16Gi", pods: String(n.pods ?? 110) },
        capacity: { cpu: n.cpu ?? "4", memory: n.memory ?? "16Gi", pods: String(n.pods ?? 110) },
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }],
        nodeInfo: {
          kubeletVersion: opts.kubeletVersion ?? "v1.30.1", kubeProxyVersion: "", containerRuntimeVersion: "containerd://1.7.19", osImage: "Ubuntu 22.04.4 LTS",
          architecture: "amd64", bootID: "", kernelVersion: "", machineID: "", operatingSystem: "linux", systemUUID: "",
        },
      },
    };
    await core.createNode({ body: node });
  }
  for (const w of s.workloads ?? []) {
    const labels = { app: w.name };
    const template = { metadata: { labels }, spec: { containers: [{ name: "main", image: IMAGE }] } };
    const replicas = w.on.length;
    let podOwner: V1OwnerReference;
    if (w.kind === "Deployment") {
      const dep = await apps.createNamespacedDeployment({ namespace: w.namespace, body: { metadata: { name: w.name, labels }, spec: { replicas, selector: { matchLabels: labels }, template } } });
      const rs = await apps.createNamespacedReplicaSet({
        namespace: w.namespace,
        body: { metadata: { name: `${w.name}-rs`, labels, ownerReferences: [owner("Deployment", w.name, dep.metadata?.uid)] }, spec: { replicas, selector: { matchLabels: labels }, template } },
      });
      podOwner = owner("ReplicaSet", `${w.name}-rs`, rs.metadata?.uid);
    } else {
      const sts = await apps.createNamespacedStatefulSet({ namespace: w.namespace, body: { metadata: { name: w.name, labels }, spec: { replicas, serviceName: w.name, selector: { matchLabels: labels }, template } } });
      podOwner = owner("StatefulSet", w.name, sts.metadata?.uid);
    }
    for (const [i, node] of w.on.entries()) {
      const name = w.kind === "Deployment" ? `${w.name}-rs-${i}` : `${w.name}-${i}`;
      await core.createNamespacedPod({ namespace: w.namespace, body: { metadata: { name, labels, ownerReferences: [podOwner] }, spec: podSpec(node, w) } });
    }
  }
  for (const b of s.bare ?? []) await core.createNamespacedPod({ namespace: b.namespace, body: { metadata: { name: b.name }, spec: podSpec(b.on, b) } });
  for (const d of s.daemonSets ?? []) {
    const labels = { app: d.name };
    await apps.createNamespacedDaemonSet({ namespace: d.namespace, body: { metadata: { name: d.name, labels }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "agent", image: IMAGE }] } } } } });
  }
  for (const p of s.pdbs ?? []) {
    const limit = p.minAvailable !== undefined ? { minAvailable: p.minAvailable } : { maxUnavailable: p.maxUnavailable };
    await policy.createNamespacedPodDisruptionBudget({ namespace: p.namespace, body: { metadata: { name: p.name }, spec: { selector: { matchLabels: { app: p.selects } }, ...limit } } });
  }
  await settle(kc, s, opts.settleSeconds ?? 30);
}

/** Waits until the scenario's pods are Ready and its PDBs counted them. */
async function settle(kc: KubeConfig, s: Scenario, seconds: number): Promise<void> {
  const client = new ApiClient(kc);
  const deadline = new Deadline(systemClock, seconds);
  const wanted = new Set(scenarioPods(s));
  const podsReady = await watchUntil(client, systemClock, { kind: "pods" }, (pods) => {
    const ready = [...pods.values()].filter((p: V1Pod) => wanted.has(`${p.metadata?.namespace}/${p.metadata?.name}`) && isPodReady(p));
    return ready.length === wanted.size ? true : undefined;
  }, deadline);
  if (!podsReady) throw new Error(`scenario "${s.name}": its pods were not Ready within ${seconds}s`);
  const pdbs = new Set((s.pdbs ?? []).map((p) => `${p.namespace}/${p.name}`));
  const counted = await watchUntil(client, systemClock, { kind: "poddisruptionbudgets" }, (all) => {
    const done = [...all.values()].filter((b) => pdbs.has(`${b.metadata?.namespace}/${b.metadata?.name}`) && (b.status?.currentHealthy ?? 0) >= 1 && b.status?.observedGeneration !== undefined);
    return done.length === pdbs.size ? true : undefined;
  }, deadline);
  if (!counted) throw new Error(`scenario "${s.name}": its PDBs had no status from the disruption controller within ${seconds}s`);
}
