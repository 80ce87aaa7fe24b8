import type { V1Node } from "@kubernetes/client-node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CORDONED_BY, cordon, forgetNode, matchesNode, releaseNumbers, runsRuntime, reportOf, sameRelease, uncordon } from "../../components/kube/nodes";
import { startApi } from "../support/kube-api/harness";

const node = (name: string, providerID?: string, ip?: string): V1Node => ({
  metadata: { name },
  spec: { providerID },
  status: { addresses: ip ? [{ type: "InternalIP", address: ip }] : [] },
});

describe("matchesNode", () => {
  it.each([
    { why: "the providerID names the instance", n: node("x", "aws:///eu-west-1a/i-0abc"), id: { instanceId: "i-0abc" }, match: true },
    { why: "the providerID names another instance, even with the same IP", n: node("ip-10-0-1-7", "aws:///eu-west-1a/i-0old", "10.0.1.7"), id: { instanceId: "i-0new", privateIp: "10.0.1.7", privateDns: "ip-10-0-1-7.ec2.internal" }, match: false },
    { why: "no providerID, the name is the private DNS name", n: node("ip-10-0-1-7.ec2.internal"), id: { instanceId: "i-0abc", privateDns: "ip-10-0-1-7.ec2.internal" }, match: true },
    { why: "no providerID, the name is the short host name", n: node("ip-10-0-1-7"), id: { privateDns: "ip-10-0-1-7.ec2.internal" }, match: true },
    { why: "no providerID, the InternalIP matches", n: node("worker-a", undefined, "10.0.1.7"), id: { instanceId: "i-0abc", privateIp: "10.0.1.7" }, match: true },
    { why: "no providerID, nothing matches", n: node("worker-a", undefined, "10.0.1.8"), id: { privateIp: "10.0.1.7", privateDns: "ip-10-0-1-7.ec2.internal" }, match: false },
    { why: "a pets node name is exact", n: node("storage-1"), id: { nodeName: "storage-1" }, match: true },
    { why: "a pets node name is not a prefix", n: node("storage-10"), id: { nodeName: "storage-1" }, match: false },
  ])("is $match when $why", ({ n, id, match }) => {
    expect(matchesNode(n, id)).toBe(match);
  });
});

describe("sameRelease", () => {
  it.each([
    ["18.06.2", "18.6.2", true],
    ["5:18.09.2~3-0~ubuntu-bionic", "18.9.2", true],
    ["1.7.19-1", "1.7.19", true],
    ["v1.30.2", "1.30.2", true],
    ["1.7.19", "1.7.2", false],
    ["1.7", "1.7.0", false],
    ["latest", "1.7.0", false],
  ])("%s against %s is %s", (a, b, same) => {
    expect(sameRelease(a, b)).toBe(same);
  });

  it("ignores leading zeros in every part", () => {
    const part = fc.nat({ max: 999 });
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), fc.array(fc.nat({ max: 2 }), { minLength: 4, maxLength: 4 }), (parts, zeros) => {
        const plain = parts.join(".");
        const padded = parts.map((p, i) => "0".repeat(zeros[i]) + String(p)).join(".");
        expect(sameRelease(plain, padded)).toBe(true);
        expect(releaseNumbers(padded)).toEqual(parts);
      }),
    );
  });
});

describe("runsRuntime", () => {
  it.each([
    ["containerd://1.7.19", { name: "containerd" as const, version: "1.7.19" }, true],
    ["docker://18.6.2", { name: "docker" as const, version: "18.06.2" }, true],
    ["docker://18.6.1", { name: "docker" as const, version: "18.06.2" }, false],
    ["containerd://1.7.19", { name: "docker" as const, version: "1.7.19" }, false],
  ])("%s runs %j: %s", (reported, runtime, runs) => {
    const n: V1Node = { status: { nodeInfo: { containerRuntimeVersion: reported } as NonNullable<V1Node["status"]>["nodeInfo"] } };
    expect(runsRuntime(reportOf(n), runtime)).toBe(runs);
  });
});

describe("cordon and uncordon", () => {
  it("uncordons a node kubeherd cordoned, removing its mark", async () => {
    const h = await startApi();
    h.api.cluster.addNode("w1");
    expect(await cordon(h.client, h.api.cluster.get("nodes", "w1")!)).toBe("cordoned");
    expect(await uncordon(h.client, "w1")).toBe(true);
    const n = h.api.cluster.get("nodes", "w1");
    expect(n?.spec?.unschedulable).toBeUndefined();
    expect(n?.metadata?.annotations?.[CORDONED_BY]).toBeUndefined();
  });

  it("never uncordons a node somebody else cordoned", async () => {
    const h = await startApi();
    h.api.cluster.addNode("w1", { unschedulable: true });
    expect(await cordon(h.client, h.api.cluster.get("nodes", "w1")!)).toBe("cordoned-by-someone-else");
    expect(await uncordon(h.client, "w1")).toBe(false);
    expect(h.api.cluster.get("nodes", "w1")?.spec?.unschedulable).toBe(true);
  });

  it("recognises its own earlier cordon when a drain is resumed", async () => {
    const h = await startApi();
    h.api.cluster.addNode("w1", { unschedulable: true, annotations: { [CORDONED_BY]: "kubeherd" } });
    expect(await cordon(h.client, h.api.cluster.get("nodes", "w1")!)).toBe("already-ours");
  });
});

describe("forgetNode", () => {
  it("deletes the Node of a terminated instance and nothing else", async () => {
    const h = await startApi();
    h.api.cluster.addNode("ip-10-0-1-7", { providerID: "aws:///eu-west-1a/i-0old" });
    h.api.cluster.addNode("ip-10-0-1-8", { providerID: "aws:///eu-west-1a/i-0new" });
    expect(await forgetNode(h.client, { instanceId: "i-0old" })).toBe("ip-10-0-1-7");
    expect(h.api.cluster.list("nodes").map((n) => n.metadata?.name)).toEqual(["ip-10-0-1-8"]);
    expect(await forgetNode(h.client, { instanceId: "i-0old" })).toBeUndefined();
  });
});
