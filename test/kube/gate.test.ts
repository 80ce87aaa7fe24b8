import { describe, expect, it } from "vitest";
import { drainNode } from "../../components/kube/drain";
import { waitForWorkloads } from "../../components/kube/workloads";
import { clock, defaultPolicy, startApi, type Harness } from "../support/kube-api/harness";

const OLD = "ip-10-0-1-7";
const drainOld = (h: Harness) => drainNode(h.client, clock, OLD, { policy: defaultPolicy, timeoutSeconds: 10, log: h.log });

describe("waitForWorkloads", () => {
  it("holds until every drained workload is back at its ready count, including the DaemonSet pod on the new node", async () => {
    const h = await startApi({ startMs: 150 });
    h.api.cluster.addNode(OLD);
    h.api.cluster.addNode("ip-10-0-1-8");
    h.api.cluster.addDaemonSet("kube-system", "kube-proxy");
    const { labels } = h.api.cluster.addDeployment("web", "web", [OLD, OLD, "ip-10-0-1-8"]);
    h.api.cluster.addPdb("web", "web-pdb", { matchLabels: labels }, { maxUnavailable: 1 });
    h.api.cluster.addStatefulSet("db", "db", [OLD]);
    await new Promise((r) => setTimeout(r, 300)); // the DaemonSet's pods start
    const record = await drainOld(h);
    expect(record.workloads).toEqual(
      expect.arrayContaining([
        { kind: "deployments", namespace: "web", name: "web" },
        { kind: "statefulsets", namespace: "db", name: "db" },
        { kind: "daemonsets", namespace: "kube-system", name: "kube-proxy" },
      ]),
    );
    // The old instance is terminated and its Node forgotten; the new one joins.
    h.api.cluster.remove("nodes", OLD);
    h.api.cluster.addNode("ip-10-0-1-9");
    await waitForWorkloads(h.client, clock, record, { timeoutSeconds: 10, log: h.log });
    const proxy = h.api.cluster.get("pods", "kube-proxy-ip-10-0-1-9", "kube-system");
    expect(proxy?.status?.phase).toBe("Running");
    expect(h.api.cluster.get("poddisruptionbudgets", "web-pdb", "web")?.status?.disruptionsAllowed).toBe(1);
    expect(h.lines.at(-1)).toMatch(/^node ip-10-0-1-7: workloads recovered in/);
  });

  it("times out naming the workload still short of its ready count", async () => {
    const h = await startApi();
    h.api.cluster.addNode(OLD);
    h.api.cluster.addDeployment("web", "web", [OLD, OLD]);
    const record = await drainOld(h);
    // No schedulable node: the replacements stay Pending.
    await expect(waitForWorkloads(h.client, clock, record, { timeoutSeconds: 0.5, log: h.log })).rejects.toThrow(
      "node ip-10-0-1-7: workloads not recovered after 0.5s: Deployment web/web has 0/2 ready",
    );
  });

  it("times out naming a PDB that allows fewer disruptions than before the drain", async () => {
    const h = await startApi({ startMs: 60_000 });
    h.api.cluster.addNode(OLD);
    h.api.cluster.addNode("ip-10-0-1-8");
    const { labels } = h.api.cluster.addDeployment("web", "web", [OLD, "ip-10-0-1-8", "ip-10-0-1-8"]);
    h.api.cluster.addPdb("web", "web-pdb", { matchLabels: labels }, { maxUnavailable: 1 });
    const record = await drainOld(h);
    const error = await waitForWorkloads(h.client, clock, record, { timeoutSeconds: 0.5, log: h.log }).catch((e: unknown) => e);
    expect((error as Error).message).toContain("Deployment web/web has 2/3 ready");
    expect((error as Error).message).toContain("PDB web/web-pdb allows 0 disruptions (1 before the drain)");
  });

  it("counts a workload deleted since the drain as recovered", async () => {
    const h = await startApi();
    h.api.cluster.addNode(OLD);
    h.api.cluster.addDeployment("web", "web", [OLD]);
    const record = await drainOld(h);
    h.api.cluster.remove("deployments", "web", "web");
    await expect(waitForWorkloads(h.client, clock, record, { timeoutSeconds: 1, log: h.log })).resolves.toBeUndefined();
  });
});
