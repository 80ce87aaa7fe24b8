/**
 * `npm run plan -- --live` for a bump of the control plane that crosses an API removal, against the in-process API:
 * what still uses a removed version (objects by their managedFields or last-applied configuration, listed through
 * the version the server serves now; clients by the API server's metric), each named, and exit 3 (`blocked`) unless
 * the stack accepts it. Text, JSON and markdown.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runLivePlan } from "../../cli/live-plan";
import { readOnly } from "../../components/kube/read-only";
import { readRemovedApiFindings } from "../../components/kube/removed-api-scan";
import { currentInput, patched } from "../support/fixtures/config";
import { tempProject } from "../support/fixtures/stackfiles";
import type { FakeApiServer } from "../support/kube-api/fake-api-server";
import { startApi, type Harness } from "../support/kube-api/harness";

const project = tempProject();
afterAll(() => project.remove());

const secrets = { kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } };
const kube = (release: string) => ({ versions: { kubernetes: release, kubeadm: `${release}-1.1`, kubelet: `${release}-1.1`, kubectl: `${release}-1.1` } });
const base124 = project.write("base124", { ...patched(currentInput, kube("1.24.17")), ...secrets });
project.write("to125", { ...patched(currentInput, kube("1.25.16")), ...secrets });
project.write("patch124", { ...patched(currentInput, kube("1.24.17")), ...secrets });
const accepting = (accept: unknown) => {
  const input = patched(currentInput, kube("1.25.16")) as { pools: { role: string; rollout?: object }[] };
  input.pools = input.pools.map((p) => (p.role === "control-plane" ? { ...p, rollout: { ...(p.rollout ?? {}), acceptRemovedApis: accept } } : p));
  return input;
};
project.write("accept-all", { ...accepting(true), ...secrets });
project.write("accept-batch", { ...accepting(["batch/v1beta1"]), ...secrets });

async function cluster(): Promise<Harness & { kubeconfig: string }> {
  const h = await startApi();
  for (const n of ["cp-1", "cp-2", "storage-1"]) h.api.cluster.addNode(n);
  const kubeconfig = join(project.dir, `kubeconfig-${h.api.url.split(":").at(-1)}`);
  writeFileSync(kubeconfig, h.api.kubeconfig);
  return { ...h, kubeconfig };
}

const mf = (...fields: [string, string][]) => fields.map(([manager, apiVersion]) => ({ manager, apiVersion, operation: "Update" }));

/** A 1.24 API server: CronJobs served at batch/v1 (preferred) and batch/v1beta1, HPAs at autoscaling/v2 and v2beta1. */
function serve124(api: FakeApiServer) {
  const cronjobs = [
    { metadata: { name: "backup", namespace: "ops", uid: "u1", managedFields: mf(["helm", "batch/v1beta1"], ["kube-controller-manager", "batch/v1"]) } },
    { metadata: { name: "report", namespace: "ops", uid: "u2", managedFields: mf(["kubectl-client-side-apply", "batch/v1"]) } },
  ];
  api.serve("batch/v1", { name: "cronjobs", kind: "CronJob" }, cronjobs);
  // The same objects through the removed version: listed once, through the preferred one.
  api.serve("batch/v1beta1", { name: "cronjobs", kind: "CronJob" }, cronjobs);
  api.serve("autoscaling/v2", { name: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler" }, [
    {
      metadata: {
        name: "web",
        namespace: "shop",
        uid: "u3",
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ apiVersion: "autoscaling/v2beta1", kind: "HorizontalPodAutoscaler", metadata: { name: "web" } }) },
        managedFields: mf(["kubectl-client-side-apply", "autoscaling/v2"]),
      },
    },
  ]);
  api.serve("autoscaling/v2beta1", { name: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler" });
  // Served in 1.24 only at the version 1.25 removes.
  api.serve("policy/v1beta1", { name: "podsecuritypolicies", kind: "PodSecurityPolicy", namespaced: false }, [{ metadata: { name: "restricted", uid: "u4", managedFields: mf(["kubectl", "policy/v1beta1"]) } }]);
  api.metrics += [
    'apiserver_requested_deprecated_apis{group="policy",removed_release="1.25",resource="podsecuritypolicies",subresource="",version="v1beta1"} 1',
    'apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.29",resource="flowschemas",subresource="",version="v1beta2"} 1',
    "",
  ].join("\n");
}

const live = (kubeconfig: string, stack: string, format: "text" | "json" | "markdown" = "json", base = base124) => runLivePlan({ stack, base, format, dir: project.dir, kubeconfig, env: {} });

interface RemovedApisJson {
  verdict: string;
  blocking: boolean;
  from: string;
  to: string;
  objects: { object: string; apiVersion: string; removedIn: string; writtenBy: string[]; accepted: boolean }[];
  requests: { apiVersion: string; resource: string; removedIn: string; accepted: boolean }[];
  metrics: string;
  metricsNote?: string;
  scanned: string[];
}

describe("plan --live for a bump that crosses an API removal (1.24 → 1.25)", () => {
  it("exits 3, verdict blocked, naming each object (kind, namespace/name, removed version, the minor that removes it) and each client request", async () => {
    const h = await cluster();
    serve124(h.api);
    const result = await live(h.kubeconfig, "to125");
    expect(result.code).toBe(3);
    const doc = JSON.parse(result.stdout) as { removedApis: RemovedApisJson; live: { blocking: boolean } };
    expect(doc.live.blocking).toBe(false);
    expect(doc.removedApis).toMatchObject({ verdict: "blocked", blocking: true, from: "1.24", to: "1.25", metrics: "read" });
    expect(doc.removedApis.objects.map((o) => [o.object, o.apiVersion, o.removedIn, o.writtenBy])).toEqual([
      ["CronJob ops/backup", "batch/v1beta1", "1.25", ["helm"]],
      ["HorizontalPodAutoscaler shop/web", "autoscaling/v2beta1", "1.25", ["kubectl apply (last-applied configuration)"]],
      ["PodSecurityPolicy restricted", "policy/v1beta1", "1.25", ["kubectl"]],
    ]);
    expect(doc.removedApis.requests).toEqual([{ apiVersion: "policy/v1beta1", resource: "podsecuritypolicies", removedIn: "1.25", accepted: false }]);
    expect(doc.removedApis.scanned).toEqual(["CronJob (batch/v1)", "HorizontalPodAutoscaler (autoscaling/v2)", "PodDisruptionBudget (policy/v1)", "PodSecurityPolicy (policy/v1beta1)"]);
    expect(result.stderr).toContainEqual(expect.stringMatching(/^blocked \(removed APIs\): 1\.24 → 1\.25 removes API versions the cluster still uses: CronJob ops\/backup \(batch\/v1beta1, removed in 1\.25\), .* and 1 more; migrate them, or accept with rollout\.acceptRemovedApis/));
    expect(result.stderr.some((l) => l.startsWith("blocked (disruption)"))).toBe(false);
    // Listed through the preferred version only, never through the one the bump removes.
    expect(h.api.requests.filter((r) => r.path === "/apis/batch/v1beta1/cronjobs")).toEqual([]);
  });

  it("prints the same in text and markdown, after the disruption preview", async () => {
    const h = await cluster();
    serve124(h.api);
    const text = await live(h.kubeconfig, "to125", "text");
    expect(text.code).toBe(3);
    expect(text.stdout).toContain("Removed-API pre-flight, control plane 1.24 → 1.25: blocked");
    expect(text.stdout).toContain("  object CronJob ops/backup (batch/v1beta1, removed in 1.25), written by helm; use batch/v1");
    expect(text.stdout).toContain("  client request policy/v1beta1 podsecuritypolicies (removed in 1.25)");
    expect(text.stdout.indexOf("Live disruption preview")).toBeLessThan(text.stdout.indexOf("Removed-API pre-flight"));
    const md = await live(h.kubeconfig, "to125", "markdown");
    expect(md.code).toBe(3);
    expect(md.stdout).toContain("### Removed APIs: control plane 1.24 → 1.25");
    expect(md.stdout).toContain("| `CronJob ops/backup` | `batch/v1beta1` | 1.25 | helm | batch/v1 | **blocks** |");
    expect(md.stdout).toContain("| `policy/v1beta1` | podsecuritypolicies | 1.25 | **blocks** |");
  });

  it("exits 0 when the control-plane pool's rollout.acceptRemovedApis is true, showing each use as accepted", async () => {
    const h = await cluster();
    serve124(h.api);
    const result = await live(h.kubeconfig, "accept-all");
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { removedApis: RemovedApisJson };
    expect(doc.removedApis.verdict).toBe("accepted");
    expect(doc.removedApis.objects.every((o) => o.accepted)).toBe(true);
    expect(result.stderr.some((l) => l.startsWith("blocked"))).toBe(false);
  });

  it("a list accepts only the group/versions it names: the others still block", async () => {
    const h = await cluster();
    serve124(h.api);
    const result = await live(h.kubeconfig, "accept-batch");
    expect(result.code).toBe(3);
    const doc = JSON.parse(result.stdout) as { removedApis: RemovedApisJson };
    expect(doc.removedApis.objects.filter((o) => o.accepted).map((o) => o.object)).toEqual(["CronJob ops/backup"]);
    expect(doc.removedApis.verdict).toBe("blocked");
  });

  it("says so, and checks objects alone, when the kubeconfig may not read /metrics (403 is not an error)", async () => {
    const h = await cluster();
    serve124(h.api);
    h.api.metricsForbidden = true;
    const result = await live(h.kubeconfig, "to125");
    expect(result.code).toBe(3);
    const doc = JSON.parse(result.stdout) as { removedApis: RemovedApisJson };
    expect(doc.removedApis.metrics).toBe("forbidden");
    expect(doc.removedApis.metricsNote).toMatch(/^the kubeconfig may not read \/metrics \(forbidden: User "ci" cannot get path "\/metrics", HTTP 403\)/);
    expect(doc.removedApis.requests).toEqual([]);
  });

  it("exits 0 with verdict clear when nothing uses a removed version", async () => {
    const h = await cluster();
    h.api.serve("batch/v1", { name: "cronjobs", kind: "CronJob" }, [{ metadata: { name: "report", namespace: "ops", managedFields: mf(["helm", "batch/v1"]) } }]);
    const result = await live(h.kubeconfig, "to125");
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { removedApis: RemovedApisJson }).removedApis.verdict).toBe("clear");
  });

  it("shows nothing and reads nothing of it for a bump within a minor", async () => {
    const h = await cluster();
    serve124(h.api);
    const result = await live(h.kubeconfig, "patch124");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).not.toHaveProperty("removedApis");
    expect(h.api.requests.filter((r) => r.path.startsWith("/apis/batch") || r.path === "/metrics" || r.path === "/apis")).toEqual([]);
  });

  it("exits 2 with one line naming what the pre-flight needs when the kubeconfig may not list a kind it reads", async () => {
    const h = await cluster();
    serve124(h.api);
    h.api.fail("GET", /^\/apis\/batch\/v1\/cronjobs$/, 403, 'cronjobs.batch is forbidden: User "ci" cannot list resource "cronjobs" in API group "batch" at the cluster scope');
    const result = await live(h.kubeconfig, "to125", "text");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.filter((l) => !l.startsWith("warning:"))).toEqual([
      `${h.api.url}: list cronjobs (batch/v1): cronjobs.batch is forbidden: User "ci" cannot list resource "cronjobs" in API group "batch" at the cluster scope (HTTP 403); the removed-API pre-flight needs list on the kinds the removed API versions served (README: the kubeherd-preview ClusterRole)`,
    ]);
  });

  it("the read-only client may read all it needs (discovery, lists, /metrics)", async () => {
    const h = await cluster();
    serve124(h.api);
    const findings = await readRemovedApiFindings(readOnly(h.client), { from: "1.24", to: "1.25" });
    expect(findings.objects).toHaveLength(3);
    expect(findings.requests).toHaveLength(1);
  });
});
