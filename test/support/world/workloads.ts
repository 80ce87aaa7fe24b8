/**
 * The workloads a scenario runs on the real control plane while kubeherd rolls its nodes: Deployments and
 * StatefulSets of pause pods (KWOK runs them; they terminate after their grace period), PodDisruptionBudgets, and
 * waits for their ready counts. Written with @kubernetes/client-node, the scenario's own client: kubeherd's code
 * under test never creates them.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, PolicyV1Api, setHeaderOptions, type V1PodSpec } from "@kubernetes/client-node";

export const NAMESPACE = "shop";

export class Workloads {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly policy: PolicyV1Api;

  constructor(kubeconfig: string) {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.policy = kc.makeApiClient(PolicyV1Api);
  }

  async namespace(): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  }

  private podSpec(extra: Partial<V1PodSpec> = {}): V1PodSpec {
    return {
      terminationGracePeriodSeconds: 2,
      containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "50m", memory: "32Mi" } } }],
      // KWOK's nodes carry its taint; the control plane its own, which these pods do not tolerate.
      tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" }],
      ...extra,
    };
  }

  async deployment(name: string, replicas: number, extra: Partial<V1PodSpec> = {}): Promise<void> {
    const labels = { app: name };
    await this.apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: { metadata: { name, labels }, spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: this.podSpec(extra) } } },
    });
  }

  async statefulSet(name: string, replicas: number): Promise<void> {
    const labels = { app: name };
    await this.apps.createNamespacedStatefulSet({
      namespace: NAMESPACE,
      body: {
        metadata: { name, labels },
        spec: { replicas, serviceName: name, podManagementPolicy: "Parallel", selector: { matchLabels: labels }, template: { metadata: { labels }, spec: this.podSpec() } },
      },
    });
  }

  async pdb(name: string, app: string, budget: { maxUnavailable: number } | { minAvailable: number }): Promise<void> {
    await this.policy.createNamespacedPodDisruptionBudget({
      namespace: NAMESPACE,
      body: { metadata: { name }, spec: { ...budget, selector: { matchLabels: { app } } } },
    });
  }

  async relaxPdb(name: string, maxUnavailable: number): Promise<void> {
    await this.policy.patchNamespacedPodDisruptionBudget(
      { name, namespace: NAMESPACE, body: { spec: { minAvailable: null, maxUnavailable } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  /** Ready replicas of a Deployment or StatefulSet now. */
  async ready(kind: "deployment" | "statefulset", name: string): Promise<number> {
    const o = kind === "deployment"
      ? await this.apps.readNamespacedDeployment({ name, namespace: NAMESPACE })
      : await this.apps.readNamespacedStatefulSet({ name, namespace: NAMESPACE });
    return o.status?.readyReplicas ?? 0;
  }

  /** Waits (bounded) until the workload has `replicas` ready. */
  async waitReady(kind: "deployment" | "statefulset", name: string, replicas: number, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = await this.ready(kind, name);
      if (n >= replicas) return;
      if (Date.now() > deadline) throw new Error(`${kind} ${NAMESPACE}/${name}: ${n} of ${replicas} ready after ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Waits until a PDB's status has been computed by the disruption controller for its pods. */
  async waitPdb(name: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = await this.policy.readNamespacedPodDisruptionBudget({ name, namespace: NAMESPACE });
      if ((p.status?.expectedPods ?? 0) > 0 && p.status?.observedGeneration === p.metadata?.generation) return;
      if (Date.now() > deadline) throw new Error(`PDB ${NAMESPACE}/${name} has no status after ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
