/**
 * The minor bump that takes a docker cluster to 1.24 moves kubeadm's CRI socket annotation to cri-dockerd: the
 * ready hook does it with the admin client once the node is back, so the next `kubeadm upgrade` finds it.
 */
import { describe, expect, it } from "vitest";
import { rolloutSchema } from "../../components/config/schema";
import { readyAfterChange, type HookEnv, type NodeHookContext } from "../../components/kube/hook-actions";
import { CRI_DOCKERD_SOCKET, CRI_SOCKET_ANNOTATION, expectedCriSocket } from "../../components/kube/runtime-endpoint";
import { criSocket } from "../../components/scripts/runtime";
import { configSchema } from "../../components/config/schema";
import { currentInput, dockerCurrentVersions, patched } from "../support/fixtures/config";
import { clock, startApi, type Harness } from "../support/kube-api/harness";

const rollout = rolloutSchema.parse({ readyTimeoutSeconds: 10, workloadTimeoutSeconds: 10, drainTimeoutSeconds: 10 });
const pets = (kubeletVersion: string, runtime: "docker" | "containerd", version: string): NodeHookContext => ({
  pool: "control-plane",
  node: "cp-1",
  mode: "pets",
  kubeNodeName: "cp-1",
  kubeletVersion,
  runtime: { name: runtime, version },
  rollout,
});
const envFor = (h: Harness, ctx: NodeHookContext): HookEnv => ({
  contexts: new Map([["cp-1", ctx]]),
  records: new Map(),
  client: async () => h.client,
  clock,
  log: h.log,
});
const COMMAND = "command:remote:Command";

describe("kubeadm's CRI socket annotation after a node is back", () => {
  it("moves from dockershim to cri-dockerd when a docker node comes back on kubelet 1.24", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.24.17", runtime: "docker://27.3.1", annotations: { [CRI_SOCKET_ANNOTATION]: "/var/run/dockershim.sock" } });
    await readyAfterChange({ name: "cp-1", type: COMMAND }, envFor(h, pets("1.24.17", "docker", "27.3.1")));
    expect(h.api.cluster.get("nodes", "cp-1")?.metadata?.annotations?.[CRI_SOCKET_ANNOTATION]).toBe(CRI_DOCKERD_SOCKET);
    expect(h.lines).toContain(`node cp-1: kubeadm's CRI socket moved from /var/run/dockershim.sock to ${CRI_DOCKERD_SOCKET}`);
  });

  it.each([
    { what: "a docker node still on 1.23 (dockershim is right)", kubelet: "1.23.17", runtime: "docker" as const, version: "27.3.1" },
    { what: "a containerd node", kubelet: "1.30.2", runtime: "containerd" as const, version: "1.7.19" },
  ])("is left as kubeadm wrote it on $what", async ({ kubelet, runtime, version }) => {
    const h = await startApi();
    const before = runtime === "docker" ? "/var/run/dockershim.sock" : "unix:///run/containerd/containerd.sock";
    h.api.cluster.addNode("cp-1", { kubeletVersion: `v${kubelet}`, runtime: `${runtime}://${version}`, annotations: { [CRI_SOCKET_ANNOTATION]: before } });
    await readyAfterChange({ name: "cp-1", type: COMMAND }, envFor(h, pets(kubelet, runtime, version)));
    expect(h.api.cluster.get("nodes", "cp-1")?.metadata?.annotations?.[CRI_SOCKET_ANNOTATION]).toBe(before);
    expect(h.api.requests.filter((r) => r.method === "PATCH" && JSON.stringify(r).includes("cri-socket"))).toEqual([]);
  });

  it("patches nothing when the annotation is already cri-dockerd's", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.2", runtime: "docker://27.3.1", annotations: { [CRI_SOCKET_ANNOTATION]: CRI_DOCKERD_SOCKET } });
    await readyAfterChange({ name: "cp-1", type: COMMAND }, envFor(h, pets("1.30.2", "docker", "27.3.1")));
    expect(h.lines.filter((l) => l.includes("CRI socket"))).toEqual([]);
  });

  it("names the same socket the node scripts give kubeadm and the kubelet", () => {
    const docker = configSchema.parse(patched(currentInput, { versions: dockerCurrentVersions })).versions;
    expect(expectedCriSocket(docker.kubelet, "docker")).toBe(criSocket(docker));
  });
});
