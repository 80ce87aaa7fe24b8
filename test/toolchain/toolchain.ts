/**
 * The one build step of the test tiers that need more than node_modules: the Pulumi CLI (test:engine, test:e2e),
 * the Kubernetes control plane binaries, KWOK and etcd (test:e2e). Each is built or installed once into
 * `${KUBEHERD_TEST_CACHE:-/var/cache/kubeherd-test}` and reused; the tiers' global setups call this, so a cold cache
 * is filled by the first run of a tier (or ahead of it by `npm run toolchain`).
 */
import { ensureEtcd, type Etcd } from "./etcd";
import { ensureKubernetes, type KubernetesBinaries } from "./kubernetes";
import { ensureKwok, type KwokBinary } from "./kwok";
import { ensurePulumiCli, type PulumiCli } from "./pulumi-cli";

/** Absolute paths of the control plane's programs: plain data, so a global setup can hand them to test workers. */
export interface ClusterTools {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  etcd: string;
  kubernetesVersion: string;
  kwokVersion: string;
  etcdVersion: string;
}

export interface Toolchain extends ClusterTools {
  /** The Pulumi CLI's installation root (`<root>/bin/pulumi`), as the Automation API's `PulumiCommand.get` wants it. */
  pulumiRoot: string;
  pulumiVersion: string;
}

/** What one call built (cached tools are not listed), with the seconds each build took. */
export interface Built {
  tool: string;
  seconds: number;
}

function clusterTools(k: KubernetesBinaries, kwok: KwokBinary, etcd: Etcd): ClusterTools {
  return {
    kubeApiserver: k.paths["kube-apiserver"],
    kubeControllerManager: k.paths["kube-controller-manager"],
    kubeScheduler: k.paths["kube-scheduler"],
    kubectl: k.paths.kubectl,
    kwok: kwok.path,
    etcd: etcd.path,
    kubernetesVersion: k.version,
    kwokVersion: kwok.version,
    etcdVersion: etcd.version,
  };
}

function builtOf(parts: { name: string; buildSeconds?: number }[]): Built[] {
  return parts.filter((p) => p.buildSeconds !== undefined).map((p) => ({ tool: p.name, seconds: p.buildSeconds as number }));
}

/**
 * The control plane's programs only. The Go builds run concurrently: each is partly downloads and partly
 * compiling, and on two cores the overlap still saves minutes on a cold cache.
 */
export async function ensureClusterToolchain(onBuilt: (b: Built[]) => void = () => {}): Promise<ClusterTools> {
  const etcd = await ensureEtcd(); // apt first: it takes the dpkg lock and is quick
  const [k, kwok] = await Promise.all([ensureKubernetes(), ensureKwok()]);
  onBuilt(builtOf([{ name: `kubernetes ${k.version}`, ...k }, { name: `kwok ${kwok.version}`, ...kwok }]));
  return clusterTools(k, kwok, etcd);
}

/** Everything test:e2e needs; `onBuilt` hears what had to be built and how long it took. */
export async function ensureToolchain(onBuilt: (b: Built[]) => void = () => {}): Promise<Toolchain> {
  const etcd = await ensureEtcd();
  const [k, kwok, pulumi] = await Promise.all([ensureKubernetes(), ensureKwok(), ensurePulumiCli()]);
  onBuilt(
    builtOf([
      { name: `kubernetes ${k.version}`, ...k },
      { name: `kwok ${kwok.version}`, ...kwok },
      { name: `pulumi ${pulumi.version}`, ...(pulumi as PulumiCli) },
    ]),
  );
  return { ...clusterTools(k, kwok, etcd), pulumiRoot: pulumi.root, pulumiVersion: pulumi.version };
}
