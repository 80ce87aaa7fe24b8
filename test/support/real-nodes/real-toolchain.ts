/**
 * Everything a real cluster needs built or installed, in order: Debian's containerd, runc and CNI plugins and gcc
 * on the host, the node programs (after the control plane's build, sharing its caches), etcd 3.6.5 and its etcdctl (the
 * nodes' host etcdctl), and the images,
 * for the release, for the patch version the upgrade scenario stamps on it and for the previous minor the minor bump
 * stamps on it (with etcd 3.5.24, its images' etcd); then crictl, the CNI plugins and
 * containerd 1.7.24 (and its source stamped 1.7.25, for the runtime bump) and the real-node packages of REAL_RELEASES with their apt repositories (real-packages.ts).
 * `npm run toolchain -- --only real` calls it to fill the cache ahead; a real cluster builds what it needs of it on
 * first use.
 */
import type { Built } from "../../toolchain/toolchain";
import { ensureKubernetesNode, type KubernetesNodeBinaries } from "../../toolchain/kubernetes-node";
import { ensureEtcdctl, ensureEtcdRelease } from "../../toolchain/etcd-release";
import { KUBERNETES_VERSION } from "../../toolchain/kubernetes";
import { ensureHostPackages } from "./host-packages";
import { ensureNodeImages, type NodeImages } from "./node-images";
import { CNI_PLUGINS, CONTAINERD, CONTAINERD_NEXT, CRI_TOOLS, ensurePackageBuild } from "./package-builds";
import { ensureRealRepository, type RealRepository } from "./real-packages";

/** The patch version the upgrade scenario stamps on the release's source (real-upgrade.e2e.ts). */
export const STAMPED_VERSION = "v1.34.3";

/**
 * The previous minor's release the minor-bump scenario starts at (real-minor.e2e.ts), stamped on the release's source:
 * kubeadm takes its skew constants from the stamped version and asks for etcd 3.5.24 (its table's 1.33 row).
 */
export const STAMPED_MINOR_VERSION = "v1.33.6";

/** The releases of kubeadm, kubelet and kubectl the real-node apt repositories hold (one repository per minor). */
export const REAL_RELEASES = [STAMPED_MINOR_VERSION, KUBERNETES_VERSION, STAMPED_VERSION] as const;

export interface RealToolchain {
  binaries: KubernetesNodeBinaries;
  images: NodeImages;
  stamped: KubernetesNodeBinaries;
  stampedImages: NodeImages;
  /** The previous minor stamped (real-minor.e2e.ts) and its images. */
  minor: KubernetesNodeBinaries;
  minorImages: NodeImages;
  /** The real-node packages of REAL_RELEASES and their apt repositories (real-pets.e2e.ts, real-minor.e2e.ts). */
  repository: RealRepository;
}

export async function ensureRealToolchain(onBuilt: (b: Built[]) => void = () => {}): Promise<RealToolchain> {
  ensureHostPackages();
  const [binaries, etcd] = await Promise.all([ensureKubernetesNode(), ensureEtcdRelease()]);
  const etcdctl = await ensureEtcdctl(etcd.version);
  const images = await ensureNodeImages(binaries.version, binaries);
  const stamped = await ensureKubernetesNode(STAMPED_VERSION, binaries.version);
  const stampedImages = await ensureNodeImages(STAMPED_VERSION, stamped);
  const minor = await ensureKubernetesNode(STAMPED_MINOR_VERSION, binaries.version);
  const minorImages = await ensureNodeImages(STAMPED_MINOR_VERSION, minor);
  const packageBuilds = [
    ["cri-tools", await ensurePackageBuild("cri-tools", CRI_TOOLS)],
    ["CNI plugins", await ensurePackageBuild("cni-plugins", CNI_PLUGINS)],
    ["containerd", await ensurePackageBuild("containerd", CONTAINERD)],
    ["containerd (stamped)", await ensurePackageBuild("containerd", CONTAINERD_NEXT)],
  ] as const;
  const repoStarted = Date.now();
  const repository = await ensureRealRepository(REAL_RELEASES, binaries.version);
  const repoSeconds = Math.round((Date.now() - repoStarted) / 1000);
  const built: Built[] = [];
  if (binaries.buildSeconds !== undefined) built.push({ tool: `kubelet, kubeadm, kube-proxy ${binaries.version}`, seconds: binaries.buildSeconds });
  if (etcd.buildSeconds !== undefined) built.push({ tool: `etcd ${etcd.version}`, seconds: etcd.buildSeconds });
  if (etcdctl.buildSeconds !== undefined) built.push({ tool: `etcdctl ${etcdctl.version} (the nodes' host etcdctl)`, seconds: etcdctl.buildSeconds });
  if (images.buildSeconds !== undefined) built.push({ tool: `node images ${binaries.version}`, seconds: images.buildSeconds });
  if (stamped.buildSeconds !== undefined) built.push({ tool: `node programs ${STAMPED_VERSION} (stamped)`, seconds: stamped.buildSeconds });
  if (stampedImages.buildSeconds !== undefined) built.push({ tool: `control plane and images ${STAMPED_VERSION} (stamped)`, seconds: stampedImages.buildSeconds });
  if (minor.buildSeconds !== undefined) built.push({ tool: `node programs ${STAMPED_MINOR_VERSION} (stamped)`, seconds: minor.buildSeconds });
  if (minorImages.buildSeconds !== undefined) built.push({ tool: `control plane and images ${STAMPED_MINOR_VERSION} (stamped, etcd 3.5.24)`, seconds: minorImages.buildSeconds });
  for (const [tool, b] of packageBuilds) if (b.buildSeconds !== undefined) built.push({ tool: `${tool} ${b.version}`, seconds: b.buildSeconds });
  if (repoSeconds > 5) built.push({ tool: "real-node packages and apt repositories", seconds: repoSeconds });
  onBuilt(built);
  return { binaries, images, stamped, stampedImages, minor, minorImages, repository };
}

