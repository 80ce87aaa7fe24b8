/**
 * What the live preview's e2e tests do on the real control plane besides the preview itself: build a disruption
 * scenario of test/support/scenarios on KWOK nodes with the real controllers running, clear it away again so the next
 * scenario starts on an empty cluster, follow the pods while a drain runs, make kubeconfigs for other identities (a ServiceAccount's token, an API
 * nobody listens for), apply a manifest, and run a CLI as a child process.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PolicyV1Api, type KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments, stringify } from "yaml";
import { isPodReady } from "../../../components/disruption/budgets";
import type { KubeClient } from "../../../components/kube/client";
import { Deadline, systemClock } from "../../../components/kube/clock";
import { watchUntil } from "../../../components/kube/observe";
import { buildScenario } from "../scenarios/build";
import type { Scenario } from "../scenarios/disruption";
import { REPO_DIR } from "../fixtures/stackfiles";
import { eventually } from "../control-plane/eventually";
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from "../control-plane/kwok-stages";

/** Every scenario pod's grace period: a real drain then takes seconds (KWOK keeps a deleted pod this long). */
export const GRACE_SECONDS = 2;

export const kubeConfigOf = (text: string): KubeConfig => {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc;
};

const keyOf = (o: { metadata?: { name?: string; namespace?: string } }) => `${o.metadata?.namespace}/${o.metadata?.name}`;

const ignoreConflict = (e: unknown) => {
  if ((e as { code?: number }).code !== 409) throw e;
};

/** The scenario on KWOK nodes: placement the scenario's, the pods adopted by the real controllers. */
export async function buildOnKwok(kc: KubeConfig, s: Scenario): Promise<void> {
  await buildScenario(kc, s, {
    nodeAnnotations: { [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE },
    realControllers: true,
    terminationGracePeriodSeconds: GRACE_SECONDS,
    settleSeconds: 90,
  });
}

/**
 * Removes what `buildOnKwok` made (its workloads, PDBs, pods at once, Nodes) and waits until it is all gone, so the
 * next scenario can use the same names. Namespaces stay (the build tolerates them); other objects are not touched.
 */
export async function clearScenario(kc: KubeConfig, s: Scenario): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const gone = (e: unknown) => {
    if ((e as { code?: number }).code !== 404) throw e;
  };
  for (const w of s.workloads ?? []) {
    const ns = { namespace: w.namespace };
    if (w.kind === "Deployment") {
      await apps.deleteNamespacedDeployment({ ...ns, name: w.name }).catch(gone);
      await apps.deleteNamespacedReplicaSet({ ...ns, name: `${w.name}-rs` }).catch(gone);
    } else {
      await apps.deleteNamespacedStatefulSet({ ...ns, name: w.name }).catch(gone);
    }
  }
  for (const d of s.daemonSets ?? []) await apps.deleteNamespacedDaemonSet({ namespace: d.namespace, name: d.name }).catch(gone);
  for (const p of s.pdbs ?? []) await policy.deleteNamespacedPodDisruptionBudget({ namespace: p.namespace, name: p.name }).catch(gone);
  const owners = [...(s.workloads ?? []), ...(s.daemonSets ?? [])];
  const namespaces = [...new Set([...owners, ...(s.bare ?? [])].map((o) => o.namespace))];
  const mine = (ns: string) => `app in (${owners.filter((a) => a.namespace === ns).map((a) => a.name).join(",")})`;
  await eventually(`the pods of scenario "${s.name}" gone`, 60, async () => {
    let left = 0;
    for (const ns of namespaces) {
      const labelled = owners.some((a) => a.namespace === ns) ? (await core.listNamespacedPod({ namespace: ns, labelSelector: mine(ns) })).items : [];
      const bare = (s.bare ?? []).filter((b) => b.namespace === ns).map((b) => b.name);
      const named = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => bare.includes(p.metadata?.name ?? ""));
      for (const p of [...labelled, ...named]) {
        left++;
        await core.deleteNamespacedPod({ namespace: ns, name: p.metadata!.name!, gracePeriodSeconds: 0 }).catch(gone);
      }
    }
    return left === 0;
  }, 250);
  for (const n of s.nodes) await core.deleteNode({ name: n.name }).catch(gone);
  await eventually(`the nodes of scenario "${s.name}" gone`, 30, async () => {
    const names = new Set((await core.listNode()).items.map((n) => n.metadata?.name));
    return s.nodes.every((n) => !names.has(n.name));
  });
}

/** A kubeconfig for `user` (its credentials as a kubeconfig's `user:` says them) against the control plane. */
export function kubeconfigFor(server: string, caCertPem: string, user: Record<string, string>): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "e2e", cluster: { server, "certificate-authority-data": Buffer.from(caCertPem).toString("base64") } }],
    users: [{ name: "e2e-user", user }],
    contexts: [{ name: "e2e", context: { cluster: "e2e", user: "e2e-user" } }],
    "current-context": "e2e",
  });
}

/** A token of the ServiceAccount (made when missing), from the TokenRequest API, valid for an hour. */
export async function serviceAccountToken(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch(ignoreConflict);
  const request = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return request.status!.token;
}

/** `kubectl create -f FILE` (objects that exist already are left as they are). */
export async function createFromManifest(kc: KubeConfig, file: string): Promise<string[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const made: string[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    const object = doc.toJSON() as KubernetesObject | null;
    if (!object) continue;
    await api.create(object).catch(ignoreConflict);
    made.push(`${object.kind}/${object.metadata?.name}`);
  }
  return made;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr's lines, without the config's warnings (a stack's own business, not the cluster's). */
  errors: string[];
}

/** Runs `cli/<script>` of this repository with tsx, as `npm run` does, in `cwd`. */
export function runCli(script: string, args: string[], cwd: string, timeoutMs = 90_000, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_DIR, "node_modules/.bin/tsx"), [join(REPO_DIR, "cli", script), ...args], {
      cwd,
      env: { ...process.env, KUBECONFIG: "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} ${args.join(" ")}: still running after ${timeoutMs / 1000} s; stderr so far:\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const errors = stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("warning:"));
      resolve({ code, stdout, stderr, errors });
    });
  });
}

export interface PodRecord {
  /** In the API's order: `evicted ns/name` when a pod begins terminating, `ready ns/name` when a pod that was not
   *  there at the start turns Ready (a controller's replacement). */
  events: string[];
  /** The fewest Ready, not terminating pods seen at once, by `namespace/app=LABEL`. */
  fewestReady: Map<string, number>;
}

/** Follows every pod through a watch (watchUntil: list, then watch) while `during` runs. */
export async function followPods<T>(client: KubeClient, during: () => Promise<T>): Promise<{ result: T; record: PodRecord }> {
  const record: PodRecord = { events: [], fewestReady: new Map() };
  const original = new Set<string>();
  const seen = new Set<string>();
  const note = (event: string) => {
    if (seen.has(event)) return;
    seen.add(event);
    record.events.push(event);
  };
  const stop = new AbortController();
  let listed: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (listed = resolve));
  const watching = watchUntil(client, systemClock, { kind: "pods" }, (objects) => {
    const pods = [...objects.values()];
    if (original.size === 0) for (const p of pods) original.add(keyOf(p));
    const ready = new Map<string, number>();
    for (const p of pods) {
      const key = keyOf(p);
      const live = isPodReady(p) && !p.metadata?.deletionTimestamp;
      if (p.metadata?.deletionTimestamp) note(`evicted ${key}`);
      if (live && !original.has(key)) note(`ready ${key}`);
      const app = `${p.metadata?.namespace}/app=${p.metadata?.labels?.app}`;
      ready.set(app, (ready.get(app) ?? 0) + (live ? 1 : 0));
    }
    for (const [app, n] of ready) record.fewestReady.set(app, Math.min(n, record.fewestReady.get(app) ?? n));
    listed();
    return undefined;
  }, new Deadline(systemClock, 600), { signal: stop.signal });
  await first;
  try {
    return { result: await during(), record };
  } finally {
    stop.abort();
    await watching;
  }
}
