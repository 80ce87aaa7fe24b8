import { describe, expect, it } from "vitest";
import { drainNode } from "../../components/kube/drain";
import { CORDONED_BY } from "../../components/kube/nodes";
import { clock, defaultPolicy, startApi, type Harness } from "../support/kube-api/harness";

const NODE = "ip-10-0-1-7";
const OTHER = "ip-10-0-1-8";

async function twoNodes(timing = {}): Promise<Harness> {
  const h = await startApi(timing);
  h.api.cluster.addNode(NODE);
  h.api.cluster.addNode(OTHER);
  return h;
}

const drain = (h: Harness, opts: Partial<Parameters<typeof drainNode>[3]> = {}) =>
  drainNode(h.client, clock, NODE, { policy: defaultPolicy, timeoutSeconds: 10, log: h.log, progressIntervalMs: 0, ...opts });

describe("drainNode", () => {
  it("cordons the node, marks it as kubeherd's, and evicts every pod until they are gone", async () => {
    const h = await twoNodes();
    h.api.cluster.addDeployment("web", "web", [NODE, NODE, OTHER]);
    const record = await drain(h);
    const node = h.api.cluster.get("nodes", NODE);
    expect(node?.spec?.unschedulable).toBe(true);
    expect(node?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
    expect(h.api.cluster.podsOn(NODE)).toEqual([]);
    expect(record.workloads).toEqual([{ kind: "deployments", namespace: "web", name: "web" }]);
    expect(h.lines.at(-1)).toMatch(/^node ip-10-0-1-7: drained 2 pods in \d+\.\ds$/);
  });

  it("evicts all pods at once rather than one by one: every pod is terminating at the same time", async () => {
    // No pod finishes terminating on its own: only once all 30 are terminating together do their grace periods end.
    // A drain that waited for each pod before evicting the next would never get there (and time out), however
    // slow or loaded the machine.
    const h = await twoNodes({ terminationMs: 600_000 });
    h.api.cluster.addDeployment("web", "web", Array<string>(30).fill(NODE));
    let mostTerminating = 0;
    h.api.cluster.subscribe(() => {
      const terminating = h.api.cluster.podsOn(NODE).filter((p) => p.metadata?.deletionTimestamp);
      if (terminating.length > mostTerminating && terminating.length === 30) {
        setImmediate(() => {
          for (const p of terminating) h.api.cluster.remove("pods", p.metadata!.name!, p.metadata!.namespace);
        });
      }
      mostTerminating = Math.max(mostTerminating, terminating.length);
    });
    await drain(h, { timeoutSeconds: 60 });
    expect(mostTerminating).toBe(30);
  });

  it("sends the cordon as a JSON merge patch and waits through a watch, not by polling", async () => {
    const h = await twoNodes();
    h.api.cluster.addDeployment("web", "web", [NODE]);
    await drain(h);
    expect(h.api.requests.filter((r) => r.method === "PATCH").map((r) => r.contentType)).toEqual(["application/merge-patch+json"]);
    const podReads = h.api.requests.filter((r) => r.method === "GET" && r.path === "/api/v1/pods");
    expect(podReads.filter((r) => r.query.watch === "true")).toHaveLength(1);
    expect(podReads.every((r) => r.query.fieldSelector === `spec.nodeName=${NODE}`)).toBe(true);
  });

  it("retries a 429 until the PDB allows the eviction", async () => {
    const h = await twoNodes({ startMs: 300 });
    const { labels } = h.api.cluster.addDeployment("web", "web", [NODE, NODE]);
    h.api.cluster.addPdb("web", "web-pdb", { matchLabels: labels }, { minAvailable: 1 });
    const record = await drain(h);
    expect(h.api.cluster.podsOn(NODE)).toEqual([]);
    expect(h.api.cluster.evictions.some((e) => e.code === 429)).toBe(true);
    expect(h.lines).toContain("node ip-10-0-1-7: evicted 1/2 pods, waiting on PDB web/web-pdb");
    expect(record.budgets).toEqual([{ namespace: "web", name: "web-pdb", disruptionsAllowed: 1 }]);
  });

  it("fails at its deadline when a PDB never allows the eviction, naming the pod and the PDB, and leaves the node cordoned and running", async () => {
    const h = await twoNodes();
    const { labels } = h.api.cluster.addDeployment("web", "web", [NODE, OTHER]);
    h.api.cluster.addPdb("web", "web-pdb", { matchLabels: labels }, { maxUnavailable: 0 });
    const error = await drain(h, { timeoutSeconds: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain("drain timed out after 1s; the node stays cordoned and running");
    expect(message).toContain("blocked by PDB web/web-pdb");
    expect(message).toMatch(/web\/web-5d9c8b7f6-0 \(eviction refused: Cannot evict pod as it would violate the pod's disruption budget\.\)/);
    expect(h.api.cluster.get("nodes", NODE)?.spec?.unschedulable).toBe(true);
    expect(h.api.cluster.podsOn(NODE).map((p) => p.status?.phase)).toEqual(["Running"]);
  });

  it("stops at a 500 with the API's message and leaves the node cordoned", async () => {
    const h = await twoNodes();
    h.api.cluster.addDeployment("web", "web", [NODE, NODE]);
    h.api.fail("POST", /web-5d9c8b7f6-1\/eviction$/, 500, "etcdserver: request timed out");
    await expect(drain(h)).rejects.toThrow("eviction of web/web-5d9c8b7f6-1 failed: etcdserver: request timed out (HTTP 500)");
    expect(h.api.cluster.get("nodes", NODE)?.spec?.unschedulable).toBe(true);
  });

  it("stops when a pod is covered by two PDBs, which the Eviction API refuses with a 500", async () => {
    const h = await twoNodes();
    const { labels } = h.api.cluster.addDeployment("web", "web", [NODE]);
    h.api.cluster.addPdb("web", "web-a", { matchLabels: labels }, { maxUnavailable: 1 });
    h.api.cluster.addPdb("web", "web-b", { matchLabels: labels }, { maxUnavailable: 1 });
    await expect(drain(h)).rejects.toThrow(/more than one PodDisruptionBudget.*\(HTTP 500\)/);
  });

  it("takes a 404 for a pod that is already gone as done", async () => {
    const h = await twoNodes();
    h.api.cluster.addDeployment("web", "web", [NODE, NODE]);
    const gone = h.api.cluster.podsOn(NODE)[0].metadata!.name!;
    // The pod vanishes between the drain's list and its eviction.
    h.api.beforeRequest = (r) => {
      if (r.method === "POST" && r.path.endsWith(`/${gone}/eviction`)) h.api.cluster.remove("pods", gone, "web");
    };
    await drain(h);
    expect(h.api.cluster.evictions).toContainEqual({ pod: `web/${gone}`, code: 404 });
    expect(h.api.cluster.podsOn(NODE)).toEqual([]);
  });

  it("leaves DaemonSet and mirror pods alone, and counts the DaemonSet for the workload gate", async () => {
    const h = await twoNodes();
    h.api.cluster.addDaemonSet("kube-system", "kube-proxy");
    h.api.cluster.addPod({ name: `kube-apiserver-${NODE}`, namespace: "kube-system", node: NODE, annotations: { "kubernetes.io/config.mirror": "abc" } });
    h.api.cluster.addDeployment("web", "web", [NODE]);
    const record = await drain(h);
    expect(h.api.cluster.podsOn(NODE).map((p) => p.metadata?.name).sort()).toEqual([`kube-apiserver-${NODE}`, `kube-proxy-${NODE}`]);
    expect(h.api.cluster.evictions.map((e) => e.pod)).toEqual(["web/web-5d9c8b7f6-0"]);
    expect(record.workloads).toContainEqual({ kind: "daemonsets", namespace: "kube-system", name: "kube-proxy" });
    expect(h.lines[0]).toBe("node ip-10-0-1-7: cordoned; evicting 1 pods (leaving 2 DaemonSet/mirror pods)");
  });

  it("refuses pods no controller manages, naming them, and puts the node back as it was", async () => {
    const h = await twoNodes();
    h.api.cluster.addPod({ name: "debug", node: NODE });
    h.api.cluster.addDeployment("web", "web", [NODE]);
    await expect(drain(h)).rejects.toThrow(/refusing to drain, 1 pod would be lost:\n {2}default\/debug is managed by no controller/);
    expect(h.api.cluster.get("nodes", NODE)?.spec?.unschedulable).toBeFalsy();
    expect(h.api.cluster.evictions).toEqual([]);
  });

  it.each([
    { what: "an unmanaged pod when deleteUnmanagedPods is set", pod: { name: "debug" }, policy: { deleteUnmanagedPods: true } },
    { what: "a finished unmanaged pod", pod: { name: "job-done", phase: "Succeeded" }, policy: {} },
    { what: "a failed unmanaged pod", pod: { name: "job-failed", phase: "Failed" }, policy: {} },
    { what: "a pod with emptyDir data by default", pod: { name: "cache", emptyDir: true, owner: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "cache", uid: "u", controller: true } }, policy: {} },
  ])("evicts $what", async ({ pod, policy }) => {
    const h = await twoNodes();
    h.api.cluster.addPod({ node: NODE, ...pod });
    await drain(h, { policy: { ...defaultPolicy, ...policy } });
    expect(h.api.cluster.evictions).toEqual([{ pod: `default/${pod.name}`, code: 201 }]);
  });

  it("refuses a pod with emptyDir data when deleteEmptyDirData is off", async () => {
    const h = await twoNodes();
    h.api.cluster.addPod({ name: "cache", node: NODE, emptyDir: true, owner: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "cache", uid: "u", controller: true } });
    await expect(drain(h, { policy: { deleteEmptyDirData: false, deleteUnmanagedPods: false } })).rejects.toThrow(
      "default/cache has emptyDir data (scratch) that would be deleted; rollout.deleteEmptyDirData is false",
    );
  });

  it("drains a node somebody else cordoned without claiming the cordon", async () => {
    const h = await startApi();
    h.api.cluster.addNode(NODE, { unschedulable: true });
    h.api.cluster.addNode(OTHER);
    h.api.cluster.addDeployment("web", "web", [NODE]);
    await drain(h);
    expect(h.api.cluster.get("nodes", NODE)?.metadata?.annotations?.[CORDONED_BY]).toBeUndefined();
    expect(h.lines[0]).toContain("was already cordoned by someone else");
  });

  it("fails naming the node when it does not exist", async () => {
    const h = await startApi();
    await expect(drain(h)).rejects.toThrow("node ip-10-0-1-7: no such node, cannot drain it");
  });
});
