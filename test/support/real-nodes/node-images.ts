/**
 * The images a real node imports into its containerd, under the names kubeadm itself lists for the release with the
 * tier's `imageRepository` (`kubeadm config images list`), each made here (oci-image.ts) from a binary built on this
 * machine: kube-apiserver, kube-controller-manager and kube-scheduler from the control plane's build, kube-proxy from
 * the node programs' build, etcd of the release kubeadm's table gives the minor (3.6.5 for 1.34, 3.5.24 for 1.33) built
 * from the module proxy, and pause compiled from test/support/real-nodes/pause.c.
 * CoreDNS is not built: the clusters skip kubeadm's CoreDNS addon (nothing here resolves names in pods).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { runOrThrow } from "../node-root/process";
import { ensureEtcdRelease } from "../../toolchain/etcd-release";
import { recordBuild, testCache, withBuildLock } from "../../toolchain/go-build";
import { ensureKubernetes, KUBERNETES_VERSION } from "../../toolchain/kubernetes";
import { ensureKubernetesNode, ensureStampedControlPlane, type KubernetesNodeBinaries } from "../../toolchain/kubernetes-node";
import { writeImageArchive, type ImageSpec } from "./oci-image";

/** The registry part of every image name on the real nodes; nothing listens there, nothing is ever pulled. */
export const IMAGE_REPOSITORY = "kubeherd.test";

/** A workload image for tests: a static program that ignores SIGTERM (test/support/real-nodes/stubborn.c). */
export const STUBBORN_IMAGE = `${IMAGE_REPOSITORY}/stubborn:1`;

export interface NodeImages {
  /** Directory of `<name>.tar` archives. */
  dir: string;
  /** Image name -> its archive. */
  archives: Record<string, string>;
  /** The pause image's name (containerd's sandbox image). */
  pause: string;
  /** The static pause binary, also the nodes' own pid 1. */
  pauseBinary: string;
  buildSeconds?: number;
}

/** Compiles one of this directory's C programs (static, a few hundred KB) into `out` when missing. */
async function ensureStaticProgram(source: string, out: string): Promise<string> {
  if (existsSync(out)) return out;
  await runOrThrow("gcc", ["-static", "-Os", "-Wall", "-o", `${out}.partial`, join(__dirname, source)]);
  await runOrThrow("mv", [`${out}.partial`, out]);
  return out;
}

/** The pause program, compiled from pause.c when missing. */
export function ensurePauseBinary(out: string): Promise<string> {
  return ensureStaticProgram("pause.c", out);
}

/** `kubeadm config images list` for the release and the tier's repository: the names kubeadm will ask for. */
export async function kubeadmImageNames(kubeadm: string, version: string): Promise<string[]> {
  const out = await runOrThrow(kubeadm, ["config", "images", "list", "--kubernetes-version", version, "--image-repository", IMAGE_REPOSITORY]);
  return out.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}

/** `3.5.24` for `kubeherd.test/etcd:3.5.24-0`: the etcd release an image tag of kubeadm's names. */
export function etcdReleaseOf(image: string): string {
  const m = /\/etcd:(\d+\.\d+\.\d+)-\d+$/.exec(image);
  if (m?.[1] === undefined) throw new Error(`not an etcd image tag kubeadm writes: ${image}`);
  return m[1];
}

function archiveName(image: string): string {
  return `${image.replace(/[/:]/g, "_")}.tar`;
}

export async function ensureNodeImages(version = KUBERNETES_VERSION, node?: KubernetesNodeBinaries): Promise<NodeImages> {
  const nodeBins = node ?? (await ensureKubernetesNode(version));
  const dir = join(testCache(), `real-images-${version}`);
  const names = await kubeadmImageNames(nodeBins.paths.kubeadm, version);
  const wanted = names.filter((n) => !/\/coredns:/.test(n));
  const pause = wanted.find((n) => /\/pause:/.test(n));
  if (pause === undefined) throw new Error(`kubeadm ${version} lists no pause image: ${names.join(", ")}`);
  const archives = Object.fromEntries([...wanted, STUBBORN_IMAGE].map((n) => [n, join(dir, archiveName(n))]));
  const pauseBinary = join(dir, "pause");
  const done = () => existsSync(pauseBinary) && Object.values(archives).every((a) => existsSync(a));
  if (done()) return { dir, archives, pause, pauseBinary };
  return withBuildLock(dir, async () => {
    if (done()) return { dir, archives, pause, pauseBinary };
    const started = Date.now();
    mkdirSync(dir, { recursive: true });
    await ensurePauseBinary(pauseBinary);
    // the release's own control plane, or the same source stamped with the version asked for
    const control = version === nodeBins.source ? await ensureKubernetes(nodeBins.source) : await ensureStampedControlPlane(version, nodeBins.source);
    // the etcd release kubeadm's table gives this minor (`etcd:3.5.24-0` for 1.33, `etcd:3.6.5-0` for 1.34)
    const etcdImage = wanted.find((n) => /\/etcd:/.test(n));
    const etcd = await ensureEtcdRelease(etcdImage === undefined ? undefined : etcdReleaseOf(etcdImage));
    const binaryOf = (image: string): string => {
      const component = image.slice(IMAGE_REPOSITORY.length + 1).split(":")[0];
      switch (component) {
        case "kube-apiserver":
        case "kube-controller-manager":
        case "kube-scheduler":
          return control.paths[component];
        case "kube-proxy":
          return nodeBins.paths["kube-proxy"];
        case "etcd":
          return etcd.path;
        case "pause":
          return pauseBinary;
        default:
          throw new Error(`kubeadm ${version} asks for ${image}, which the real-node harness does not build`);
      }
    };
    for (const image of wanted) {
      const bin = binaryOf(image);
      const component = image.slice(IMAGE_REPOSITORY.length + 1).split(":")[0];
      const spec: ImageSpec =
        component === "pause"
          ? { name: image, files: [{ from: bin, to: "/pause" }], entrypoint: ["/pause"] }
          : { name: image, files: [{ from: bin, to: `/usr/local/bin/${component}` }], entrypoint: [`/usr/local/bin/${component}`] };
      if (!existsSync(archives[image])) await writeImageArchive(spec, archives[image]);
    }
    const stubborn = await ensureStaticProgram("stubborn.c", join(dir, "stubborn"));
    if (!existsSync(archives[STUBBORN_IMAGE])) await writeImageArchive({ name: STUBBORN_IMAGE, files: [{ from: stubborn, to: "/stubborn" }], entrypoint: ["/stubborn"] }, archives[STUBBORN_IMAGE]);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(dir, version, buildSeconds);
    return { dir, archives, pause, pauseBinary, buildSeconds };
  });
}

/**
 * A STAND-IN for the CoreDNS image kubeadm lists (`kubeherd.test/coredns:v1.12.1`), for clusters that deploy kubeadm's
 * CoreDNS addon scaled to zero (RealClusterOptions.coreDns): `kubeadm upgrade apply`'s preflight pulls every image it
 * lists and fails on a missing one, so the image must be in the control-plane node's containerd; it never runs (zero
 * replicas). Its program is the pause program: CoreDNS is not built here (and without kube-proxy it could not reach
 * the API server through its Service anyway).
 */
export async function ensureCoreDnsStandIn(version: string, images: NodeImages, kubeadm: string): Promise<{ name: string; archive: string }> {
  const name = (await kubeadmImageNames(kubeadm, version)).find((n) => /\/coredns:/.test(n));
  if (name === undefined) throw new Error(`kubeadm ${version} lists no CoreDNS image`);
  const archive = join(images.dir, archiveName(name));
  if (!existsSync(archive)) {
    await writeImageArchive({ name, files: [{ from: images.pauseBinary, to: "/coredns" }], entrypoint: ["/coredns"] }, archive);
  }
  return { name, archive };
}
