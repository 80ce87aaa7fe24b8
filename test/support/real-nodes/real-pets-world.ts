/**
 * A pets world on real nodes: a real kubeadm cluster (real-cluster.ts) whose nodes got their programs from the real
 * packages with apt (real-packages.ts), held at their pins, each serving SSH on its own address; a stack of kubeherd's
 * own program pointed at it (the endpoint and CA hash of the cluster, each node's address and pinned host key, the
 * repositories' lines); and the scenario's workloads. Every `up` is a real `pulumi up` of index.ts (LocalStack,
 * the stand-in plugins: the command plugin runs the converge script over real SSH on these nodes), recorded by a
 * watch of the API from before it starts until it ends.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { clientFromKubeconfig } from "../../../components/kube/api-client";
import type { KubeClient } from "../../../components/kube/client";
import { ensureKubernetesNode } from "../../toolchain/kubernetes-node";
import { KUBERNETES_VERSION } from "../../toolchain/kubernetes";
import { ensurePulumiCli } from "../../toolchain/pulumi-cli";
import { REPO_DIR } from "../fixtures/stackfiles";
import { LocalStack } from "../local-stack/local-stack";
import { makeClientKey, type ClientKey } from "../ssh-nodes/ssh-node";
import { createFromManifest, kubeconfigFor, serviceAccountToken } from "../world/live-world";
import { ApiRecorder } from "../world/recorder";
import { stackFile, type StackFile } from "../world/stack-config";
import type { UpRecord } from "../world/world";
import { Workloads } from "../world/workloads";
import { caCertHash, RealCluster } from "./real-cluster";
import { ensureNodeImages, type NodeImages } from "./node-images";
import type { RealNode } from "./real-node";
import { aptVersionOf, ensureRealRepository, REAL_PACKAGE_VERSIONS, REAL_SOURCES } from "./real-packages";
import { REAL_RELEASES, STAMPED_VERSION } from "./real-toolchain";
import { sweepAbandonedRealClusters } from "./sweep";

/** The Ubuntu release the node roots say they run. */
const RELEASE = "22.04";

export interface RealPetsWorldOptions {
  stack: string;
  workers: number;
  log?: (line: string) => void;
  /** The release the cluster starts at, built from KUBERNETES_VERSION's source (stamped when another). @default KUBERNETES_VERSION */
  from?: string;
  /** The release the scenario bumps to: its images are in the nodes' containerd, as a registry would serve them. @default STAMPED_VERSION */
  to?: string;
  /** The releases of kubeadm, kubelet and kubectl the apt repositories hold (one repository per minor). @default REAL_RELEASES */
  releases?: readonly string[];
  /** kubeadm's CoreDNS addon deployed (scaled to zero, RealClusterOptions.coreDns). @default true */
  coreDns?: boolean;
}

/**
 * The stack's `kubeherd:versions` at a Kubernetes release (`v1.34.2`): containerd (containerd.io at `containerdIo`,
 * one of real-packages.ts's CONTAINERD_IO_VERSIONS), and the three at `1.34.x-1.1`.
 */
export function realVersions(kube: string, containerdIo: string = REAL_PACKAGE_VERSIONS["containerd.io"]): Record<string, string> {
  const apt = aptVersionOf(kube);
  return { kubernetes: kube.replace(/^v/, ""), runtime: "containerd", "containerd.io": containerdIo, kubeadm: apt, kubelet: apt, kubectl: apt };
}

/**
 * The pins a node is set up with, as apt names them, and cri-tools for crictl: kubeadm from 1.32 on no longer
 * depends on it (the release tooling's metadata), so an operator who wants crictl on a node installs it.
 */
export function nodePins(kube: string): Record<string, string> {
  const v = realVersions(kube);
  return { "containerd.io": v["containerd.io"] ?? "", kubeadm: v.kubeadm ?? "", kubelet: v.kubelet ?? "", kubectl: v.kubectl ?? "", "cri-tools": REAL_PACKAGE_VERSIONS["cri-tools"] };
}

/** Pool rollout deadlines for real nodes on two busy cores: a real kubelet restart, a real static pod restart. */
const REAL_ROLLOUT = { drainTimeoutSeconds: 180, readyTimeoutSeconds: 300, workloadTimeoutSeconds: 300 };

export class RealPetsWorld {
  readonly client: KubeClient;
  readonly workloads: Workloads;
  readonly adminKubeconfig: string;

  private constructor(
    readonly cluster: RealCluster,
    private readonly stack: LocalStack,
    readonly dir: string,
    /** The images of the release bumped to (`to`), as the registry the nodes pull from would serve them. */
    readonly nextImages: NodeImages,
  ) {
    this.adminKubeconfig = readFileSync(cluster.kubeconfig, "utf8");
    this.client = clientFromKubeconfig(this.adminKubeconfig);
    this.workloads = new Workloads(this.adminKubeconfig);
  }

  /**
   * Builds what is missing (the packages of the releases, the `to` release's images), starts the cluster at `from`
   * from the packages, and makes the stack. On a failure stops what was started.
   */
  static async start(o: RealPetsWorldOptions): Promise<RealPetsWorld> {
    const swept = await sweepAbandonedRealClusters();
    if (swept.length > 0) o.log?.(`removed what killed real clusters left: ${swept.join(", ")}`);
    const source = KUBERNETES_VERSION;
    const from = o.from ?? source;
    const to = o.to ?? STAMPED_VERSION;
    const repo = await ensureRealRepository(o.releases ?? REAL_RELEASES, source);
    const next = await ensureNodeImages(to, await ensureKubernetesNode(to, source));
    const key: ClientKey = await makeClientKey("kubeherd-real-pets");
    const dir = mkdtempSync(join(tmpdir(), "kubeherd-real-pets-"));
    const minor = from.replace(/^v/, "").split(".").slice(0, 2).join(".");
    const sources = [REAL_SOURCES.kubernetes.replace("{minor}", minor), REAL_SOURCES.docker.replace("{codename}", "jammy")];
    const cluster = RealCluster.create({
      workers: o.workers,
      dir,
      version: from,
      source,
      say: o.log,
      packages: { repository: repo.dir, sources, controlPlanePins: nodePins(from), workerPins: nodePins(from) },
      sshKey: key,
      coreDns: o.coreDns ?? true,
      moreImages: [next],
    });
    let stack: LocalStack | undefined;
    try {
      await cluster.start();
      const cli = await ensurePulumiCli();
      stack = new LocalStack({
        cliRoot: cli.root,
        stack: o.stack,
        tier: "e2e",
        secrets: { "kubeherd:kubeconfig": await rolloutKubeconfig(cluster), "kubeherd:sshPrivateKey": key.privateKey },
      });
      const world = new RealPetsWorld(cluster, stack, dir, next);
      await world.workloads.namespace();
      return world;
    } catch (e) {
      stack?.remove();
      await cluster.stop().catch((err: unknown) => o.log?.(`stopping after a failed start: ${String(err)}`));
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  node(name: string): RealNode {
    const n = this.cluster.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name} in this world`);
    return n;
  }

  get workerNames(): string[] {
    return this.cluster.nodes.filter((n) => n !== this.cluster.controlPlane).map((n) => n.name).sort();
  }

  /**
   * The stack file at these versions: one pets pool for the control-plane node, one for the workers; `controlPlane`
   * is more of the control-plane pool's rollout settings.
   */
  stackFile(versions: Record<string, string>, controlPlane: Record<string, unknown> = {}): StackFile {
    const cp = this.cluster.controlPlane;
    const host = (n: RealNode) => {
      if (!n.hostKey) throw new Error(`node ${n.name} serves no SSH`);
      return { name: n.name, host: n.address, port: 22, hostKey: n.hostKey };
    };
    return stackFile({
      cluster: { endpoint: `${cp.address}:6443`, caCertHash: caCertHash(cp.root.read("/etc/kubernetes/pki/ca.crt")) },
      versions,
      release: RELEASE,
      pools: [
        { name: "control-plane", role: "control-plane", mode: "pets", hosts: [host(cp)], rollout: { ...REAL_ROLLOUT, ...controlPlane } },
        { name: "workers", role: "worker", mode: "pets", hosts: this.workerNames.map((n) => host(this.node(n))), rollout: REAL_ROLLOUT },
      ],
      repositories: { kubernetes: REAL_SOURCES.kubernetes, docker: REAL_SOURCES.docker },
    });
  }

  /** A real `pulumi up` of the stack at these versions, with the API recorded from before it starts until it ends. */
  async up(versions: Record<string, string>, controlPlane: Record<string, unknown> = {}): Promise<UpRecord> {
    const record = new ApiRecorder(this.client);
    await record.start();
    try {
      const report = await this.stack.up(this.stackFile(versions, controlPlane));
      return { report, record };
    } finally {
      record.stop();
      record.save(join(this.stack.dir, `api-${this.stack.count}.jsonl`));
    }
  }

  async stop(): Promise<void> {
    try {
      this.stack.remove();
      await this.cluster.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * What `pulumi up` runs with, as README advises: a ServiceAccount bound to rbac/kubeherd-rollout.yaml, not the admin
 * kubeconfig, against the control-plane node's API server.
 */
async function rolloutKubeconfig(cluster: RealCluster): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  await createFromManifest(kc, join(REPO_DIR, "rbac/kubeherd-rollout.yaml"));
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the admin kubeconfig names no server");
  const ca = cluster.controlPlane.root.read("/etc/kubernetes/pki/ca.crt");
  return kubeconfigFor(server, ca, { token: await serviceAccountToken(kc, "kube-system", "kubeherd-rollout") });
}
