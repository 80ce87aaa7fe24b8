import { describe, expect, it } from "vitest";
import { waitReady } from "../../components/kube/ready";
import { clock, startApi } from "../support/kube-api/harness";

const opts = (log: (l: string) => void, timeoutSeconds = 5) => ({ kubeletVersion: "1.30.2", timeoutSeconds, log });

describe("waitReady", () => {
  it("returns as soon as the node turns Ready with the pinned kubelet", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { ready: false });
    // Ready once waitReady watches (not after a fixed delay, which a busy machine can outlast before the first read).
    const turnReady = setInterval(() => {
      if (!h.api.requests.some((r) => r.query.watch === "true")) return;
      clearInterval(turnReady);
      h.api.cluster.setNodeStatus("cp-1", { ready: true });
    }, 20);
    const node = await waitReady(h.client, clock, { nodeName: "cp-1" }, opts(h.log));
    expect(node.metadata?.name).toBe("cp-1");
    expect(h.lines[0]).toBe("node cp-1: Ready=False (KubeletNotReady: container runtime network not ready)");
    expect(h.lines.at(-1)).toMatch(/^node cp-1: Ready with kubelet v1\.30\.2 after \d+\.\ds$/);
  });

  it("watches the node instead of polling it", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { ready: false });
    setTimeout(() => h.api.cluster.setNodeStatus("cp-1", { ready: true }), 300);
    await waitReady(h.client, clock, { nodeName: "cp-1" }, opts(h.log));
    const reads = h.api.requests.filter((r) => r.path.startsWith("/api/v1/nodes"));
    expect(reads.map((r) => r.query.watch ?? "list")).toEqual(["list", "true"]);
    expect(reads[1].query.fieldSelector).toBe("metadata.name=cp-1");
  });

  it.each([
    { by: "providerID", id: { instanceId: "i-0abc" } },
    { by: "full private DNS name", id: { privateDns: "ip-10-0-1-9.eu-west-1.compute.internal" } },
    { by: "short host name", id: { privateDns: "ip-10-0-1-9.eu-west-1.compute.internal" }, name: "ip-10-0-1-9" },
    { by: "InternalIP", id: { privateIp: "10.0.1.9" }, providerID: "" },
  ])("finds a new instance's node by its $by once it registers", async ({ id, name, providerID }) => {
    const h = await startApi();
    h.api.cluster.addNode("ip-10-0-1-8", { providerID: "aws:///eu-west-1a/i-0old", internalIP: "10.0.1.8" });
    const nodeName = name ?? "ip-10-0-1-9.eu-west-1.compute.internal";
    setTimeout(() => h.api.cluster.addNode(nodeName, { internalIP: "10.0.1.9", providerID: providerID ?? "aws:///eu-west-1a/i-0abc" }), 100);
    const node = await waitReady(h.client, clock, id, opts(h.log));
    expect(node.metadata?.name).toBe(nodeName);
  });

  it("fails when the node never becomes Ready, saying what it last reported", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { ready: false });
    await expect(waitReady(h.client, clock, { nodeName: "cp-1" }, opts(h.log, 0.5))).rejects.toThrow(
      "node cp-1: not ready after 0.5s: last seen Ready=False (KubeletNotReady: container runtime network not ready)",
    );
  });

  it("fails when the node comes Ready with another kubelet, naming both versions", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.1" });
    await expect(waitReady(h.client, clock, { nodeName: "cp-1" }, opts(h.log, 0.5))).rejects.toThrow(
      "node cp-1: not ready after 0.5s: last seen Ready but runs kubelet v1.30.1, expected v1.30.2",
    );
  });

  it("waits for the kubelet restart that brings the pinned version", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.1" });
    setTimeout(() => h.api.cluster.setNodeStatus("cp-1", { kubeletVersion: "v1.30.2" }), 150);
    await expect(waitReady(h.client, clock, { nodeName: "cp-1" }, opts(h.log))).resolves.toBeDefined();
  });

  it("after a runtime-only bump, waits until the node reports the pinned runtime, not just Ready on its kubelet", async () => {
    const h = await startApi();
    // Ready on the pinned kubelet all along: only the runtime its kubelet reports moves once containerd restarted
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.2", runtime: "containerd://1.7.24" });
    let reported = false;
    setTimeout(() => {
      reported = true;
      h.api.cluster.setNodeStatus("cp-1", { runtime: "containerd://1.7.25" });
    }, 300);
    const node = await waitReady(h.client, clock, { nodeName: "cp-1" }, { ...opts(h.log), runtime: { name: "containerd", version: "1.7.25" } });
    expect(reported).toBe(true);
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toBe("containerd://1.7.25");
    expect(h.lines[0]).toBe("node cp-1: Ready but runs containerd 1.7.24, expected containerd 1.7.25");
  });

  it("fails when the node stays on another runtime, naming both", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.2", runtime: "containerd://1.7.24" });
    await expect(waitReady(h.client, clock, { nodeName: "cp-1" }, { ...opts(h.log, 0.5), runtime: { name: "containerd", version: "1.7.25" } })).rejects.toThrow(
      "node cp-1: not ready after 0.5s: last seen Ready but runs containerd 1.7.24, expected containerd 1.7.25",
    );
  });

  it("fails naming the instance when no node ever registers", async () => {
    const h = await startApi();
    h.api.cluster.addNode("ip-10-0-1-8", { providerID: "aws:///eu-west-1a/i-0old", internalIP: "10.0.1.8" });
    await expect(
      waitReady(h.client, clock, { instanceId: "i-0abc", privateIp: "10.0.1.9" }, opts(h.log, 0.5)),
    ).rejects.toThrow("instance i-0abc (10.0.1.9): not ready after 0.5s: last seen never registered with the API server");
  });

  it("lists and watches again after the API fails, and still sees the node turn Ready", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { ready: false });
    h.api.fail("GET", /^\/api\/v1\/nodes$/, 500, "apiserver restarting", 2);
    setTimeout(() => h.api.cluster.setNodeStatus("cp-1", { ready: true }), 400);
    await expect(waitReady(h.client, clock, { nodeName: "cp-1" }, opts(h.log))).resolves.toBeDefined();
  });

  it("accepts any kubelet when no version is expected", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.29.9" });
    await expect(waitReady(h.client, clock, { nodeName: "cp-1" }, { timeoutSeconds: 1, log: h.log })).resolves.toBeDefined();
  });
});
