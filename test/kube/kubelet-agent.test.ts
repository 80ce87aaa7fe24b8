/**
 * The stand-in kubelet's reporting agent (test/support/ssh-nodes/kubelet-agent.ts) against the in-process API over real
 * HTTP, from a real Debian node root: what the root's kubelet restart recorded becomes the Node's status, so
 * wait-ready waits for the kubelet the converge script really installed.
 */
import type { V1Node } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitReady } from "../../components/kube/ready";
import { KUBEADM_FLAGS, KUBELET_BROKEN, KUBELET_NOT_READY_YET } from "../support/node-root/host-standins";
import { NodeRoot } from "../support/node-root/node-root";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { convergeOrFail, currentStack, makeJoined, pinsOf, plan, runScript } from "../support/node-root/scenario";
import { KWOK_ANNOTATION, parseKubeletRecord, releaseOf, startKubeletAgent, statusOf, type KubeletRecord } from "../support/ssh-nodes/kubelet-agent";
import { clock, startApi } from "../support/kube-api/harness";

const base = currentStack();
const bumped = currentStack({ versions: { kubernetes: "1.30.3", kubeadm: "1.30.3-1.1", kubelet: "1.30.3-1.1", kubectl: "1.30.3-1.1" } });
const CONTAINERD_FLAGS = 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9"\n';

const ready = (node: V1Node | undefined) => node?.status?.conditions?.find((c) => c.type === "Ready");

describe("the kubelet agent of a node root", () => {
  let root: NodeRoot;
  beforeAll(async () => {
    root = await NodeRoot.create({ release: "22.04" });
    await root.seed(pinsOf(base), [LOCAL_SOURCES.kubernetes.replace("{minor}", "1.30"), LOCAL_SOURCES.docker]);
    makeJoined(root);
    root.write(KUBEADM_FLAGS, CONTAINERD_FLAGS);
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("puts the installed kubelet and runtime on the Node's status after a kubelet restart, through the status subresource", async () => {
    const h = await startApi();
    h.api.cluster.addNode("node-1", { kubeletVersion: "v1.29.6", runtime: "containerd://1.6.28", annotations: { [KWOK_ANNOTATION]: "fake" } });
    const agent = await startKubeletAgent({ kubeconfig: h.api.kubeconfig, nodeName: "node-1", node: { root }, log: h.log });
    try {
      await root.shOrThrow("systemctl restart kubelet");
      const seq = parseKubeletRecord(root.read("/var/lib/kubeherd-test/kubelet/report"))?.seq ?? 0;
      expect(await agent.applied(seq)).toEqual({ ready: true, kubeletVersion: "v1.30.2", containerRuntimeVersion: "containerd://1.7.19" });
      const node = h.api.cluster.get("nodes", "node-1");
      expect(node?.status?.nodeInfo?.kubeletVersion).toBe("v1.30.2");
      expect(node?.status?.nodeInfo?.containerRuntimeVersion).toBe("containerd://1.7.19");
      expect(ready(node)?.status).toBe("True");
      expect(h.api.requests.some((r) => r.method === "PATCH" && r.path === "/api/v1/nodes/node-1/status")).toBe(true);
    } finally {
      agent.stop();
    }
  });

  it("lets wait-ready wait for the kubelet the converge script installs: the bump's restart shows on the Node", async () => {
    const h = await startApi();
    h.api.cluster.addNode("storage-1", { kubeletVersion: "v1.30.2", annotations: { [KWOK_ANNOTATION]: "fake" } });
    const agent = await startKubeletAgent({ kubeconfig: h.api.kubeconfig, nodeName: "storage-1", node: { root }, log: h.log });
    try {
      const waiting = waitReady(h.client, clock, { nodeName: "storage-1" }, { kubeletVersion: "1.30.3", timeoutSeconds: 60, log: h.log });
      await convergeOrFail(root, runScript(plan(base, bumped), "storage-1"));
      const node = await waiting;
      expect(node.status?.nodeInfo?.kubeletVersion).toBe("v1.30.3");
    } finally {
      agent.stop();
    }
  });

  it("with the kubelet broken: the next restart fails, the Node leaves KWOK and goes NotReady, and stays so until it starts again", async () => {
    const h = await startApi();
    h.api.cluster.addNode("node-1", { kubeletVersion: "v1.30.3", annotations: { [KWOK_ANNOTATION]: "fake" } });
    const agent = await startKubeletAgent({ kubeconfig: h.api.kubeconfig, nodeName: "node-1", node: { root }, log: h.log });
    try {
      root.write(KUBELET_BROKEN, "test\n");
      const failed = await root.sh("systemctl restart kubelet");
      expect(failed.code).toBe(1);
      const seq = parseKubeletRecord(root.read("/var/lib/kubeherd-test/kubelet/report"))?.seq ?? 0;
      expect(await agent.applied(seq)).toEqual({ ready: false, reason: "KubeletNotStarted: kubelet.service failed to start" });
      const node = h.api.cluster.get("nodes", "node-1");
      expect(node?.metadata?.annotations?.[KWOK_ANNOTATION]).toBeUndefined();
      expect(ready(node)).toMatchObject({ status: "False", reason: "KubeletNotStarted" });
      await expect(waitReady(h.client, clock, { nodeName: "node-1" }, { kubeletVersion: "1.30.3", timeoutSeconds: 2, log: h.log })).rejects.toThrow();

      root.remove(KUBELET_BROKEN);
      await root.shOrThrow("systemctl restart kubelet");
      expect((await agent.applied(seq + 1)).ready).toBe(true);
      expect(h.api.cluster.get("nodes", "node-1")?.metadata?.annotations?.[KWOK_ANNOTATION]).toBe("fake");
      expect(ready(h.api.cluster.get("nodes", "node-1"))?.status).toBe("True");
    } finally {
      agent.stop();
    }
  });

  it("with Ready delayed: a good restart shows the new kubelet NotReady, and the Node turns Ready when the test ends the delay, with no other restart", async () => {
    const h = await startApi();
    h.api.cluster.addNode("node-1", { kubeletVersion: "v1.30.2", annotations: { [KWOK_ANNOTATION]: "fake" } });
    const agent = await startKubeletAgent({ kubeconfig: h.api.kubeconfig, nodeName: "node-1", node: { root }, log: h.log });
    try {
      root.write(KUBELET_NOT_READY_YET, "test\n");
      await root.shOrThrow("systemctl restart kubelet");
      const seq = parseKubeletRecord(root.read("/var/lib/kubeherd-test/kubelet/report"))?.seq ?? 0;
      expect(await agent.applied(seq)).toEqual({
        ready: false, reason: "KubeletNotReady: container runtime status check may not have completed yet", kubeletVersion: "v1.30.3", containerRuntimeVersion: "containerd://1.7.19",
      });
      const node = h.api.cluster.get("nodes", "node-1");
      expect(node?.status?.nodeInfo?.kubeletVersion).toBe("v1.30.3");
      expect(node?.metadata?.annotations?.[KWOK_ANNOTATION]).toBeUndefined();
      expect(ready(node)).toMatchObject({ status: "False", reason: "KubeletNotReady" });
      await expect(waitReady(h.client, clock, { nodeName: "node-1" }, { kubeletVersion: "1.30.3", timeoutSeconds: 2, log: h.log })).rejects.toThrow(/not ready/);

      const waiting = waitReady(h.client, clock, { nodeName: "node-1" }, { kubeletVersion: "1.30.3", timeoutSeconds: 30, log: h.log });
      root.remove(KUBELET_NOT_READY_YET);
      expect(ready(await waiting)?.status).toBe("True");
      expect(h.api.cluster.get("nodes", "node-1")?.metadata?.annotations?.[KWOK_ANNOTATION]).toBe("fake");
      expect(parseKubeletRecord(root.read("/var/lib/kubeherd-test/kubelet/report"))?.seq).toBe(seq);
    } finally {
      agent.stop();
      if (root.exists(KUBELET_NOT_READY_YET)) root.remove(KUBELET_NOT_READY_YET);
    }
  });
});

describe("what a kubelet start reports", () => {
  const record = (r: Partial<KubeletRecord>): KubeletRecord => ({
    seq: 1, state: "running", kubelet: "", endpoint: "", "docker-ce": "", "containerd.io": "", "cri-dockerd": "", ...r,
  });

  it.each([
    { what: "the article's node: kubelet 1.13 on docker 18.06 through dockershim", r: { kubelet: "1.13.3-00", "docker-ce": "18.06.2~ce~3-0~ubuntu" }, runtime: "docker://18.6.2" },
    { what: "containerd through its socket", r: { kubelet: "1.30.2-1.1", endpoint: "unix:///run/containerd/containerd.sock", "containerd.io": "1.7.13-1" }, runtime: "containerd://1.7.13" },
    { what: "docker 27 through cri-dockerd", r: { kubelet: "1.24.17-1.1", endpoint: "unix:///var/run/cri-dockerd.sock", "docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy", "cri-dockerd": "0.3.14.3-0.ubuntu-jammy" }, runtime: "docker://27.3.1" },
  ])("Ready: $what", ({ r, runtime }) => {
    const s = statusOf(record(r));
    expect(s.ready && s.containerRuntimeVersion).toBe(runtime);
  });

  it.each([
    { what: "a kubelet 1.24 still pointed at dockershim (the flags never moved)", r: { kubelet: "1.24.17-1.1", "docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy" }, reason: /no dockershim/ },
    { what: "cri-dockerd's socket without cri-dockerd installed", r: { kubelet: "1.24.17-1.1", endpoint: "unix:///var/run/cri-dockerd.sock", "docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy" }, reason: /cri-dockerd is not installed/ },
    { what: "containerd's socket without containerd", r: { kubelet: "1.30.2-1.1", endpoint: "unix:///run/containerd/containerd.sock" }, reason: /containerd.io is not installed/ },
    { what: "no kubelet installed", r: {}, reason: /no kubelet/ },
  ])("NotReady: $what", ({ r, reason }) => {
    const s = statusOf(record(r));
    expect(s.ready).toBe(false);
    expect(s.ready ? "" : s.reason).toMatch(reason);
  });

  it("reads releases as the kubelet prints them", () => {
    expect(releaseOf("18.06.2~ce~3-0~ubuntu")).toBe("18.6.2");
    expect(releaseOf("5:27.3.1-1~ubuntu.22.04~jammy")).toBe("27.3.1");
    expect(releaseOf("1.7.19-1")).toBe("1.7.19");
  });
});
