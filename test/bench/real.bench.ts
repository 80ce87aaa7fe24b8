/**
 * `npm run bench`, on the real API: the same measurements as kube.bench.ts against the e2e tier's control plane
 * (kube-apiserver 1.34.2, controller-manager, scheduler, etcd on tmpfs, KWOK nodes; test/support/control-plane), with the
 * reference tool beside it. Prints exactly three lines, each the median of several runs:
 *   real-drain-110-pods:    drainNode on a node with 110 pods of a Deployment, each with a 2 s grace period
 *                           (target: under 4 s; the floor is the grace period)
 *   kubectl-drain-110-pods: `kubectl drain` (the kubectl built with the control plane) on the same setup
 *   real-ready-latency:     from sending a node's Ready=True status to wait-ready returning
 * Progress goes to stderr. The toolchain is built first when it is not cached (minutes; see README "Testing").
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { clientFromKubeconfig } from "../../components/kube/api-client";
import { systemClock } from "../../components/kube/clock";
import { drainNode } from "../../components/kube/drain";
import { waitReady } from "../../components/kube/ready";
import { startControlPlane, type ControlPlane } from "../support/control-plane/control-plane";
import { eventually } from "../support/control-plane/eventually";
import { KWOK_FROZEN_ANNOTATION } from "../support/control-plane/kwok-stages";
import { kwokNode, registerKwokNode } from "../support/control-plane/kwok-nodes";

const run = promisify(execFile);
const RUNS = 3;
const PODS = 110;
const DRAINED = "bench-a";
const SPARE = "bench-b";
const quiet = () => undefined;
const progress = (line: string) => process.stderr.write(`${line}\n`);
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

let cp: ControlPlane;
let core: CoreV1Api;
let apps: AppsV1Api;

async function setUnschedulable(name: string, unschedulable: boolean) {
  await core.patchNode({ name, body: { spec: { unschedulable } } }, mergePatch);
}

async function podsOn(node: string): Promise<number> {
  return (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.length;
}

/** 110 Ready pods of a Deployment on the drained node, the spare node schedulable for their replacements. */
async function fill(namespace: string): Promise<void> {
  await setUnschedulable(SPARE, true);
  await setUnschedulable(DRAINED, false);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // The namespace's ServiceAccount comes from a controller; pods are refused until it exists.
  await eventually("the namespace's default ServiceAccount", 30, async () => (await core.listNamespacedServiceAccount({ namespace })).items.length > 0);
  const labels = { app: "web" };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: "web" },
      spec: {
        replicas: PODS,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }] } },
      },
    },
  });
  await eventually(`${PODS} Ready pods on ${DRAINED}`, 120, async () => {
    const d = await apps.readNamespacedDeployment({ name: "web", namespace });
    return d.status?.readyReplicas === PODS;
  }, 250);
  await setUnschedulable(SPARE, false);
}

async function empty(namespace: string): Promise<void> {
  await core.deleteNamespace({ name: namespace });
  await eventually("every bench pod gone", 120, async () => (await podsOn(DRAINED)) + (await podsOn(SPARE)) === 0, 250);
}

async function timedDrain(namespace: string, drain: () => Promise<void>): Promise<number> {
  await fill(namespace);
  const start = performance.now();
  await drain();
  const seconds = (performance.now() - start) / 1000;
  if ((await podsOn(DRAINED)) !== 0) throw new Error(`bench: the drain returned with pods left on ${DRAINED}`);
  await empty(namespace);
  return seconds;
}

const projectDrain = () =>
  drainNode(clientFromKubeconfig(cp.kubeconfig), systemClock, DRAINED, {
    policy: { deleteEmptyDirData: true, deleteUnmanagedPods: false },
    timeoutSeconds: 120,
    log: quiet,
  }).then(() => undefined);

const kubectlDrain = async () => {
  await run(cp.tools.kubectl, ["--kubeconfig", cp.kubeconfigPath, "drain", DRAINED, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s"], {
    maxBuffer: 16 * 1024 * 1024,
  });
};

async function readyRun(i: number): Promise<number> {
  const name = `bench-ready-${i}`;
  // KWOK leaves a frozen node alone: it stays NotReady until this run says otherwise, at a known moment.
  const node = kwokNode({ name, kubeletVersion: "v1.34.2", annotations: { [KWOK_FROZEN_ANNOTATION]: "true" } });
  node.status!.conditions = [{ type: "Ready", status: "False", reason: "KubeletNotReady", message: "bench" }];
  await core.createNode({ body: node });
  const waiting = waitReady(clientFromKubeconfig(cp.kubeconfig), systemClock, { nodeName: name }, { kubeletVersion: "1.34.2", timeoutSeconds: 30, log: quiet });
  // Let wait-ready settle into its watch, as it would while a real node boots.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const now = new Date().toISOString();
  // From the moment the status update is sent: the watch event can reach wait-ready before the patch's response.
  const turnedReady = performance.now();
  await core.patchNodeStatus(
    { name, body: { status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "bench", lastHeartbeatTime: now, lastTransitionTime: now }] } } },
    setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
  );
  await waiting;
  const seconds = (performance.now() - turnedReady) / 1000;
  await core.deleteNode({ name });
  return seconds;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  cp = await startControlPlane({ log: progress });
  try {
    const kc = new KubeConfig();
    kc.loadFromString(cp.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    for (const name of [DRAINED, SPARE]) await registerKwokNode(core, { name, kubeletVersion: "v1.34.2", allocatablePods: PODS });

    const ours: number[] = [];
    const kubectl: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(await timedDrain(`bench-ours-${i}`, projectDrain));
      progress(`drainNode run ${i + 1}: ${ours[i].toFixed(2)} s`);
      kubectl.push(await timedDrain(`bench-kubectl-${i}`, kubectlDrain));
      progress(`kubectl drain run ${i + 1}: ${kubectl[i].toFixed(2)} s`);
    }
    const ready: number[] = [];
    for (let i = 0; i < 5; i++) ready.push(await readyRun(i));
    process.stdout.write(
      `real-drain-110-pods: ${median(ours).toFixed(2)} s\nkubectl-drain-110-pods: ${median(kubectl).toFixed(2)} s\nreal-ready-latency: ${median(ready).toFixed(3)} s\n`,
    );
  } finally {
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
