/**
 * The removed-API table and the questions asked of it, for each removal era of the deprecation guide: GIVEN objects
 * and a bump, THEN exactly those written through a version the bump removes are named, with who wrote them.
 */
import { describe, expect, it } from "vitest";
import { REMOVED_APIS, removalsCrossed, removedApiUses, requestedRemovedApis, type StoredObject } from "../../components/versions/removed-apis";

const obj = (kind: string, name: string, written: string[], namespace?: string, applied?: string): StoredObject => ({
  kind,
  metadata: {
    name,
    ...(namespace ? { namespace } : {}),
    managedFields: written.map((apiVersion, i) => ({ manager: `manager-${i}`, apiVersion })),
    ...(applied ? { annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ apiVersion: applied, kind }) } } : {}),
  },
});

describe("the removed-API table", () => {
  it("holds the guide's removals by minor, and nothing for minors that removed nothing", () => {
    const byMinor = (minor: string) => REMOVED_APIS.filter((x) => x.removedIn === minor).map((x) => x.apiVersion);
    expect(byMinor("1.16")).toEqual(["extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"]);
    expect(byMinor("1.22")).toHaveLength(12);
    expect(byMinor("1.25")).toEqual(["batch/v1beta1", "discovery.k8s.io/v1beta1", "events.k8s.io/v1beta1", "autoscaling/v2beta1", "policy/v1beta1", "node.k8s.io/v1beta1"]);
    expect(byMinor("1.26")).toEqual(["flowcontrol.apiserver.k8s.io/v1beta1", "autoscaling/v2beta2"]);
    expect(byMinor("1.27")).toEqual(["storage.k8s.io/v1beta1"]);
    expect(byMinor("1.29")).toEqual(["flowcontrol.apiserver.k8s.io/v1beta2"]);
    expect(byMinor("1.32")).toEqual(["flowcontrol.apiserver.k8s.io/v1beta3"]);
    for (const minor of ["1.17", "1.21", "1.23", "1.24", "1.28", "1.30", "1.31", "1.33", "1.34", "1.35"]) expect(byMinor(minor)).toEqual([]);
  });

  it.each([
    ["1.15", "1.16", ["1.16"]],
    ["1.21", "1.22", ["1.22"]],
    ["1.24", "1.26", ["1.25", "1.26"]],
    ["1.28", "1.29", ["1.29"]],
    ["1.29", "1.31", []],
    ["1.31", "1.34", ["1.32"]],
    ["1.32", "1.32", []],
  ])("a bump from %s to %s crosses the removals of %j", (from, to, minors) => {
    expect([...new Set(removalsCrossed(from, to).map((x) => x.removedIn))]).toEqual(minors);
  });
});

describe("objects written through a removed version, each removal era", () => {
  const objects = [
    obj("Deployment", "web", ["apps/v1", "extensions/v1beta1"], "shop"),
    obj("Ingress", "shop", ["networking.k8s.io/v1"], "shop", "extensions/v1beta1"),
    obj("ClusterRole", "view-all", ["rbac.authorization.k8s.io/v1beta1"]),
    obj("CronJob", "backup", ["batch/v1"], "ops"),
    obj("PodDisruptionBudget", "db", ["policy/v1beta1"], "data"),
    obj("HorizontalPodAutoscaler", "api", ["autoscaling/v2beta2"], "shop"),
    obj("CSIStorageCapacity", "cap", ["storage.k8s.io/v1beta1"], "kube-system"),
    obj("FlowSchema", "custom", ["flowcontrol.apiserver.k8s.io/v1beta2"]),
    obj("PriorityLevelConfiguration", "workload-low", ["flowcontrol.apiserver.k8s.io/v1beta3"]),
    // storage.k8s.io/v1beta1 StorageClass went in 1.22, not 1.27: a 1.26 -> 1.27 bump must not name it.
    obj("StorageClass", "fast", ["storage.k8s.io/v1beta1"]),
  ];

  it.each([
    ["1.15", "1.16", ["Deployment shop/web"]],
    ["1.21", "1.22", ["Ingress shop/shop", "ClusterRole view-all", "StorageClass fast"]],
    ["1.24", "1.25", ["PodDisruptionBudget data/db"]],
    ["1.25", "1.26", ["HorizontalPodAutoscaler shop/api"]],
    ["1.26", "1.27", ["CSIStorageCapacity kube-system/cap"]],
    ["1.28", "1.29", ["FlowSchema custom"]],
    ["1.31", "1.32", ["PriorityLevelConfiguration workload-low"]],
    ["1.32", "1.35", []],
  ])("from %s to %s names %j", (from, to, names) => {
    expect(removedApiUses(objects, removalsCrossed(from, to)).map((u) => u.object)).toEqual(names);
  });

  it("says who wrote it and what to use instead", () => {
    const [use] = removedApiUses(objects, removalsCrossed("1.21", "1.22"));
    expect(use).toEqual({ object: "Ingress shop/shop", apiVersion: "extensions/v1beta1", removedIn: "1.22", writtenBy: ["kubectl apply (last-applied configuration)"], use: "networking.k8s.io/v1" });
    expect(removedApiUses(objects, removalsCrossed("1.15", "1.16"))[0].writtenBy).toEqual(["manager-1"]);
  });

  it("ignores an unreadable last-applied configuration", () => {
    const broken: StoredObject = { kind: "Ingress", metadata: { name: "x", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{not json" } } };
    expect(removedApiUses([broken], removalsCrossed("1.21", "1.22"))).toEqual([]);
  });
});

describe("clients that requested a removed version (apiserver_requested_deprecated_apis)", () => {
  const metrics = [
    "# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.",
    "# TYPE apiserver_requested_deprecated_apis gauge",
    'apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="",version="v1beta3"} 1',
    'apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="prioritylevelconfigurations",subresource="status",version="v1beta3"} 1',
    'apiserver_requested_deprecated_apis{group="policy",removed_release="1.25",resource="poddisruptionbudgets",subresource="",version="v1beta1"} 1',
    'apiserver_request_total{code="200",verb="GET"} 42',
  ].join("\n");

  it("lists the removed versions requested that the bump crosses", () => {
    expect(requestedRemovedApis(metrics, removalsCrossed("1.31", "1.32"))).toEqual([
      { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", resource: "flowschemas", removedIn: "1.32" },
      { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", resource: "prioritylevelconfigurations", removedIn: "1.32" },
    ]);
    expect(requestedRemovedApis(metrics, removalsCrossed("1.24", "1.25"))).toEqual([{ apiVersion: "policy/v1beta1", resource: "poddisruptionbudgets", removedIn: "1.25" }]);
    expect(requestedRemovedApis(metrics, removalsCrossed("1.32", "1.33"))).toEqual([]);
  });
});
