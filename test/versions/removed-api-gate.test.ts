/**
 * The removed-API pre-flight's verdict, a pure function of the transition, what the cluster was found to use and
 * what the stack accepts: GIVEN a bump across each removal era of the deprecation guide and objects or client
 * requests through a removed version, THEN `blocked` naming each, unless accepted; versions the bump does not remove,
 * and bumps that cross no removal, never block.
 */
import { describe, expect, it } from "vitest";
import { configSchema } from "../../components/config/schema";
import { checkPools } from "../../components/config/pools";
import { currentConfig, currentInput, patched } from "../support/fixtures/config";
import {
  controlPlaneTransition,
  firstFew,
  kindsToScan,
  REMOVED_KIND_RESOURCES,
  removedApiAcceptance,
  removedApiRefusal,
  removedApiVerdict,
  scannedResources,
  type RemovedApiFindings,
} from "../../components/versions/removed-api-gate";
import { REMOVED_APIS, removalsCrossed, removedApiUses, type StoredObject } from "../../components/versions/removed-apis";

const written = (kind: string, name: string, apiVersion: string, namespace?: string): StoredObject => ({
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), managedFields: [{ manager: "helm", apiVersion }] },
});

const findings = (objects: StoredObject[], requests: RemovedApiFindings["requests"] = [], metrics: RemovedApiFindings["metrics"] = "read"): RemovedApiFindings => ({
  objects: removedApiUses(objects, REMOVED_APIS),
  requests,
  metrics,
});

/** One case per removal era: a bump across it, an object written through what it removes, and one it keeps. */
const ERAS = [
  { era: "1.16", from: "1.15.12", to: "1.16.15", blocks: written("Deployment", "web", "extensions/v1beta1", "shop"), keeps: written("Deployment", "api", "apps/v1", "shop"), named: "Deployment shop/web (extensions/v1beta1, removed in 1.16)" },
  { era: "1.16 (apps/v1beta2)", from: "1.15.12", to: "1.16.15", blocks: written("StatefulSet", "pg", "apps/v1beta2", "data"), keeps: written("StatefulSet", "redis", "apps/v1", "data"), named: "StatefulSet data/pg (apps/v1beta2, removed in 1.16)" },
  { era: "1.22", from: "1.21.14", to: "1.22.17", blocks: written("Ingress", "shop", "networking.k8s.io/v1beta1", "shop"), keeps: written("Ingress", "blog", "networking.k8s.io/v1", "blog"), named: "Ingress shop/shop (networking.k8s.io/v1beta1, removed in 1.22)" },
  { era: "1.22 (cluster-scoped)", from: "1.21.14", to: "1.22.17", blocks: written("CustomResourceDefinition", "widgets.example.com", "apiextensions.k8s.io/v1beta1"), keeps: written("CustomResourceDefinition", "gadgets.example.com", "apiextensions.k8s.io/v1"), named: "CustomResourceDefinition widgets.example.com (apiextensions.k8s.io/v1beta1, removed in 1.22)" },
  { era: "1.25", from: "1.24.17", to: "1.25.16", blocks: written("CronJob", "backup", "batch/v1beta1", "ops"), keeps: written("CronJob", "report", "batch/v1", "ops"), named: "CronJob ops/backup (batch/v1beta1, removed in 1.25)" },
  { era: "1.25 (policy)", from: "1.24.17", to: "1.25.16", blocks: written("PodDisruptionBudget", "db", "policy/v1beta1", "data"), keeps: written("PodDisruptionBudget", "web", "policy/v1", "shop"), named: "PodDisruptionBudget data/db (policy/v1beta1, removed in 1.25)" },
  { era: "1.26", from: "1.25.16", to: "1.26.15", blocks: written("HorizontalPodAutoscaler", "web", "autoscaling/v2beta2", "shop"), keeps: written("HorizontalPodAutoscaler", "api", "autoscaling/v2", "shop"), named: "HorizontalPodAutoscaler shop/web (autoscaling/v2beta2, removed in 1.26)" },
  { era: "1.26 (flowcontrol v1beta1)", from: "1.25.16", to: "1.26.15", blocks: written("FlowSchema", "batch-jobs", "flowcontrol.apiserver.k8s.io/v1beta1"), keeps: written("FlowSchema", "system", "flowcontrol.apiserver.k8s.io/v1beta2"), named: "FlowSchema batch-jobs (flowcontrol.apiserver.k8s.io/v1beta1, removed in 1.26)" },
  { era: "1.27", from: "1.26.15", to: "1.27.16", blocks: written("CSIStorageCapacity", "cap-1", "storage.k8s.io/v1beta1", "kube-system"), keeps: written("StorageClass", "gp3", "storage.k8s.io/v1beta1"), named: "CSIStorageCapacity kube-system/cap-1 (storage.k8s.io/v1beta1, removed in 1.27)" },
  { era: "1.29", from: "1.28.15", to: "1.29.14", blocks: written("PriorityLevelConfiguration", "workload-low", "flowcontrol.apiserver.k8s.io/v1beta2"), keeps: written("PriorityLevelConfiguration", "global", "flowcontrol.apiserver.k8s.io/v1beta3"), named: "PriorityLevelConfiguration workload-low (flowcontrol.apiserver.k8s.io/v1beta2, removed in 1.29)" },
  { era: "1.32", from: "1.31.9", to: "1.32.5", blocks: written("FlowSchema", "probes", "flowcontrol.apiserver.k8s.io/v1beta3"), keeps: written("FlowSchema", "catch-all", "flowcontrol.apiserver.k8s.io/v1"), named: "FlowSchema probes (flowcontrol.apiserver.k8s.io/v1beta3, removed in 1.32)" },
];

describe("the removed-API verdict, each removal era", () => {
  it.each(ERAS)("$era: an object written through a removed version blocks the bump, naming it; one written through a kept version does not", ({ from, to, blocks, keeps, named }) => {
    const t = controlPlaneTransition(from, to);
    const blocked = removedApiVerdict(t, findings([blocks, keeps]), false);
    expect(blocked.verdict).toBe("blocked");
    expect(blocked.objects.map((o) => o.object)).toEqual([named.split(" (")[0]]);
    expect(blocked.summary).toContain(named);
    expect(blocked.summary).toContain("rollout.acceptRemovedApis");
    expect(blocked.summary).toContain("kubeherd/accept-removed-apis");
    expect(removedApiVerdict(t, findings([keeps]), false).verdict).toBe("clear");
  });

  it.each(ERAS)("$era: accepted by rollout.acceptRemovedApis: true, or by a list naming its group/version, not by a list of others", ({ from, to, blocks }) => {
    const t = controlPlaneTransition(from, to);
    const gv = removedApiUses([blocks], REMOVED_APIS)[0].apiVersion;
    expect(removedApiVerdict(t, findings([blocks]), true).verdict).toBe("accepted");
    expect(removedApiVerdict(t, findings([blocks]), [gv]).verdict).toBe("accepted");
    const other = REMOVED_APIS.find((x) => x.apiVersion !== gv)!.apiVersion;
    expect(removedApiVerdict(t, findings([blocks]), [other]).verdict).toBe("blocked");
  });

  it.each(ERAS)("$era: the same object does not block a bump that stays before the removal, nor one already past it", ({ era, from, blocks }) => {
    const minor = Number(era.slice(2, 4));
    expect(removedApiVerdict(controlPlaneTransition(`1.${minor - 2}.0`, from), findings([blocks]), false).verdict).not.toBe("blocked");
    expect(removedApiVerdict(controlPlaneTransition(`1.${minor}.0`, `1.${minor + 1}.0`), findings([blocks]), false).verdict).not.toBe("blocked");
  });

  it("a client that requested a removed version blocks, named by group/version, resource and release; one the bump keeps does not", () => {
    const t = controlPlaneTransition("1.24.17", "1.25.16");
    const v = removedApiVerdict(t, findings([], [{ apiVersion: "policy/v1beta1", resource: "podsecuritypolicies", removedIn: "1.25" }, { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta2", resource: "flowschemas", removedIn: "1.29" }]), false);
    expect(v.verdict).toBe("blocked");
    expect(v.requests).toEqual([{ apiVersion: "policy/v1beta1", resource: "podsecuritypolicies", removedIn: "1.25", accepted: false }]);
    expect(v.summary).toContain("clients requested policy/v1beta1 podsecuritypolicies (removed in 1.25)");
  });

  it("a journey across several removals (1.21 → 1.26) judges every removal it crosses, and names the first few and how many more", () => {
    const t = controlPlaneTransition("1.21.14", "1.26.15");
    const objects = [written("Ingress", "a", "extensions/v1beta1", "x"), written("CronJob", "b", "batch/v1beta1", "x"), written("HorizontalPodAutoscaler", "c", "autoscaling/v2beta2", "x"), written("ClusterRole", "d", "rbac.authorization.k8s.io/v1beta1"), written("FlowSchema", "e", "flowcontrol.apiserver.k8s.io/v1beta2")];
    const v = removedApiVerdict(t, findings(objects), false);
    expect(v.crossed.map((x) => x.removedIn)).toEqual([...new Set(removalsCrossed("1.21", "1.26").map((x) => x.removedIn))].flatMap((m) => removalsCrossed("1.21", "1.26").filter((x) => x.removedIn === m).map((x) => x.removedIn)));
    expect(v.objects.map((o) => o.object)).toEqual(["Ingress x/a", "CronJob x/b", "HorizontalPodAutoscaler x/c", "ClusterRole d"]);
    expect(v.summary).toContain("and 1 more");
    const refusal = removedApiRefusal("kubeherd-cp-1", v)!;
    expect(refusal.split("\n")).toHaveLength(1);
    expect(refusal).toMatch(/^kubeherd-cp-1: not taken out for kubeadm upgrade apply 1\.21 → 1\.26: the cluster still uses API versions it removes: Ingress x\/a \(extensions\/v1beta1, removed in 1\.22\), .* and 1 more \(4 in all; npm run plan -- --live lists them\); migrate them, or set rollout\.acceptRemovedApis on the control-plane pool/);
  });

  it("a bump that crosses no removal (1.29 → 1.31, a patch, 1.33 → 1.35) is none-crossed, whatever the cluster holds", () => {
    const all = ERAS.map((e) => e.blocks);
    for (const [from, to] of [["1.29.1", "1.31.4"], ["1.30.1", "1.30.2"], ["1.33.5", "1.35.0"]]) {
      const v = removedApiVerdict(controlPlaneTransition(from, to), findings(all), false);
      expect(v.verdict).toBe("none-crossed");
      expect(removedApiRefusal("cp-1", v)).toBeUndefined();
    }
  });

  it("says when /metrics could not be read, and that objects alone were checked", () => {
    const v = removedApiVerdict(controlPlaneTransition("1.24.17", "1.25.16"), { ...findings([]), metrics: "forbidden", metricsNote: "the kubeconfig may not read /metrics" }, false);
    expect(v.verdict).toBe("clear");
    expect(v.summary).toContain("objects only");
    expect(v.metricsNote).toBe("the kubeconfig may not read /metrics");
  });

  it("firstFew names at most three", () => {
    expect(firstFew(["a"])).toBe("a");
    expect(firstFew(["a", "b", "c"])).toBe("a, b, c");
    expect(firstFew(["a", "b", "c", "d", "e"])).toBe("a, b, c and 2 more");
  });
});

describe("what the scan lists", () => {
  it("every stored kind the table names has a resource and groups to list it through; review kinds are left to the metric", () => {
    const kinds = [...new Set(REMOVED_APIS.flatMap((x) => x.kinds))];
    const unlisted = kinds.filter((k) => REMOVED_KIND_RESOURCES[k] === undefined);
    expect(unlisted.every((k) => /Review$/.test(k))).toBe(true);
    expect(kindsToScan(removalsCrossed("1.24", "1.25"))).toEqual(["CronJob", "EndpointSlice", "Event", "HorizontalPodAutoscaler", "PodDisruptionBudget", "PodSecurityPolicy", "RuntimeClass"]);
    expect(scannedResources()).toContainEqual({ group: "networking.k8s.io", resource: "ingresses" });
    expect(scannedResources()).toContainEqual({ group: "extensions", resource: "ingresses" });
  });
});

describe("rollout.acceptRemovedApis in the config", () => {
  const withAccept = (accept: unknown, pool = 0) => {
    const input = structuredClone(currentInput) as { pools: { rollout?: Record<string, unknown> }[] };
    input.pools[pool].rollout = { ...(input.pools[pool].rollout ?? {}), acceptRemovedApis: accept };
    return input;
  };

  it("defaults to false, takes true or a list of group/versions, and the first control-plane pool's is the stack's", () => {
    expect(removedApiAcceptance(currentConfig())).toBe(false);
    expect(removedApiAcceptance(configSchema.parse(withAccept(true)))).toBe(true);
    expect(removedApiAcceptance(configSchema.parse(withAccept(["policy/v1beta1", "batch/v1beta1"])))).toEqual(["policy/v1beta1", "batch/v1beta1"]);
  });

  it("refuses a group/version no minor removes, naming the key; warns that a worker pool's is ignored", () => {
    const config = configSchema.parse(withAccept(["policy/v1beta1", "apps/v1"]));
    expect(checkPools(config).filter((p) => p.severity === "error").map((p) => p.key)).toEqual(["kubeherd:pools[0].rollout.acceptRemovedApis[1]"]);
    const workers = (currentInput.pools as { role: string }[]).findIndex((p) => p.role === "worker");
    const warned = checkPools(configSchema.parse(withAccept(true, workers)));
    expect(warned).toContainEqual(expect.objectContaining({ severity: "warning", key: `kubeherd:pools[${workers}].rollout.acceptRemovedApis` }));
    expect(configSchema.safeParse(withAccept(["not a version"])).success).toBe(false);
    expect(configSchema.safeParse(withAccept([])).success).toBe(false);
  });

  it("rollout.etcdSnapshot takes an absolute directory without .. and a count, with safe defaults", () => {
    const parse = (etcdSnapshot: unknown) => configSchema.safeParse(patched(currentInput, { pools: (currentInput.pools as object[]).map((p, i) => (i === 0 ? { ...p, rollout: { etcdSnapshot } } : p)) }));
    const parsed = parse({});
    expect(parsed.success && parsed.data.pools[0].rollout.etcdSnapshot).toEqual({ dir: "/var/lib/kubeherd/etcd-snapshots", keep: 3 });
    for (const dir of ["relative/dir", "/", "/var/../etc", "/var/lib/", "/var/lib/$(reboot)", "/var/lib/a b", "/var/./x", "/var/lib/'x'"]) expect(parse({ dir }).success, dir).toBe(false);
    for (const keep of [0, 101, 1.5]) expect(parse({ keep }).success, String(keep)).toBe(false);
    expect(parse({ dir: "/srv/backups/etcd_1.30", keep: 10 }).success).toBe(true);
  });
});
