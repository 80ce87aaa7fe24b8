import { describe, expect, it } from "vitest";
import { CORDONED_BY } from "../../components/kube/nodes";
import { NODE_LABEL, POOL_LABEL } from "../../components/disruption/stack-nodes";
import { readOnly } from "../../components/kube/read-only";
import { status, watchStatus, type StackStatus } from "../../components/kube/status";
import { statusText } from "../../cli/status-text";
import { currentConfig } from "../support/fixtures/config";
import { clock, startApi, type Harness } from "../support/kube-api/harness";

const config = currentConfig();
const worker = (n: number) => ({ labels: { [POOL_LABEL]: "workers", [NODE_LABEL]: `workers-${n}` } });

/** The fixture stack's six nodes; cp-2 still on the old kubelet, workers-2 cordoned by kubeherd mid-rollout. */
async function midRollout(): Promise<Harness> {
  const h = await startApi();
  const c = h.api.cluster;
  c.addNode("cp-1");
  c.addNode("cp-2", { kubeletVersion: "v1.30.1" });
  c.addNode("ip-10-0-1-7", worker(0));
  c.addNode("ip-10-0-2-8", { ...worker(1), runtime: "containerd://1.7.18" });
  c.addNode("ip-10-0-1-9", { ...worker(2), unschedulable: true, annotations: { [CORDONED_BY]: "kubeherd" }, kubeletVersion: "v1.30.1" });
  c.addNode("storage-1", { osImage: "Ubuntu 20.04.6 LTS", unschedulable: true });
  c.addNode("someone-elses-node");
  return h;
}

describe("status: each node of the stack against the pins", () => {
  it("lists the nodes in rollout order with what each runs, and sums it up", async () => {
    const h = await midRollout();
    const s = await status(readOnly(h.client), "test", config);
    expect(s.nodes.map((n) => [n.node, n.kubeNode, n.onPins, n.cordoned])).toEqual([
      ["cp-1", "cp-1", true, "no"],
      ["cp-2", "cp-2", false, "no"],
      ["workers-0", "ip-10-0-1-7", true, "no"],
      ["workers-1", "ip-10-0-2-8", false, "no"],
      ["workers-2", "ip-10-0-1-9", false, "by-kubeherd"],
      ["storage-1", "storage-1", false, "by-someone-else"],
    ]);
    expect(s.nodes[1].kubelet).toEqual({ have: "v1.30.1", want: "v1.30.2", ok: false });
    expect(s.nodes[3].runtime).toEqual({ have: "containerd 1.7.18", want: "containerd 1.7.19", ok: false });
    expect(s.nodes[5].os).toEqual({ have: "Ubuntu 20.04.6 LTS", want: "Ubuntu 22.04", ok: false });
    expect(s.summary).toBe("2/6 nodes on the pins; 1 cordoned by kubeherd: workers-2; 1 cordoned by someone else: storage-1");
    const text = statusText(s);
    expect(text).toMatch(/^kubeherd status of stack test: pins kubelet v1\.30\.2, containerd 1\.7\.19, Ubuntu 22\.04\n/);
    expect(text).toMatch(/\ncontrol-plane\/cp-2 +cp-2 +yes +v1\.30\.1 \(want v1\.30\.2\) +containerd 1\.7\.19 +Ubuntu 22\.04\.4 LTS +no +no\n/);
    expect(h.api.requests.every((r) => r.method === "GET")).toBe(true);
  });

  it("names the nodes it cannot find and those not Ready", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { ready: false });
    const s = await status(h.client, "test", config);
    expect(s.summary).toBe("1/6 nodes on the pins; 1 not Ready: cp-1; 5 not found: cp-2, workers-0, workers-1, workers-2, storage-1");
    const text = statusText(s);
    expect(text).toMatch(/\nworkers\/workers-0 +not found +- +- +- +-\n/);
    expect(text).toContain("\nworkers/workers-0: not found (no Node labelled kubeherd.io/pool=workers, kubeherd.io/node=workers-0)\n");
    expect(text).toContain("\ncontrol-plane/cp-1: Ready=False (KubeletNotReady: container runtime network not ready)\n");
  });

  it("--watch redraws on each change of a Node, through one watch rather than polling, and stops when asked", async () => {
    const h = await midRollout();
    const frames: StackStatus[] = [];
    const stop = new AbortController();
    const seen = (n: number) => new Promise<void>((resolve) => {
      const check = () => (frames.length >= n ? resolve() : setTimeout(check, 10));
      check();
    });
    const watching = watchStatus(readOnly(h.client), clock, "test", config, (s) => frames.push(s), stop.signal);
    await seen(1);
    expect(frames[0].onPins).toBe(2);
    h.api.cluster.setNodeStatus("cp-2", { kubeletVersion: "v1.30.2" });
    await seen(2);
    expect(frames[1].summary).toMatch(/^3\/6 nodes on the pins/);
    // A heartbeat-like change that alters nothing shown does not redraw.
    h.api.cluster.setNodeStatus("cp-1", { ready: true });
    h.api.cluster.setNodeStatus("cp-2", { ready: false });
    await seen(3);
    expect(frames).toHaveLength(3);
    expect(frames[2].summary).toContain("1 not Ready: cp-2");
    stop.abort();
    await watching;
    const nodeReads = h.api.requests.filter((r) => r.path === "/api/v1/nodes");
    expect(nodeReads.filter((r) => r.query.watch !== "true")).toHaveLength(1);
    expect(nodeReads.filter((r) => r.query.watch === "true")).toHaveLength(1);
  });
});
