/**
 * The minor bump that takes a docker cluster from 1.23 to 1.24, for real in a Debian root: dockershim leaves the
 * kubelet, so the node gets cri-dockerd, and the kubelet must be pointed at it in the flags file kubeadm wrote
 * (/var/lib/kubelet/kubeadm-flags.env) before it restarts. The repository moves from the legacy mirror to
 * pkgs.k8s.io's v1.24 at the same time, and the real packages' Depends pull the new cri-tools and kubernetes-cni.
 * (kubeadm's CRI socket annotation on the Node moves in the ready hook: test/kube/runtime-endpoint.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KUBEADM_FLAGS, KUBELET_REPORT } from "../support/node-root/host-standins";
import { parseKubeletRecord, statusOf } from "../support/ssh-nodes/kubelet-agent";
import { NodeRoot } from "../support/node-root/node-root";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { convergeOrFail, currentStack, makeJoined, nodeState, pinsOf, plan, position, runScript, story } from "../support/node-root/scenario";

const JAMMY = "5:27.3.1-1~ubuntu.22.04~jammy";
const docker = { runtime: "docker", "docker-ce": JAMMY, "docker-ce-cli": JAMMY, "containerd.io": "1.7.19-1" };
const v123 = currentStack({
  versions: { kubernetes: "1.23.17", kubeadm: "1.23.17-00", kubelet: "1.23.17-00", kubectl: "1.23.17-00", ...docker },
  repositories: { kubernetes: LOCAL_SOURCES.legacyKubernetes },
});
const v124 = currentStack({
  versions: {
    kubernetes: "1.24.17", kubeadm: "1.24.17-1.1", kubelet: "1.24.17-1.1", kubectl: "1.24.17-1.1", ...docker,
    "cri-dockerd": "0.3.14.3-0.ubuntu-jammy",
  },
  repositories: { kubernetes: LOCAL_SOURCES.kubernetes, "cri-dockerd": LOCAL_SOURCES["cri-dockerd"] },
});
/** What kubeadm 1.23 writes on a docker node: dockershim, built into the kubelet, needs only the network plugin. */
const DOCKERSHIM_FLAGS = 'KUBELET_KUBEADM_ARGS="--network-plugin=cni --pod-infra-container-image=k8s.gcr.io/pause:3.6"\n';

describe("the minor bump 1.23.17 → 1.24.17 of a docker node (the first control-plane node)", () => {
  let root: NodeRoot;
  let lines: string[];

  beforeAll(async () => {
    root = await NodeRoot.create({ release: "22.04" });
    await root.seed(pinsOf(v123), [LOCAL_SOURCES.legacyKubernetes, LOCAL_SOURCES.docker]);
    makeJoined(root, "v1.23.17");
    root.write(KUBEADM_FLAGS, DOCKERSHIM_FLAGS);
    await convergeOrFail(root, runScript(plan(undefined, v123), "cp-1"));
    root.clearCalls();
    await convergeOrFail(root, runScript(plan(v123, v124), "cp-1"));
    lines = story(root.calls());
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("points the kubelet at cri-dockerd in kubeadm's flags file, dropping dockershim's flags", () => {
    expect(root.read(KUBEADM_FLAGS)).toContain("--container-runtime-endpoint=unix:///var/run/cri-dockerd.sock");
    expect(root.read(KUBEADM_FLAGS)).not.toContain("--network-plugin");
    expect(root.read(KUBEADM_FLAGS)).toContain("--pod-infra-container-image=k8s.gcr.io/pause:3.6");
  });

  it("starts cri-dockerd before kubeadm upgrades the control plane, and restarts the kubelet last", () => {
    expect(position(lines, "install cri-dockerd=0.3.14.3-0.ubuntu-jammy")).toBeLessThan(position(lines, "systemctl restart cri-docker"));
    expect(position(lines, "systemctl restart cri-docker")).toBeLessThan(position(lines, "kubeadm upgrade apply -y v1.24.17"));
    expect(position(lines, "kubeadm upgrade apply -y v1.24.17")).toBeLessThan(position(lines, "install kubelet=1.24.17-1.1"));
    expect(position(lines, "install kubelet=1.24.17-1.1")).toBeLessThan(position(lines, "systemctl restart kubelet"));
  });

  it("leaves the kubelet that restarted able to run: kubelet 1.24.17 on docker through cri-dockerd", () => {
    const record = parseKubeletRecord(root.read(KUBELET_REPORT));
    expect(record && statusOf(record)).toEqual({ ready: true, kubeletVersion: "v1.24.17", containerRuntimeVersion: "docker://27.3.1" });
  });

  it("holds every pin, and the real Depends pulled the new minor's cri-tools and kubernetes-cni", () => {
    expect(root.versions(Object.keys(pinsOf(v124)))).toEqual(pinsOf(v124));
    expect(root.held()).toEqual(Object.keys(pinsOf(v124)).sort());
    expect(root.versions(["cri-tools", "kubernetes-cni"])).toEqual({ "cri-tools": "1.25.0-1.1", "kubernetes-cni": "1.1.1-1.1" });
  });

  it("changes nothing when run again", async () => {
    const before = nodeState(root);
    const flags = root.read(KUBEADM_FLAGS);
    root.clearCalls();
    await convergeOrFail(root, runScript(plan(v123, v124), "cp-1"));
    expect(nodeState(root)).toEqual(before);
    expect(root.read(KUBEADM_FLAGS)).toBe(flags);
    expect(story(root.calls())).toEqual([]);
  });
});
