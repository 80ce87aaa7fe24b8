/**
 * A real kubeadm cluster on this machine: one control-plane node (`kubeadm init`: the control plane as static pods
 * run by its kubelet, images made here) and N workers (`kubeadm join` with a bootstrap token and the CA's public key
 * hash), each a RealNode on the cluster's own network. `stop()` takes everything down and says what, if anything,
 * was left behind.
 */
import { X509Certificate, createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KUBERNETES_VERSION } from "../../toolchain/kubernetes";
import { ensureKubernetesNode, type KubernetesNodeBinaries } from "../../toolchain/kubernetes-node";
import { createClusterNetwork, createNodeNetwork, deleteClusterNetwork, deleteNodeNetwork, leftoverNetworks, type ClusterNetwork, type NodeNetwork } from "./network";
import { ensureHostPackages } from "./host-packages";
import { initConfiguration, joinConfiguration } from "./node-config";
import { ensureCoreDnsStandIn, ensureNodeImages, IMAGE_REPOSITORY, type NodeImages } from "./node-images";
import { RealNode, type NodePackages, type RealNodeOptions } from "./real-node";
import type { ClientKey } from "../ssh-nodes/ssh-node";

export interface RealClusterOptions {
  workers: number;
  /** Where the admin kubeconfig and the nodes' boot logs go on the host. */
  dir: string;
  version?: string;
  /**
   * The release whose source the node programs and images are built from, when `version` is stamped on another's
   * (test/toolchain/kubernetes-node.ts). @default `version`
   */
  source?: string;
  /** Progress lines. */
  say?: (line: string) => void;
  /** Every node installs its programs from these packages with apt instead of having them copied in. */
  packages?: Omit<NodePackages, "pins"> & { controlPlanePins: Readonly<Record<string, string>>; workerPins: Readonly<Record<string, string>> };
  /** Every node serves SSH on its address with this client key authorized (pets nodes). */
  sshKey?: ClientKey;
  /**
   * kubeadm's CoreDNS addon is deployed (and scaled to zero: no CoreDNS image is built here), so `kubeadm upgrade`'s
   * CoreDNS checks find what they find on a default cluster. @default false (the addon phase is skipped)
   */
  coreDns?: boolean;
  /** Images of other releases each node's containerd holds besides its own (a registry's, for an upgrade). */
  moreImages?: readonly NodeImages[];
}

/** A bootstrap token as kubeadm wants one: `[a-z0-9]{6}.[a-z0-9]{16}`. */
export function bootstrapToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const pick = (n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");
  return `${pick(6)}.${pick(16)}`;
}

/** `sha256:<hex>` of the CA certificate's SubjectPublicKeyInfo: kubeadm's `--discovery-token-ca-cert-hash`. */
export function caCertHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

const CGROUP_V1 = "/sys/fs/cgroup";

export class RealCluster {
  readonly nodes: RealNode[] = [];
  private readonly networks: NodeNetwork[] = [];
  private network?: ClusterNetwork;
  private stopped = false;
  /** Nodes being started: a stop waits for them (each takes itself down once it sees the stop). */
  private readonly starting: Promise<RealNode>[] = [];
  readonly id = process.pid.toString(36);
  /** Seconds each phase took: builds, control plane, workers. */
  readonly timings: Record<string, number> = {};
  private built?: { binaries: KubernetesNodeBinaries; images: NodeImages };

  private constructor(readonly options: RealClusterOptions) {}

  get kubeconfig(): string {
    return join(this.options.dir, "admin.conf");
  }

  get controlPlane(): RealNode {
    const cp = this.nodes[0];
    if (cp === undefined) throw new Error("the cluster has no control-plane node");
    return cp;
  }

  /** A cluster not started yet: `start()` it; `stop()` may be called at any time, also while it starts. */
  static create(options: RealClusterOptions): RealCluster {
    return new RealCluster(options);
  }

  static async start(options: RealClusterOptions): Promise<RealCluster> {
    const cluster = RealCluster.create(options);
    await cluster.start();
    return cluster;
  }

  /** Boots every node; on a failure stops what was started and throws. */
  async start(): Promise<void> {
    try {
      await this.boot();
    } catch (e) {
      await this.stop().catch((err: unknown) => this.say(`stopping after a failed start: ${String(err)}`));
      throw e;
    }
  }

  private say(line: string): void {
    this.options.say?.(line);
  }

  private async timed<T>(what: string, f: () => Promise<T>): Promise<T> {
    const t = Date.now();
    const r = await f();
    this.timings[what] = Math.round((Date.now() - t) / 100) / 10;
    this.say(`${what}: ${this.timings[what]} s`);
    return r;
  }

  private async boot(): Promise<void> {
    const version = this.options.version ?? KUBERNETES_VERSION;
    mkdirSync(this.options.dir, { recursive: true });
    ensureHostPackages();
    const binaries = await this.timed("node programs", () => ensureKubernetesNode(version, this.options.source ?? version));
    const images = await this.timed("images", () => ensureNodeImages(version, binaries));
    this.built = { binaries, images };
    if (this.stopped) throw new Error("the real cluster was stopped while it started");
    const network = await createClusterNetwork(this.id);
    if (this.stopped) {
      await deleteClusterNetwork(network);
      throw new Error("the real cluster was stopped while it started");
    }
    this.network = network;
    const token = bootstrapToken();
    const cp = await this.timed("control-plane node booted", () => this.startNode("cp-1", 1, binaries, images, Object.keys(images.archives), "control-plane"));
    cp.root.write(
      "/etc/kubeherd/kubeadm.yaml",
      initConfiguration({ name: cp.name, address: cp.address, cgroupRoot: this.cgroupRoot(cp.name), version, imageRepository: IMAGE_REPOSITORY, token, coreDns: this.options.coreDns }),
      0o600,
    );
    await this.timed("kubeadm init", async () => {
      const r = await cp.sh("kubeadm init --config /etc/kubeherd/kubeadm.yaml >/var/log/kubeadm-init.log 2>&1", 600_000);
      if (r.code !== 0) throw new Error(`kubeadm init failed on ${cp.name} (exit ${r.code}):\n${cp.log("kubeadm-init", 40)}\n--- kubelet:\n${cp.log("kubelet", 30)}`);
    });
    if (this.options.coreDns) await cp.importImage((await ensureCoreDnsStandIn(version, images, binaries.paths.kubeadm)).archive);
    if (this.options.coreDns) await cp.shOrThrow("kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system scale deployment coredns --replicas=0");
    writeFileSync(this.kubeconfig, cp.root.read("/etc/kubernetes/admin.conf"), { mode: 0o600 });
    const hash = caCertHash(cp.root.read("/etc/kubernetes/pki/ca.crt"));
    const workerImages = Object.keys(images.archives).filter((n) => /\/(pause|kube-proxy|stubborn):/.test(n));
    await this.timed(`${this.options.workers} worker(s) joined`, () =>
      Promise.all(
        Array.from({ length: this.options.workers }, async (_, i) => {
          const w = await this.startNode(`worker-${i + 1}`, i + 2, binaries, images, workerImages, "worker");
          w.root.write(
            "/etc/kubeherd/kubeadm.yaml",
            joinConfiguration({ name: w.name, address: w.address, cgroupRoot: this.cgroupRoot(w.name), apiServer: `${cp.address}:6443`, token, caCertHash: hash }),
            0o600,
          );
          const r = await w.sh("kubeadm join --config /etc/kubeherd/kubeadm.yaml >/var/log/kubeadm-join.log 2>&1", 600_000);
          if (r.code !== 0) throw new Error(`kubeadm join failed on ${w.name} (exit ${r.code}):\n${w.log("kubeadm-join", 40)}\n--- kubelet:\n${w.log("kubelet", 30)}`);
        }),
      ),
    );
  }

  /** The running cluster's network: the address node `index` gets on it. */
  addressOf(index: number): string {
    if (this.network === undefined) throw new Error("the real cluster has no network yet");
    return this.network.hostAddress.replace(/\.1$/, `.${10 + index}`);
  }

  /**
   * One more worker node on the running cluster's network (`index` > the workers': its address and pod range),
   * booted but not joined: whoever runs it joins it (a cattle instance's user data). `more` adds to its options.
   */
  async addNode(name: string, index: number, more: Partial<RealNodeOptions> = {}): Promise<RealNode> {
    if (this.built === undefined) throw new Error("the real cluster is not started");
    const imageNames = Object.keys(this.built.images.archives).filter((n) => /\/(pause|kube-proxy|stubborn):/.test(n));
    return this.startNode(name, index, this.built.binaries, this.built.images, imageNames, "worker", more);
  }

  /** Stops a node of the cluster (kubelet, runtime, containers, mounts, cgroups, root) and removes its network. */
  async removeNode(node: RealNode): Promise<void> {
    const i = this.nodes.indexOf(node);
    if (i < 0) throw new Error(`node ${node.name} is not in this cluster`);
    try {
      await node.stop();
    } finally {
      this.nodes.splice(i, 1);
      const n = this.networks.findIndex((x) => x === node.options.network);
      const [network] = n >= 0 ? this.networks.splice(n, 1) : [];
      if (network) await deleteNodeNetwork(network);
    }
  }

  private cgroupRoot(name: string): string {
    return `/khr${this.id}-${name}`;
  }

  private startNode(name: string, index: number, binaries: KubernetesNodeBinaries, images: NodeImages, imageNames: string[], role: "control-plane" | "worker", more: Partial<RealNodeOptions> = {}): Promise<RealNode> {
    const starting = this.bootNode(name, index, binaries, images, imageNames, role, more);
    this.starting.push(starting);
    return starting;
  }

  /** A node and its network; whatever is made after a stop began is taken down again here. */
  private async bootNode(name: string, index: number, binaries: KubernetesNodeBinaries, images: NodeImages, imageNames: string[], role: "control-plane" | "worker", more: Partial<RealNodeOptions>): Promise<RealNode> {
    const stoppedWhileStarting = new Error("the real cluster was stopped while it started");
    if (this.network === undefined || this.stopped) throw stoppedWhileStarting;
    const network = await createNodeNetwork(this.network, name, index);
    if (this.stopped) {
      await deleteNodeNetwork(network);
      throw stoppedWhileStarting;
    }
    this.networks.push(network);
    const p = this.options.packages;
    const packages = p && { repository: p.repository, sources: p.sources, pins: role === "control-plane" ? p.controlPlanePins : p.workerPins };
    const moreImages = (this.options.moreImages ?? []).map((m) => ({
      ...m,
      archives: Object.fromEntries(Object.entries(m.archives).filter(([n]) => role === "control-plane" || /\/(pause|kube-proxy):/.test(n))),
    }));
    const node = await RealNode.start({
      name, index, network, binaries, images, imageNames, cgroupRoot: this.cgroupRoot(name), logDir: this.options.dir, packages, sshKey: this.options.sshKey, moreImages,
      ...more,
    });
    if (this.stopped) {
      await node.stop();
      throw stoppedWhileStarting;
    }
    this.nodes.push(node);
    return node;
  }

  /** What of this cluster is still on the machine: namespaces, host interfaces, cgroups, node processes. */
  async leftovers(): Promise<string[]> {
    const left = await leftoverNetworks(this.id);
    for (const c of readdirSync(CGROUP_V1)) {
      try {
        for (const d of readdirSync(join(CGROUP_V1, c))) if (d.startsWith(`khr${this.id}-`)) left.push(join(CGROUP_V1, c, d));
      } catch {
        /* not a directory */
      }
    }
    const roots = this.nodes.map((n) => n.root.dir);
    for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        const root = readlinkSync(`/proc/${p}/root`);
        if (roots.some((r) => root.startsWith(r))) left.push(`process ${p} (root ${root})`);
      } catch {
        /* gone */
      }
    }
    const mounts = readFileSync("/proc/self/mounts", "utf8");
    for (const r of roots) if (mounts.includes(r)) left.push(`mounts under ${r}`);
    return left;
  }

  /** Stops every node and the network; throws naming whatever is still there afterwards. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled(this.starting);
    const errors: string[] = [];
    for (const n of [...this.nodes].reverse()) await n.stop().catch((e: unknown) => errors.push(String(e)));
    for (const n of this.networks) await deleteNodeNetwork(n);
    if (this.network) await deleteClusterNetwork(this.network);
    const left = await this.leftovers();
    if (errors.length > 0 || left.length > 0) throw new Error(`the real cluster left: ${[...errors, ...left].join("; ")}`);
  }
}
