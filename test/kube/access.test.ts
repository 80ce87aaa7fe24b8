/**
 * Least privilege for `pulumi up`: rbac/kubeherd-rollout.yaml grants exactly ROLLOUT_ACCESS, the hooks use every
 * right of it that is theirs (the requests of a cattle replacement and a pets upgrade against the in-process API),
 * and an identity that lacks one is refused before the first cordon, naming the verb and the resource.
 */
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { rolloutSchema } from "../../components/config/schema";
import { ROLLOUT_ACCESS } from "../../components/kube/access";
import { drainBeforeChange, forgetAfterDelete, readyAfterChange, type HookArgs, type HookEnv, type NodeHookContext } from "../../components/kube/hook-actions";
import type { RecordedRequest } from "../support/kube-api/fake-api-server";
import { clock, startApi, type Harness } from "../support/kube-api/harness";

const INSTANCE = "aws:ec2/instance:Instance";
const COMMAND = "command:remote:Command";
const rollout = rolloutSchema.parse({ readyTimeoutSeconds: 10, workloadTimeoutSeconds: 10, drainTimeoutSeconds: 10 });
const runtime = { name: "containerd", version: "1.7.19" } as const;
const cattle: NodeHookContext = { pool: "workers", node: "workers-0", mode: "cattle", kubeletVersion: "1.30.2", runtime, rollout };
const pets: NodeHookContext = { pool: "storage", node: "storage-1", mode: "pets", kubeNodeName: "storage-1", kubeletVersion: "1.30.2", runtime, rollout, batch: 1 };
const oldInstance = { id: "i-0old", privateDns: "ip-10-0-1-7.eu-west-1.compute.internal", privateIp: "10.0.1.7" };
const newInstance = { id: "i-0new", privateDns: "ip-10-0-1-9.eu-west-1.compute.internal", privateIp: "10.0.1.9" };
const deleting: HookArgs = { name: "workers-0", type: INSTANCE, id: "i-0old", oldOutputs: oldInstance };
const created: HookArgs = { name: "workers-0", type: INSTANCE, id: "i-0new", newInputs: {}, newOutputs: newInstance };
const petsRun: HookArgs = { name: "storage-1", type: COMMAND, newInputs: {}, oldInputs: {} };

const envFor = (h: Harness): HookEnv => ({
  contexts: new Map([
    ["workers-0", { ...cattle, batch: 0 }],
    ["storage-1", pets],
  ]),
  identities: new Map([["workers-0", { instanceId: "i-0new", privateDns: newInstance.privateDns, privateIp: newInstance.privateIp }]]),
  records: new Map(),
  client: async () => h.client,
  clock,
  log: h.log,
});

const key = (a: { verb: string; group: string; resource: string; subresource?: string; namespace?: string }) =>
  `${a.verb} ${a.group || "core"}/${a.resource}${a.subresource ? `/${a.subresource}` : ""}${a.namespace ? ` in ${a.namespace}` : ""}`;

/** What RBAC verb on what resource one recorded request was. */
function accessOf(r: RecordedRequest): string | undefined {
  const m = /^\/(?:api\/v1|apis\/([a-z.]+)\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(r.path);
  if (!m) return undefined;
  const [, group = "", namespace, resource, name, subresource] = m;
  if (group === "authorization.k8s.io") return undefined; // SelfSubjectAccessReviews: every authenticated identity may
  const verb =
    r.method === "GET" ? (name ? "get" : r.query.watch === "true" ? "watch" : "list") : r.method === "POST" ? "create" : r.method === "PATCH" ? "patch" : "delete";
  // Events are created in `default` only; reads of workloads are scoped to the drained pods' namespaces, which RBAC grants cluster-wide.
  return key({ verb, group, resource, subresource, namespace: resource === "events" ? namespace : undefined });
}

/** The role file's rules as the same keys: ClusterRole rules cluster-wide, a Role's in its namespace. */
function granted(): string[] {
  const keys: string[] = [];
  for (const doc of parseAllDocuments(readFileSync("rbac/kubeherd-rollout.yaml", "utf8"))) {
    const o = doc.toJS() as { kind: string; metadata: { namespace?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    if (o.kind !== "ClusterRole" && o.kind !== "Role") continue;
    for (const rule of o.rules ?? []) {
      for (const group of rule.apiGroups) {
        for (const res of rule.resources) {
          const [resource, subresource] = res.split("/");
          for (const verb of rule.verbs) keys.push(key({ verb, group, resource, subresource, namespace: o.kind === "Role" ? o.metadata.namespace : undefined }));
        }
      }
    }
  }
  return keys.sort();
}

/** A cattle replacement and a pets upgrade, each drain under a PDB, with every kind of workload the gate waits on. */
async function rollThrough(h: Harness, env: HookEnv) {
  const c = h.api.cluster;
  c.addNode("ip-10-0-1-7", { providerID: "aws:///eu-west-1a/i-0old", internalIP: "10.0.1.7" });
  c.addNode("storage-1");
  c.addNode("ip-10-0-1-8", { providerID: "aws:///eu-west-1a/i-0other", internalIP: "10.0.1.8" });
  const web = c.addDeployment("web", "web", ["ip-10-0-1-7", "ip-10-0-1-8", "storage-1"]);
  c.addPdb("web", "web", { matchLabels: web.labels }, { maxUnavailable: 1 });
  c.addStatefulSet("data", "pg", ["storage-1"]);
  c.addDaemonSet("kube-system", "proxy");
  // A ReplicaSet no Deployment owns: the gate waits on the ReplicaSet itself.
  const labels = { app: "batch" };
  const rs = c.put("replicasets", {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "batch-rs", namespace: "jobs", labels },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels } } },
  });
  c.addPod({ name: "batch-rs-0", namespace: "jobs", node: "storage-1", labels, owner: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "batch-rs", uid: rs.metadata!.uid!, controller: true } });
  await drainBeforeChange(deleting, env);
  await forgetAfterDelete(deleting, env);
  setTimeout(() => c.addNode("ip-10-0-1-9", { providerID: "aws:///eu-west-1a/i-0new", internalIP: "10.0.1.9" }), 50);
  await readyAfterChange(created, env);
  await drainBeforeChange(petsRun, env);
  await readyAfterChange(petsRun, env);
}

describe("the rollout's rights (rbac/kubeherd-rollout.yaml)", () => {
  it("grants exactly what ROLLOUT_ACCESS lists", () => {
    expect(granted()).toEqual(ROLLOUT_ACCESS.map(key).sort());
  });

  it("are each used by the hooks (the provider's join token Secrets aside), and no other is", async () => {
    // Replacements start only once the gate has watched (and no list or watch came for half a second); then they
    // keep starting until the next drain evicts. So each gate lists and then watches every kind it waits on.
    const h = await startApi({ startMs: 3_600_000 });
    let starting: NodeJS.Timeout | undefined;
    let quiet: NodeJS.Timeout | undefined;
    let watchedSinceEviction = false;
    h.api.beforeRequest = (r) => {
      if (r.path.endsWith("/eviction")) {
        clearInterval(starting);
        watchedSinceEviction = false;
      }
      if (r.method !== "GET" || !/\/(deployments|statefulsets|daemonsets|replicasets|poddisruptionbudgets)$/.test(r.path)) return;
      if (r.query.watch === "true") watchedSinceEviction = true;
      clearTimeout(quiet);
      if (!watchedSinceEviction) return;
      quiet = setTimeout(() => {
        clearInterval(starting);
        starting = setInterval(() => h.api.cluster.startPendingPods(), 50);
      }, 500);
    };
    try {
      await rollThrough(h, envFor(h));
    } finally {
      clearInterval(starting);
      clearTimeout(quiet);
    }
    const used = [...new Set(h.api.requests.map(accessOf).filter((k): k is string => k !== undefined))].sort();
    expect(used).toEqual(ROLLOUT_ACCESS.filter((a) => a.by === "hooks").map(key).sort());
  });

  it("records what it did on each Node as events kubectl describe node shows", async () => {
    const h = await startApi();
    await rollThrough(h, envFor(h));
    const on = (node: string) => h.api.events.filter((e) => e.involvedObject?.name === node).map((e) => `${e.type} ${e.reason}: ${e.message}`);
    expect(h.api.events.every((e) => e.metadata?.namespace === "default" && e.involvedObject?.kind === "Node" && e.involvedObject.uid === e.involvedObject.name)).toBe(true);
    expect(on("ip-10-0-1-7")).toEqual(["Normal KubeherdDrained: cordoned and drained for kubelet v1.30.2 and containerd 1.7.19: evicted 1 pods"]);
    expect(on("ip-10-0-1-9")).toEqual(["Normal KubeherdJoined: joined from its launch template and Ready with kubelet v1.30.2 and containerd 1.7.19"]);
    expect(on("storage-1")).toEqual([
      expect.stringMatching(/^Normal KubeherdDrained: cordoned and drained for kubelet v1\.30\.2 and containerd 1\.7\.19: evicted [234] pods$/),
      "Normal KubeherdConverged: converged to its pins and Ready with kubelet v1.30.2 and containerd 1.7.19",
      "Normal KubeherdUncordoned: uncordoned after its change",
    ]);
  });
});

describe("an identity with less than the rollout needs", () => {
  it("is refused before the first cordon, one line per missing right naming the verb and the resource", async () => {
    const h = await startApi();
    h.api.cluster.addNode("storage-1");
    h.api.denied.add("create pods/eviction");
    h.api.denied.add("delete nodes");
    const env = envFor(h);
    await expect(drainBeforeChange(petsRun, env)).rejects.toThrow(
      [
        "the kubeconfig's identity lacks what the rollout needs, so no node was cordoned:",
        "  may not delete nodes (needed to forget the Node of a terminated cattle instance)",
        "  may not create pods/eviction (needed to evict pods through their PodDisruptionBudgets)",
        "Bind it to the ClusterRole and Role in rbac/kubeherd-rollout.yaml, then run pulumi up again.",
      ].join("\n"),
    );
    expect(h.api.cluster.get("nodes", "storage-1")?.spec?.unschedulable).toBeUndefined();
    expect(h.api.requests.filter((r) => r.method === "PATCH")).toEqual([]);
  });

  it("names a namespaced right with its namespace, and is asked once per program run", async () => {
    const h = await startApi();
    h.api.cluster.addNode("storage-1");
    h.api.denied.add("create secrets in kube-system");
    const env = envFor(h);
    await expect(drainBeforeChange(petsRun, env)).rejects.toThrow("may not create secrets in kube-system (needed to keep the join tokens");
    const reviews = h.api.requests.filter((r) => r.path.endsWith("/selfsubjectaccessreviews")).length;
    expect(reviews).toBe(ROLLOUT_ACCESS.length);
    await expect(drainBeforeChange(petsRun, env)).rejects.toThrow(/may not create secrets/);
    expect(h.api.requests.filter((r) => r.path.endsWith("/selfsubjectaccessreviews"))).toHaveLength(reviews);
  });
});
