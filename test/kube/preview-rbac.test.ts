import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { livePreview } from "../../components/kube/live";
import { status } from "../../components/kube/status";
import { readOnly } from "../../components/kube/read-only";
import { readRemovedApiFindings } from "../../components/kube/removed-api-scan";
import { planRollout } from "../../components/rollout/plan";
import { currentConfig } from "../support/fixtures/config";
import { REPO_DIR } from "../support/fixtures/stackfiles";
import { clock, startApi } from "../support/kube-api/harness";

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

const role = parseAllDocuments(readFileSync(join(REPO_DIR, "rbac", "kubeherd-preview.yaml"), "utf8"))
  .map((d) => d.toJSON() as { kind: string; rules?: Rule[] })
  .find((d) => d.kind === "ClusterRole")!;

/** `/apis/apps/v1/replicasets` → ["apps", "replicasets"]; `/api/v1/pods` → ["", "pods"]. */
const groupAndResource = (path: string) => {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/v[0-9a-z]+)\/([a-z]+)$/.exec(path)!;
  return [m[1] ?? "", m[2]] as const;
};
/** Discovery (`/apis`, `/apis/GROUP/VERSION`) every identity may read; `/metrics` has its own rule. */
const isCollection = (path: string) => path !== "/metrics" && !/^\/apis(\/[^/]+\/[^/]+)?$/.test(path);

describe("the read-only ClusterRole the README gives for the live preview and status", () => {
  it("grants only get, list and watch, and get on the API server's /metrics", () => {
    for (const rule of role.rules!) {
      if ("nonResourceURLs" in rule) expect(rule).toEqual({ nonResourceURLs: ["/metrics"], verbs: ["get"] });
      else expect(rule.verbs.sort()).toEqual(["get", "list", "watch"]);
    }
  });

  it("covers every collection the preview and status read", async () => {
    const h = await startApi();
    for (const n of ["cp-1", "cp-2", "storage-1"]) h.api.cluster.addNode(n);
    const base = currentConfig({ versions: { kubernetes: "1.30.1", kubeadm: "1.30.1-1.1", kubelet: "1.30.1-1.1", kubectl: "1.30.1-1.1" } });
    const config = currentConfig();
    await livePreview(readOnly(h.client), planRollout({ stack: "t", base, target: config, region: "eu-west-1" }), config, clock);
    await status(readOnly(h.client), "t", config);
    // A bump across 1.25's removals: the removed-API pre-flight lists what 1.25 removed through the served versions.
    h.api.serve("batch/v1", { name: "cronjobs", kind: "CronJob" });
    h.api.serve("autoscaling/v2", { name: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler" });
    h.api.serve("policy/v1beta1", { name: "podsecuritypolicies", kind: "PodSecurityPolicy", namespaced: false });
    expect((await readRemovedApiFindings(readOnly(h.client), { from: "1.24", to: "1.25" })).metrics).toBe("read");
    expect(h.api.requests.some((r) => r.path === "/metrics")).toBe(true);
    const read = new Set(h.api.requests.filter((r) => isCollection(r.path)).map((r) => groupAndResource(r.path).join("/")));
    expect(read.size).toBeGreaterThanOrEqual(9);
    for (const entry of read) {
      const [group, resource] = entry.split("/");
      expect(role.rules!.some((r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource)), entry).toBe(true);
    }
  });
});
