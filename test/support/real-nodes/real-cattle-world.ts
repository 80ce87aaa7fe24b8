/**
 * A cattle world on real nodes (issue 17): a real kubeadm cluster whose control-plane node is a pets pool (as in
 * RealPetsWorld: its programs from the real packages with apt, held, its own sshd), and a cattle worker pool whose
 * instances the fake cloud (cloud.ts, its `machines` backend) launches as real nodes of that cluster: each a RealNode
 * in its own namespaces with nothing of Kubernetes on it, which boots its launch template version's exact user data
 * (runCloudConfig, run in the node): kubeherd's boot script installs the pins with apt from the stack's repository
 * lines, reads the join token from SSM over IMDSv2 and runs the real `kubeadm join`; the real kubelet registers the
 * Node. Terminating an instance stops its node (kubelet, containerd, containers, mounts, cgroups, network namespace).
 *
 * The fake cloud's IMDS and SSM reach a node through a unix socket (unix path sockets cross network namespaces): in
 * each node's network namespace a forwarder (socat, started by the test, killed with the instance) listens on IMDS's
 * own address, 169.254.169.254:80 (on the node's loopback device), and on 127.0.0.1:80 for SSM
 * (KUBEHERD_SSM_ENDPOINT; SSM's https endpoint cannot be served here), both to the socket. Nothing listens on a host
 * address.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { clientFromKubeconfig } from "../../../components/kube/api-client";
import type { KubeClient } from "../../../components/kube/client";
import { ensureKubernetesNode } from "../../toolchain/kubernetes-node";
import { KUBERNETES_VERSION } from "../../toolchain/kubernetes";
import { ensurePulumiCli } from "../../toolchain/pulumi-cli";
import { FakeCloud, type Instance } from "../cloud/cloud";
import { REPO_DIR } from "../fixtures/stackfiles";
import { LocalStack } from "../local-stack/local-stack";
import { runCloudConfig } from "../node-root/cloud-config";
import { run, runOrThrow } from "../node-root/process";
import { makeClientKey, type ClientKey } from "../ssh-nodes/ssh-node";
import { createFromManifest, kubeconfigFor, serviceAccountToken } from "../world/live-world";
import { ApiRecorder } from "../world/recorder";
import { stackFile, type StackFile } from "../world/stack-config";
import type { UpRecord } from "../world/world";
import { Workloads } from "../world/workloads";
import { ensureNodeImages } from "./node-images";
import { caCertHash, RealCluster } from "./real-cluster";
import type { RealNode } from "./real-node";
import { ensureRealRepository, REAL_SOURCES } from "./real-packages";
import { nodePins } from "./real-pets-world";
import { STAMPED_VERSION } from "./real-toolchain";
import { sweepAbandonedRealClusters } from "./sweep";

const RELEASE = "22.04";
const REGION = "eu-west-1";
export const SUBNETS = ["subnet-0e2e0000000000001", "subnet-0e2e0000000000002"];
const ZONES = ["eu-west-1a", "eu-west-1b"];
/** Pool rollout deadlines for real nodes on two busy cores (a real boot installs and joins before its Node is Ready). */
const REAL_ROLLOUT = { drainTimeoutSeconds: 180, readyTimeoutSeconds: 300, workloadTimeoutSeconds: 300 };
/** IMDS's own link-local address, on each node's loopback device. */
const IMDS_ADDRESS = "169.254.169.254";

export interface RealCattleWorldOptions {
  stack: string;
  /** The cattle pool's size. */
  size: number;
  log?: (line: string) => void;
}

/** A running instance's real node, its endpoint forwarders and its boot. */
interface Machine {
  instance: Instance;
  node: RealNode;
  forwarders: ChildProcess[];
  boot?: Promise<void>;
}

export class RealCattleWorld {
  readonly client: KubeClient;
  readonly workloads: Workloads;
  readonly adminKubeconfig: string;
  readonly machines = new Map<string, Machine>();
  /** Every instance's boot outcome and its output, by instance id. */
  readonly boots = new Map<string, { code: number; log: string }>();
  private nextIndex = 2;
  private stack?: LocalStack;
  cloud!: FakeCloud;

  private constructor(
    readonly cluster: RealCluster,
    readonly options: RealCattleWorldOptions,
    readonly dir: string,
    private readonly repository: string,
  ) {
    this.adminKubeconfig = readFileSync(cluster.kubeconfig, "utf8");
    this.client = clientFromKubeconfig(this.adminKubeconfig);
    this.workloads = new Workloads(this.adminKubeconfig);
  }

  /**
   * Builds what is missing (the packages of v1.34.2 and the stamped v1.34.3, the v1.34.3 images for the control
   * plane's upgrade), starts the control-plane node at v1.34.2 from the packages, the fake cloud and the stack.
   */
  static async start(o: RealCattleWorldOptions): Promise<RealCattleWorld> {
    const swept = await sweepAbandonedRealClusters();
    if (swept.length > 0) o.log?.(`removed what killed real clusters left: ${swept.join(", ")}`);
    const from = KUBERNETES_VERSION;
    const repo = await ensureRealRepository([from, STAMPED_VERSION], from);
    const next = await ensureNodeImages(STAMPED_VERSION, await ensureKubernetesNode(STAMPED_VERSION, from));
    const key: ClientKey = await makeClientKey("kubeherd-real-cattle");
    const dir = mkdtempSync(join(tmpdir(), "kubeherd-real-cattle-"));
    const minor = from.replace(/^v/, "").split(".").slice(0, 2).join(".");
    const sources = [REAL_SOURCES.kubernetes.replace("{minor}", minor), REAL_SOURCES.docker.replace("{codename}", "jammy")];
    const cluster = RealCluster.create({
      workers: 0,
      dir,
      version: from,
      say: o.log,
      packages: { repository: repo.dir, sources, controlPlanePins: nodePins(from), workerPins: {} },
      sshKey: key,
      coreDns: true,
      moreImages: [next],
    });
    let world: RealCattleWorld | undefined;
    try {
      await cluster.start();
      world = new RealCattleWorld(cluster, o, dir, repo.dir);
      await world.startCloud();
      const cli = await ensurePulumiCli();
      world.stack = new LocalStack({
        cliRoot: cli.root,
        stack: o.stack,
        tier: "e2e",
        secrets: { "kubeherd:kubeconfig": await rolloutKubeconfig(cluster), "kubeherd:sshPrivateKey": key.privateKey },
        cloudUrl: world.cloudUrl,
      });
      await world.workloads.namespace();
      return world;
    } catch (e) {
      if (world) await world.stop().catch((err: unknown) => o.log?.(`stopping after a failed start: ${String(err)}`));
      else {
        await cluster.stop().catch((err: unknown) => o.log?.(`stopping after a failed start: ${String(err)}`));
        rmSync(dir, { recursive: true, force: true });
      }
      throw e;
    }
  }

  private cloudUrl = "";

  private async startCloud(): Promise<void> {
    this.cloud = new FakeCloud({
      region: REGION,
      release: RELEASE,
      zones: Object.fromEntries(SUBNETS.map((s, i) => [s, ZONES[i % ZONES.length]])),
      // the real kubelet registers the Node, and the forget hook deletes it: nothing to play
      onJoined: async () => undefined,
      onTerminated: async () => undefined,
      awsSocket: join(this.dir, "aws.sock"),
      machines: { launch: (i, userData) => this.launch(i, userData), terminate: (i) => this.terminate(i) },
    });
    this.cloudUrl = await this.cloud.start();
  }

  get controlPlane(): RealNode {
    return this.cluster.controlPlane;
  }

  /** The real node of a running instance, by its Node name. */
  node(name: string): RealNode {
    const m = [...this.machines.values()].find((x) => x.node.name === name);
    if (!m) throw new Error(`no running instance is node ${name}`);
    return m.node;
  }

  /** RunInstances: the instance's node runs (booted, nothing installed) when it answers; its user data runs after. */
  private async launch(instance: Instance, userData: string): Promise<void> {
    const index = this.nextIndex++;
    const address = this.cluster.addressOf(index);
    const name = `ip-${address.replace(/\./g, "-")}`;
    // the instance's own address and DNS name, as EC2 reports them; the node's host name is the short one (Ubuntu's)
    instance.privateIp = address;
    instance.privateDns = `${name}.${REGION}.compute.internal`;
    const node = await this.cluster.addNode(name, index, {
      fromUserData: true,
      sshKey: undefined,
      packages: { repository: this.repository, sources: [], pins: {} },
    });
    const machine: Machine = { instance, node, forwarders: [] };
    this.machines.set(instance.id, machine);
    const ns = node.options.network.ns;
    await runOrThrow("ip", ["-n", ns, "addr", "add", `${IMDS_ADDRESS}/32`, "dev", "lo"]);
    const socket = join(this.dir, "aws.sock");
    for (const listen of [`${IMDS_ADDRESS}`, "127.0.0.1"]) {
      const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", "ip", "netns", "exec", ns, "socat", `TCP-LISTEN:80,bind=${listen},reuseaddr,fork`, `UNIX-CONNECT:${socket}`], {
        stdio: "ignore",
        detached: true,
      });
      machine.forwarders.push(child);
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ss = (await run("ip", ["netns", "exec", ns, "ss", "-Hltn"])).stdout;
      if (ss.includes(`${IMDS_ADDRESS}:80`) && ss.includes("127.0.0.1:80")) break;
      if (Date.now() > deadline) throw new Error(`the IMDS and SSM forwarders of ${instance.id} did not listen: ${ss}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    machine.boot = this.boot(machine, userData);
  }

  /** cloud-init's first boot: the user data's files and runcmd, as root in the node. */
  private async boot(m: Machine, userData: string): Promise<void> {
    const { instance, node } = m;
    const started = Date.now();
    try {
      const outcome = await runCloudConfig(node.root, userData, { KUBEHERD_SSM_ENDPOINT: "http://127.0.0.1", KUBEHERD_SSM_ATTEMPTS: "3" }, (c) => node.sh(c, 600_000));
      const log = `${outcome.stdout}\n${outcome.stderr}`;
      this.boots.set(instance.id, { code: outcome.code, log });
      writeFileSync(join(this.stack?.dir ?? this.dir, `boot-${instance.id}.log`), `exit ${outcome.code}\n${outcome.stdout}\n${outcome.stderr}\n`);
      instance.bootLog = log.slice(-8000);
      if (instance.state === "terminated") return;
      instance.state = outcome.code === 0 ? "joined" : "failed";
      this.options.log?.(`${instance.id} (${node.name}) booted: exit ${outcome.code} after ${Math.round((Date.now() - started) / 1000)} s`);
      if (outcome.code !== 0) this.options.log?.(log.slice(-8000));
    } catch (e) {
      this.boots.set(instance.id, { code: -1, log: String(e) });
      if (instance.state !== "terminated") instance.state = "failed";
    }
  }

  /** TerminateInstances: the node goes (forwarders first, then everything of the node) and its boot with it. */
  private async terminate(instance: Instance): Promise<void> {
    const m = this.machines.get(instance.id);
    if (!m) return;
    this.machines.delete(instance.id);
    killForwarders(m);
    await this.cluster.removeNode(m.node);
    await m.boot;
  }

  /** Every boot started so far has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.machines.values()].map((m) => m.boot));
  }

  stackFile(versions: Record<string, string>): StackFile {
    const cp = this.cluster.controlPlane;
    if (!cp.hostKey) throw new Error(`node ${cp.name} serves no SSH`);
    return stackFile({
      cluster: { endpoint: `${cp.address}:6443`, caCertHash: caCertHash(cp.root.read("/etc/kubernetes/pki/ca.crt")) },
      versions,
      release: RELEASE,
      pools: [
        { name: "control-plane", role: "control-plane", mode: "pets", hosts: [{ name: cp.name, host: cp.address, port: 22, hostKey: cp.hostKey }], rollout: REAL_ROLLOUT },
        { name: "workers", role: "worker", mode: "cattle", size: this.options.size, subnets: SUBNETS, rollout: { strategy: "rolling", ...REAL_ROLLOUT } },
      ],
      repositories: { kubernetes: REAL_SOURCES.kubernetes, docker: REAL_SOURCES.docker },
    });
  }

  /** A real `pulumi up` at these versions, the API recorded from before it starts until it ends and every boot has. */
  async up(versions: Record<string, string>): Promise<UpRecord> {
    if (!this.stack) throw new Error("the world has no stack");
    const record = new ApiRecorder(this.client);
    await record.start();
    try {
      const report = await this.stack.up(this.stackFile(versions));
      await this.settled();
      return { report, record };
    } finally {
      record.stop();
      record.save(join(this.stack.dir, `api-${this.stack.count}.jsonl`));
    }
  }

  /** The instance ids the stack's state holds (`aws:ec2/instance:Instance` resources), from its checkpoint file. */
  stateInstances(): string[] {
    if (!this.stack) throw new Error("the world has no stack");
    const file = this.stack.checkpointFile();
    if (!file) return [];
    const state = JSON.parse(readFileSync(file, "utf8")) as { checkpoint?: { latest?: { resources?: { type: string; id?: string }[] } } };
    return (state.checkpoint?.latest?.resources ?? []).filter((r) => r.type === "aws:ec2/instance:Instance").map((r) => r.id ?? "").sort();
  }

  async stop(): Promise<void> {
    try {
      this.stack?.remove();
      for (const m of this.machines.values()) killForwarders(m);
      await this.cluster.stop();
      await this.settled();
      await this.cloud?.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Kills a machine's forwarders (each socat's process group: it forks one per connection). */
function killForwarders(m: Machine): void {
  for (const f of m.forwarders) {
    if (f.pid === undefined || f.exitCode !== null || f.signalCode !== null) continue;
    try {
      process.kill(-f.pid, "SIGKILL");
    } catch {
      /* gone already */
    }
  }
}

/** What `pulumi up` runs with: a ServiceAccount bound to rbac/kubeherd-rollout.yaml, as README advises. */
async function rolloutKubeconfig(cluster: RealCluster): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  await createFromManifest(kc, join(REPO_DIR, "rbac/kubeherd-rollout.yaml"));
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the admin kubeconfig names no server");
  const ca = cluster.controlPlane.root.read("/etc/kubernetes/pki/ca.crt");
  return kubeconfigFor(server, ca, { token: await serviceAccountToken(kc, "kube-system", "kubeherd-rollout") });
}
