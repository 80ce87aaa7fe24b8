import { describe, expect, it } from "vitest";
import { drainNode } from "../../components/kube/drain";
import { CORDONED_BY } from "../../components/kube/nodes";
import { clock, defaultPolicy, startApi } from "./harness";

describe("drainNode", () => {
  it("cordons the node, marks it as kubeherd's, and evicts every pod until they are gone", async () => {
    const h = await startApi();
    h.api.cluster.addNode("ip-10-0-1-7");
    h.api.cluster.addNode("ip-10-0-1-8");
    h.api.cluster.addDeployment("web", "web", ["ip-10-0-1-7", "ip-10-0-1-7", "ip-10-0-1-8"]);
    const record = await drainNode(h.client, clock, "ip-10-0-1-7", { policy: defaultPolicy, timeoutSeconds: 10, log: h.log });
    const node = h.api.cluster.get("nodes", "ip-10-0-1-7");
    expect(node?.spec?.unschedulable).toBe(true);
    expect(node?.metadata?.annotations?.[CORDONED_BY]).toBe("kubeherd");
    expect(h.api.cluster.podsOn("ip-10-0-1-7")).toEqual([]);
    expect(record.workloads).toEqual([{ kind: "deployments", namespace: "web", name: "web" }]);
    expect(h.lines.at(-1)).toMatch(/^node ip-10-0-1-7: drained 2 pods in/);
  });
});
