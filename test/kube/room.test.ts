import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { formatCpu, formatMemory, parseQuantity } from "../../components/disruption/quantity";
import { candidate, checkRoom, podRequests } from "../../components/disruption/room";

describe("resource quantities", () => {
  it.each([
    ["250m", 0.25],
    ["2", 2],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["512Mi", 512 * 2 ** 20],
    ["1G", 1e9],
    ["1e3", 1000],
    ["100k", 1e5],
    [".5", 0.5],
  ])("%s is %d", (q, v) => expect(parseQuantity(q)).toBeCloseTo(v));

  it("refuses what is no quantity", () => expect(parseQuantity("lots")).toBeUndefined());
  it("prints cpu and memory as people write them", () => {
    expect([formatCpu(0.25), formatCpu(2), formatMemory(1.5 * 2 ** 30), formatMemory(512 * 2 ** 20)]).toEqual(["250m", "2", "1.5Gi", "512Mi"]);
  });
});

const node = (name: string, cpu: string, extra: Partial<V1Node> = {}): V1Node => ({
  metadata: { name, labels: { zone: "a" } },
  spec: {},
  status: { allocatable: { cpu, memory: "8Gi", pods: "10" }, conditions: [{ type: "Ready", status: "True" }] },
  ...extra,
});
const pod = (name: string, cpu: string, extra: Partial<V1Pod["spec"]> = {}, on?: string): V1Pod => ({
  metadata: { name, namespace: "ns" },
  spec: { nodeName: on, containers: [{ name: "c", image: "i", resources: { requests: { cpu, memory: "1Gi" } } }], ...extra },
  status: { phase: "Running" },
});

describe("room for the pods a drain moves", () => {
  it("counts the larger of the containers' sum and the largest init container", () => {
    const p = pod("p", "500m", { initContainers: [{ name: "init", image: "i", resources: { requests: { cpu: "2" } } }] });
    expect(podRequests(p)).toEqual({ cpu: 2, memory: 2 ** 30, pods: 1 });
  });

  it("places the largest pods first, each where it fits: 3 and 1 cores fit on 3 + 1 free", () => {
    const nodes = [candidate(node("a", "1"), []), candidate(node("b", "3"), [])];
    expect(checkRoom(nodes, [pod("small", "1"), pod("big", "3")]).fits).toBe(true);
  });

  it("subtracts what the node already runs, and names the pod that does not fit with the roomiest node", () => {
    const busy = node("b", "4");
    const room = checkRoom([candidate(busy, [pod("there", "3", {}, "b")])], [pod("big", "2")]);
    expect(room.fits).toBe(false);
    expect(room.unplaced).toEqual([{ pod: "ns/big", why: "needs cpu 2, memory 1Gi; the roomiest node it may run on, b, has cpu 1, memory 7Gi, 9 pods free" }]);
  });

  it("keeps pods off nodes whose taints they do not tolerate or whose labels their nodeSelector does not match", () => {
    const tainted = node("t", "8", { spec: { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] } });
    expect(checkRoom([candidate(tainted, [])], [pod("p", "1")]).unplaced[0].why).toBe("no staying schedulable node matches its nodeSelector and tolerations");
    expect(checkRoom([candidate(tainted, [])], [pod("p", "1", { tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] })]).fits).toBe(true);
    expect(checkRoom([candidate(node("a", "8"), [])], [pod("p", "1", { nodeSelector: { zone: "b" } })]).fits).toBe(false);
  });
});
