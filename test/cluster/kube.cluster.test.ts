/**
 * The node operations against a real cluster: KUBECONFIG names a disposable kubeadm cluster with at least two
 * schedulable workers whose pods are all managed by controllers. The suite creates a namespace with a Deployment
 * and a PDB, cordons and drains the worker that runs one of its pods, waits for it to be Ready, uncordons it and
 * checks the workload gate; it uncordons the node and deletes the namespace afterwards, whatever happened.
 */
import { readFileSync } from "node:fs";
import { AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientFromKubeconfig } from "../../components/kube/api-client";
import { systemClock } from "../../components/kube/clock";
import { drainNode } from "../../components/kube/drain";
import { CORDONED_BY, reportOf, uncordon } from "../../components/kube/nodes";
import { waitReady } from "../../components/kube/ready";
import { waitForWorkloads, type DrainRecord } from "../../components/kube/workloads";

const path = process.env.KUBECONFIG?.split(":")[0];
if (!path) {
  throw new Error(
    "npm run test:cluster needs KUBECONFIG set to the kubeconfig of a disposable cluster with two or more schedulable workers, e.g. KUBECONFIG=$HOME/.kube/test-cluster npm run test:cluster",
  );
}
const text = readFileSync(path, "utf8");
const kc = new KubeConfig();
kc.loadFromString(text);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const policy = kc.makeApiClient(PolicyV1Api);
const client = clientFromKubeconfig(text);
const log = (line: string) => process.stderr.write(`${line}\n`);

const namespace = `kubeherd-test-${Date.now().toString(36)}`;
const labels = { app: "kubeherd-web" };
const deployment: DrainRecord = { node: "", workloads: [{ kind: "deployments", namespace, name: "web" }], budgets: [] };
let worker: string | undefined;

describe("node operations on a real cluster", () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "web", labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "pause", image: "registry.k8s.io/pause:3.9" }], terminationGracePeriodSeconds: 5 },
          },
        },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: "web-pdb" }, spec: { minAvailable: 1, selector: { matchLabels: labels } } },
    });
    await waitForWorkloads(client, systemClock, deployment, { timeoutSeconds: 300, log });
  });

  afterAll(async () => {
    if (worker) await uncordon(client, worker).catch(() => false);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it("drains the worker that runs a pod of the Deployment, through its PDB, leaving it cordoned by kubeherd", async () => {
    const pods = (await client.list("pods", { namespace })).items;
    worker = pods.map((p) => p.spec?.nodeName).find((n): n is string => Boolean(n));
    expect(worker, "no pod of the test Deployment was scheduled").toBeDefined();
    const record = await drainNode(client, systemClock, worker!, {
      policy: { deleteEmptyDirData: true, deleteUnmanagedPods: false },
      timeoutSeconds: 300,
      log,
    });
    expect(record.workloads).toContainEqual({ kind: "deployments", namespace, name: "web" });
    expect(record.budgets.map((b) => b.name)).toEqual(["web-pdb"]);
    const node = await client.get("nodes", worker!);
    expect(node?.spec?.unschedulable).toBe(true);
    expect(node?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
    const left = (await client.list("pods", { namespace })).items.filter((p) => p.spec?.nodeName === worker && !p.metadata?.deletionTimestamp);
    expect(left).toEqual([]);
  });

  it("sees the drained worker Ready with its kubelet, uncordons it, and passes the workload gate", async () => {
    const node = await client.get("nodes", worker!);
    const kubelet = reportOf(node!).kubeletVersion!;
    await waitReady(client, systemClock, { nodeName: worker! }, { kubeletVersion: kubelet, timeoutSeconds: 60, log });
    expect(await uncordon(client, worker!)).toBe(true);
    expect((await client.get("nodes", worker!))?.spec?.unschedulable).toBeFalsy();
    await waitForWorkloads(client, systemClock, { ...deployment, node: worker! }, { timeoutSeconds: 300, log });
  });
});
