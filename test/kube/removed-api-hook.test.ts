/**
 * The drain hook of the node that runs `kubeadm upgrade apply` refuses as `plan --live` would block: GIVEN its
 * context carries a control-plane transition that crosses an API removal and the cluster still holds an object
 * written through a removed version, WHEN the hook runs, THEN it refuses in one line naming the objects and the
 * config key, before anything is cordoned, and records it on the Node; accepted, or a transition that crosses
 * nothing, it drains as before. Other nodes never run the pre-flight.
 */
import { describe, expect, it } from "vitest";
import { rolloutSchema } from "../../components/config/schema";
import { drainBeforeChange, readyAfterChange, snapshotLines, type HookArgs, type HookEnv, type NodeHookContext } from "../../components/kube/hook-actions";
import { CORDONED_BY } from "../../components/kube/nodes";
import { ROLLOUT_ACCESS } from "../../components/kube/access";
import type { FakeApiServer } from "../support/kube-api/fake-api-server";
import { clock, startApi, type Harness } from "../support/kube-api/harness";

const rollout = (acceptRemovedApis: boolean | string[] = false) =>
  rolloutSchema.parse({ drainTimeoutSeconds: 10, readyTimeoutSeconds: 10, workloadTimeoutSeconds: 10, acceptRemovedApis });

const cp1 = (patch: Partial<NodeHookContext> = {}): NodeHookContext => ({
  pool: "control-plane",
  node: "cp-1",
  mode: "pets",
  kubeNodeName: "cp-1",
  kubeletVersion: "1.26.15",
  runtime: { name: "containerd", version: "1.7.19" },
  rollout: rollout(),
  batch: 0,
  controlPlaneTransition: { from: "1.25", to: "1.26" },
  ...patch,
});
const run: HookArgs = { name: "control-plane-cp-1", type: "command:remote:Command", newInputs: {}, oldInputs: {} };

const envFor = (h: Harness, ctx: NodeHookContext): HookEnv => ({ contexts: new Map([[run.name, ctx]]), records: new Map(), client: async () => h.client, clock, log: h.log });

const mf = (manager: string, apiVersion: string) => [{ manager, apiVersion, operation: "Update" }];

/** A 1.25 API server with HPAs (autoscaling/v2 preferred, v2beta2 still served) and FlowSchemas at v1beta2 and v1beta1. */
function serve125(api: FakeApiServer, hpas: number) {
  api.serve(
    "autoscaling/v2",
    { name: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler" },
    Array.from({ length: hpas }, (_, i) => ({ metadata: { name: `hpa-${i}`, namespace: "shop", uid: `h${i}`, managedFields: mf("helm", "autoscaling/v2beta2") } })),
  );
  api.serve("autoscaling/v2beta2", { name: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler" });
  api.serve("flowcontrol.apiserver.k8s.io/v1beta2", { name: "flowschemas", kind: "FlowSchema", namespaced: false }, [{ metadata: { name: "probes", uid: "f1", managedFields: mf("api-priority-and-fairness-config-producer-v1", "flowcontrol.apiserver.k8s.io/v1beta2") } }]);
  api.serve("flowcontrol.apiserver.k8s.io/v1beta1", { name: "flowschemas", kind: "FlowSchema", namespaced: false });
}

async function cluster(hpas: number): Promise<Harness> {
  const h = await startApi();
  h.api.cluster.addNode("cp-1");
  h.api.cluster.addNode("cp-2");
  h.api.cluster.addDeployment("web", "web", ["cp-1"]);
  serve125(h.api, hpas);
  return h;
}

describe("the first control-plane node's drain, before kubeadm upgrade apply 1.25 → 1.26", () => {
  it("refuses in one line naming the first few objects, how many, and the config key; nothing is cordoned; the Node shows why", async () => {
    const h = await cluster(5);
    const refusal = drainBeforeChange(run, envFor(h, cp1()));
    await expect(refusal).rejects.toThrow(
      "control-plane-cp-1: not taken out for kubeadm upgrade apply 1.25 → 1.26: the cluster still uses API versions it removes: HorizontalPodAutoscaler shop/hpa-0 (autoscaling/v2beta2, removed in 1.26), HorizontalPodAutoscaler shop/hpa-1 (autoscaling/v2beta2, removed in 1.26), HorizontalPodAutoscaler shop/hpa-2 (autoscaling/v2beta2, removed in 1.26) and 2 more (5 in all; npm run plan -- --live lists them); migrate them, or set rollout.acceptRemovedApis on the control-plane pool (true, or the group/versions) and run pulumi up again",
    );
    const message = await refusal.then(() => "", (e: Error) => e.message);
    expect(message.split("\n")).toHaveLength(1);
    expect(h.api.cluster.get("nodes", "cp-1")?.spec?.unschedulable).toBeUndefined();
    expect(h.api.cluster.evictions).toEqual([]);
    expect(h.api.events.map((e) => `${e.type} ${e.reason} ${e.involvedObject?.name}`)).toEqual(["Warning KubeherdRefused cp-1"]);
    // FlowSchemas written through v1beta2 are 1.29's removal, not this bump's.
    expect(message).not.toContain("FlowSchema");
  });

  it("names a client that requested the removed version, from the API server's metric", async () => {
    const h = await cluster(0);
    h.api.metrics += 'apiserver_requested_deprecated_apis{group="autoscaling",removed_release="1.26",resource="horizontalpodautoscalers",subresource="",version="v2beta2"} 1\n';
    await expect(drainBeforeChange(run, envFor(h, cp1()))).rejects.toThrow("the cluster still uses API versions it removes: clients requested autoscaling/v2beta2 horizontalpodautoscalers (removed in 1.26) (1 in all;");
  });

  it.each([
    ["rollout.acceptRemovedApis: true", true],
    ["rollout.acceptRemovedApis: [autoscaling/v2beta2]", ["autoscaling/v2beta2"]],
  ])("drains when %s, logging what it accepted", async (_, accept) => {
    const h = await cluster(2);
    await drainBeforeChange(run, envFor(h, cp1({ rollout: rollout(accept) })));
    expect(h.api.cluster.get("nodes", "cp-1")?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
    expect(h.lines).toContain("control-plane-cp-1: removed-API pre-flight 1.25 → 1.26: 2 use(s) of API versions 1.25 → 1.26 removes, accepted by rollout.acceptRemovedApis.");
  });

  it("refuses when the list accepts another group/version only", async () => {
    const h = await cluster(1);
    await expect(drainBeforeChange(run, envFor(h, cp1({ rollout: rollout(["batch/v1beta1"]) })))).rejects.toThrow(/HorizontalPodAutoscaler shop\/hpa-0/);
  });

  it("drains as before, reading nothing of it, for a transition that crosses no removal or a node without one", async () => {
    for (const ctx of [cp1({ controlPlaneTransition: { from: "1.27", to: "1.28" } }), cp1({ controlPlaneTransition: undefined })]) {
      const h = await cluster(3);
      await drainBeforeChange(run, envFor(h, ctx));
      expect(h.api.cluster.get("nodes", "cp-1")?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
      expect(h.api.requests.filter((r) => r.path.startsWith("/apis/autoscaling") || r.path === "/metrics")).toEqual([]);
    }
  });

  it("says so and judges objects alone when it may not read /metrics", async () => {
    const h = await cluster(0);
    h.api.metricsForbidden = true;
    await drainBeforeChange(run, envFor(h, cp1()));
    expect(h.lines.some((l) => l.startsWith("control-plane-cp-1: the kubeconfig may not read /metrics (forbidden"))).toBe(true);
  });

  it("lists only what rbac/kubeherd-rollout.yaml grants it (ROLLOUT_ACCESS, removed-api-preflight)", async () => {
    const h = await cluster(1);
    await drainBeforeChange(run, envFor(h, cp1({ rollout: rollout(true) })));
    const lists = h.api.requests.filter((r) => r.method === "GET" && /^\/apis\/[^/]+\/[^/]+\/[a-z]+$/.test(r.path) && r.query.watch !== "true");
    for (const r of lists) {
      const [, , group, , resource] = r.path.split("/");
      expect(ROLLOUT_ACCESS.some((a) => a.verb === "list" && a.group === group && a.resource === resource), r.path).toBe(true);
    }
    expect(lists.map((r) => r.path)).toContain("/apis/autoscaling/v2/horizontalpodautoscalers");
  });
});

describe("where the etcd snapshot is, in the up's output", () => {
  const saved = 'kubeherd[cp-1]: etcd snapshot saved: /var/lib/kubeherd/etcd-snapshots/kubeherd-etcd-20261204T090000Z-v1.25.16-to-v1.26.15.db (2097184 bytes); README "The way back" says how to restore it';

  it("the ready hook repeats the script's snapshot line (the command's output is secret and not logged), and nothing else of it", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.26.15", runtime: "containerd://1.7.19" });
    const stdout = ["kubeherd[cp-1]: control plane healthy before the upgrade: 3 control-plane node(s) Ready on v1.25.16, etcd healthy", saved, "kubeherd[cp-1]: token=abc"].join("\n");
    await readyAfterChange({ ...run, newOutputs: { stdout } }, envFor(h, cp1()));
    expect(h.lines.filter((l) => l.includes("etcd snapshot"))).toEqual([saved]);
    expect(h.lines.some((l) => l.includes("token=abc"))).toBe(false);
  });

  it("takes only lines of that exact shape", () => {
    expect(snapshotLines(undefined)).toEqual([]);
    expect(snapshotLines(`${saved}\n${saved.replace("/var/lib", "/var/$(x)")}\nkubeherd[cp-1]: etcd snapshot saved: somewhere`)).toEqual([saved]);
  });
});
