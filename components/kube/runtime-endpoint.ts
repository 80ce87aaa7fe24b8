/**
 * kubeadm keeps each node's CRI socket in an annotation of its Node object, and every later `kubeadm upgrade`
 * takes the socket from there (to pull images, to write the kubelet's flags). A docker node that moves to
 * Kubernetes 1.24 moves from the kubelet's built-in dockershim to cri-dockerd: its converge script points the
 * kubelet at cri-dockerd (components/scripts/kubeadm.ts), and this moves the annotation with it, as the
 * Kubernetes docs' "Migrate Docker Engine nodes from dockershim to cri-dockerd" does with `kubectl edit node`.
 */
import type { KubeClient } from "./client";
import { shortName } from "./nodes";

export const CRI_SOCKET_ANNOTATION = "kubeadm.alpha.kubernetes.io/cri-socket";
/** cri-dockerd's socket, as components/scripts/runtime.ts `criSocket` gives it to kubeadm and the kubelet. */
export const CRI_DOCKERD_SOCKET = "unix:///var/run/cri-dockerd.sock";
/** dockershim left the kubelet in 1.24 (FACTS.md §3). */
const DOCKERSHIM_REMOVED_MINOR = 24;

/** The socket kubeadm must find on a node that runs this kubelet and runtime; undefined where kubeadm's is kept. */
export function expectedCriSocket(kubeletVersion: string, runtime: "docker" | "containerd"): string | undefined {
  const minor = Number(/^v?[0-9]+\.([0-9]+)/.exec(kubeletVersion)?.[1]);
  return runtime === "docker" && minor >= DOCKERSHIM_REMOVED_MINOR ? CRI_DOCKERD_SOCKET : undefined;
}

/**
 * Points the node's CRI socket annotation at cri-dockerd when its pins say it runs docker with a kubelet 1.24+
 * and the annotation says otherwise (dockershim's `/var/run/dockershim.sock`). Returns whether it changed it.
 */
export async function moveCriSocket(
  client: KubeClient,
  name: string,
  expected: { kubeletVersion: string; runtime: { name: "docker" | "containerd" } } | undefined,
  log: (line: string) => void,
): Promise<boolean> {
  const socket = expected && expectedCriSocket(expected.kubeletVersion, expected.runtime.name);
  if (!socket) return false;
  const node = await client.get("nodes", name);
  const current = node?.metadata?.annotations?.[CRI_SOCKET_ANNOTATION];
  if (!node || current === socket) return false;
  await client.patchNode(name, { metadata: { annotations: { [CRI_SOCKET_ANNOTATION]: socket } } });
  log(`node ${shortName(name)}: kubeadm's CRI socket moved from ${current ?? "none"} to ${socket}`);
  return true;
}
