/**
 * The minor bump that takes a docker cluster from 1.23 to 1.24, for real: dockershim leaves the kubelet, so each
 * node gets cri-dockerd, the kubelet's runtime endpoint (kubeadm's flags file) and the Node's
 * `kubeadm.alpha.kubernetes.io/cri-socket` annotation must move to it, and the repository moves from the legacy
 * mirror to pkgs.k8s.io's v1.24. A node whose kubelet 1.24 were left on dockershim would never turn Ready.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KUBEADM_FLAGS } from "../support/node-root/host-standins";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { World, type UpRecord } from "../support/world/world";

const JAMMY = "5:27.3.1-1~ubuntu.22.04~jammy";
const DOCKER = { runtime: "docker", "docker-ce": JAMMY, "docker-ce-cli": JAMMY, "containerd.io": "1.7.19-1" };
const V123 = { kubernetes: "1.23.17", kubeadm: "1.23.17-00", kubelet: "1.23.17-00", kubectl: "1.23.17-00", ...DOCKER };
const V124 = { kubernetes: "1.24.17", kubeadm: "1.24.17-1.1", kubelet: "1.24.17-1.1", kubectl: "1.24.17-1.1", ...DOCKER, "cri-dockerd": "0.3.14.3-0.ubuntu-jammy" };
const CRI_DOCKERD = "unix:///var/run/cri-dockerd.sock";
/** What kubeadm 1.23 writes on a docker node: dockershim, built into the kubelet. */
const DOCKERSHIM_FLAGS = 'KUBELET_KUBEADM_ARGS="--network-plugin=cni --pod-infra-container-image=k8s.gcr.io/pause:3.6"\n';
const NODES = ["cp-1", "w-1"];

describe("the minor bump 1.23 → 1.24 of a docker cluster, with cri-dockerd", () => {
  let world: World;
  let bump: UpRecord;

  beforeAll(async () => {
    world = await World.start({
      stack: "cri-dockerd",
      release: "22.04",
      legacy: true,
      versions: V123,
      pets: [
        { name: "control-plane", role: "control-plane", nodes: ["cp-1"] },
        { name: "workers", role: "worker", nodes: ["w-1"] },
      ],
      prepare: (node) => node.root.write(KUBEADM_FLAGS, DOCKERSHIM_FLAGS),
    });
    await world.up(V123);
    bump = await world.up(V124, {}, { kubernetes: LOCAL_SOURCES.kubernetes, docker: LOCAL_SOURCES.docker, "cri-dockerd": LOCAL_SOURCES["cri-dockerd"] });
  }, 1_800_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("rolls the bump node by node, control plane first", () => {
    expect(bump.report.error).toBeUndefined();
    expect(bump.report.result).toBe("succeeded");
    expect(bump.record.cordonOrder()).toEqual(NODES);
    expect(bump.record.maxUnschedulable().count).toBe(1);
  });

  it("points each kubelet at cri-dockerd, and each comes back Ready on 1.24 through it", () => {
    const last = bump.record.lastNodes();
    for (const name of NODES) {
      expect(world.node(name).root.read(KUBEADM_FLAGS), name).toContain(`--container-runtime-endpoint=${CRI_DOCKERD}`);
      expect(last.get(name), name).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: "v1.24.17" });
    }
  });

  it("moves each Node's kubeadm CRI socket annotation to cri-dockerd", () => {
    const last = bump.record.lastNodes();
    for (const name of NODES) expect(last.get(name)?.annotations["kubeadm.alpha.kubernetes.io/cri-socket"], name).toBe(CRI_DOCKERD);
  });
});
