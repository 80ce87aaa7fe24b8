/**
 * Everything a real cluster needs built or installed, in order: Debian's containerd, runc and CNI plugins and gcc
 * on the host, the node programs (after the control plane's build, sharing its caches), etcd 3.6.5, and the images.
 * `npm run toolchain -- --only real` calls it to fill the cache ahead; a real cluster calls the same on start.
 */
import type { Built } from "../toolchain/toolchain";
import { ensureKubernetesNode, type KubernetesNodeBinaries } from "../toolchain/kubernetes-node";
import { ensureEtcdRelease } from "../toolchain/etcd-release";
import { ensureHostPackages } from "./host-packages";
import { ensureNodeImages, type NodeImages } from "./node-images";

export interface RealToolchain {
  binaries: KubernetesNodeBinaries;
  images: NodeImages;
}

export async function ensureRealToolchain(onBuilt: (b: Built[]) => void = () => {}): Promise<RealToolchain> {
  ensureHostPackages();
  const [binaries, etcd] = await Promise.all([ensureKubernetesNode(), ensureEtcdRelease()]);
  const images = await ensureNodeImages(binaries.version, binaries);
  const built: Built[] = [];
  if (binaries.buildSeconds !== undefined) built.push({ tool: `kubelet, kubeadm, kube-proxy ${binaries.version}`, seconds: binaries.buildSeconds });
  if (etcd.buildSeconds !== undefined) built.push({ tool: `etcd ${etcd.version}`, seconds: etcd.buildSeconds });
  if (images.buildSeconds !== undefined) built.push({ tool: `node images ${binaries.version}`, seconds: images.buildSeconds });
  onBuilt(built);
  return { binaries, images };
}

