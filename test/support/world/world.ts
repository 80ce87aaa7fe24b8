/**
 * One scenario's world: a real control plane (test/support/control-plane), pets nodes as Debian roots served by real sshd
 * on their own loopback addresses (test/support/ssh-nodes), each with a stand-in kubelet that reports to the real API
 * what it runs, optionally a fake cloud for cattle pools, workloads, and a stack of kubeherd's own program.
 * The nodes start as a cluster that runs the scenario's first pins: packages installed and held, joined, the
 * Node registered with the kubelet and runtime those pins give.
 */
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { join } from "node:path";
import { configSchema, type KubeherdConfig } from "../../../components/config/schema";
import { clientFromKubeconfig } from "../../../components/kube/api-client";
import type { KubeClient } from "../../../components/kube/client";
import { pinList } from "../../../components/versions/pins";
import type { UbuntuRelease } from "../../../components/versions/ubuntu";
import { ensurePulumiCli } from "../../toolchain/pulumi-cli";
import { makeJoined } from "../node-root/scenario";
import { LOCAL_SOURCES } from "../debian/repository";
import { FakeCloud, type Instance } from "../cloud/cloud";
import { startControlPlane, type ControlPlane } from "../control-plane/control-plane";
import { registerKwokNode } from "../control-plane/kwok-nodes";
import { osImageOf, startKubeletAgent, statusOf, type KubeletAgent } from "../ssh-nodes/kubelet-agent";
import { makeClientKey, startSshNode, type ClientKey, type SshNode } from "../ssh-nodes/ssh-node";
import { limitSudo } from "../ssh-nodes/least-sudo";
import { LocalStack, type KilledUp } from "../local-stack/local-stack";
import { installAwsCli } from "../cloud/aws-cli";
import { runCli, type CliRun } from "./live-world";
import type { UpReport } from "../local-stack/up";
import { REPO_DIR } from "../fixtures/stackfiles";
import { createFromManifest, kubeconfigFor, serviceAccountToken } from "./live-world";
import { readFileSync, writeFileSync } from "node:fs";
import { readDeployment, type PendingOperation, type StateResource } from "../../../components/recover/state";
import { ApiRecorder } from "./recorder";
import { stackFile, type PoolSpec, type StackFile } from "./stack-config";
import { Workloads } from "./workloads";

export interface PetsPoolSpec {
  name: string;
  role: "control-plane" | "worker";
  nodes: string[];
  rollout?: Record<string, unknown>;
}

export interface CattlePoolSpec {
  name: string;
  size: number;
  /** Subnet ids; each is its own zone of the fake cloud. */
  subnets: string[];
  rollout?: Record<string, unknown>;
}

export interface WorldOptions {
  stack: string;
  release: UbuntuRelease;
  /** The pins the cluster runs when the scenario starts (the stack's first `up` adopts them). */
  versions: Record<string, string>;
  /** The legacy mirror (one line for all minors, `-00` pins) instead of one line per minor. */
  legacy?: boolean;
  pets: PetsPoolSpec[];
  cattle?: CattlePoolSpec[];
  /** `converge`: the SSH user may run only the converge runner under sudo (sudoers/kubeherd), and the stack's pets
   *  pools set `ssh.sudo: converge`. @default the image's NOPASSWD:ALL and `sudo -n bash -c` */
  sudo?: "converge";
  /** Lays what the node's own history left on it (kubeadm's flags file, say), after it joined. */
  prepare?: (node: SshNode) => void;
  log?: (line: string) => void;
}

/** A resource of the stack's checkpoint, with the engine's bookkeeping. */
export interface CheckpointResource extends StateResource {
  created?: string;
  modified?: string;
  /** The old copy of a replaced resource, deleted at the end of the update. */
  delete?: boolean;
}

/** What one `up` did, as the API showed it. */
export interface UpRecord {
  report: UpReport;
  record: ApiRecorder;
}

const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

/** The CRI endpoint kubeadm gives a node on these pins: cri-dockerd, dockershim (empty: the kubelet's built-in) or containerd. */
export function runtimeEndpoint(pins: Record<string, string>): string {
  if (pins["cri-dockerd"]) return "unix:///var/run/cri-dockerd.sock";
  if (pins["docker-ce"]) return "";
  return "unix:///run/containerd/containerd.sock";
}

export class World {
  readonly nodes = new Map<string, SshNode>();
  readonly client: KubeClient;
  readonly workloads: Workloads;
  private readonly core: CoreV1Api;
  private readonly agents: KubeletAgent[] = [];
  private stack?: LocalStack;
  private cloudUrl?: string;
  /** The kubeconfig `pulumi up` runs with (the rollout ServiceAccount's), which a user's `npm run recover` uses too. */
  private rolloutConfig = "";
  cloud?: FakeCloud;

  private constructor(readonly cp: ControlPlane, readonly options: WorldOptions, readonly key: ClientKey) {
    this.client = clientFromKubeconfig(cp.kubeconfig);
    this.workloads = new Workloads(cp.kubeconfig);
    const kc = new KubeConfig();
    kc.loadFromString(cp.kubeconfig);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Starts everything; on any failure stops what was started and rethrows. */
  static async start(options: WorldOptions): Promise<World> {
    const cp = await startControlPlane({ log: options.log });
    const world = new World(cp, options, await makeClientKey());
    try {
      await world.startNodes();
      if (options.cattle?.length) await world.startCloud();
      const cli = await ensurePulumiCli();
      world.stack = new LocalStack({
        cliRoot: cli.root,
        stack: options.stack,
        tier: "e2e",
        secrets: { "kubeherd:kubeconfig": (world.rolloutConfig = await world.rolloutKubeconfig()), "kubeherd:sshPrivateKey": world.key.privateKey },
        cloudUrl: world.cloudUrl,
      });
      await world.workloads.namespace();
      return world;
    } catch (err) {
      await world.stop();
      throw err;
    }
  }

  /**
   * What `pulumi up` runs with, as README advises: not the admin kubeconfig but a ServiceAccount bound to
   * rbac/kubeherd-rollout.yaml, the least the rollout needs (the hooks ask for each right before the first cordon).
   */
  private async rolloutKubeconfig(): Promise<string> {
    const kc = new KubeConfig();
    kc.loadFromString(this.cp.kubeconfig);
    await createFromManifest(kc, join(REPO_DIR, "rbac/kubeherd-rollout.yaml"));
    return kubeconfigFor(this.cp.server, this.cp.caCertPem, { token: await serviceAccountToken(kc, "kube-system", "kubeherd-rollout") });
  }

  /** The config the stack file describes, parsed as the program parses it. */
  config(versions: Record<string, unknown>): KubeherdConfig {
    const file = this.stackFile(versions);
    const get = (k: string) => file[`kubeherd:${k}`];
    return configSchema.parse({ cluster: get("cluster"), versions: get("versions"), repositories: get("repositories"), os: get("os"), pools: get("pools") });
  }

  stackFile(versions: Record<string, unknown>, rollout: Record<string, Record<string, unknown>> = {}, repositories?: Record<string, string>): StackFile {
    const pools: PoolSpec[] = [
      ...this.options.pets.map((p) => ({
        name: p.name, role: p.role, mode: "pets" as const,
        hosts: p.nodes.map((n) => {
          const node = this.node(n);
          return { name: n, host: node.host, port: node.port, hostKey: node.hostKey };
        }),
        rollout: { ...p.rollout, ...rollout[p.name] },
      })),
      ...(this.options.cattle ?? []).map((c) => ({
        name: c.name, role: "worker" as const, mode: "cattle" as const, size: c.size, subnets: c.subnets, rollout: { ...c.rollout, ...rollout[c.name] },
      })),
    ];
    return stackFile({ cluster: { endpoint: this.cp.endpoint, caCertHash: this.cp.caCertHash }, versions, release: this.options.release, pools, legacy: this.options.legacy, repositories, sudo: this.options.sudo });
  }

  node(name: string): SshNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name} in this world`);
    return n;
  }

  /** A real `pulumi up` of the stack at these pins, with the API recorded from before it starts until it ends. */
  async up(versions: Record<string, unknown>, rollout: Record<string, Record<string, unknown>> = {}, repositories?: Record<string, string>): Promise<UpRecord> {
    if (!this.stack) throw new Error("the world has no stack");
    const record = new ApiRecorder(this.client);
    await record.start();
    try {
      const report = await this.stack.up(this.stackFile(versions, rollout, repositories));
      await this.cloud?.settled();
      return { report, record };
    } finally {
      record.stop();
      record.save(join(this.stack.dir, `api-${this.stack.count}.jsonl`));
    }
  }

  /**
   * A real `pulumi up` of the stack at these pins, killed outright (SIGKILL of the program, the CLI and the plugins;
   * local-stack/kill.ts) once `moment` resolves, with the API recorded from before it starts until it is dead.
   */
  async upKilled(versions: Record<string, string>, moment: (signal: AbortSignal, record: ApiRecorder) => Promise<void>): Promise<{ killed: KilledUp; record: ApiRecorder }> {
    if (!this.stack) throw new Error("the world has no stack");
    const record = new ApiRecorder(this.client);
    await record.start();
    try {
      return { killed: await this.stack.upKilled(this.stackFile(versions), (signal) => moment(signal, record)), record };
    } finally {
      record.stop();
      record.save(join(this.stack.dir, `api-${this.stack.count}.jsonl`));
    }
  }

  /**
   * `npm run recover -- --stack NAME` as a user runs it after a killed `up`: in the project directory, with the
   * stack's backend and passphrase in the environment, the `pulumi` CLI (and the `aws` CLI's stand-in, for the
   * fake cloud) on PATH, and the kubeconfig `pulumi up` uses. The API is recorded while it runs.
   */
  async recover(): Promise<CliRun & { record: ApiRecorder }> {
    const stack = this.stack;
    if (!stack) throw new Error("the world has no stack");
    const kubeconfig = join(stack.dir, "rollout.kubeconfig");
    writeFileSync(kubeconfig, this.rolloutConfig, { mode: 0o600 });
    const awsDir = join(stack.dir, "aws-cli");
    if (this.cloudUrl) installAwsCli(awsDir, this.cloudUrl);
    const env = { ...stack.env };
    env.PATH = `${awsDir}:${env.PATH}`;
    const record = new ApiRecorder(this.client);
    await record.start();
    try {
      const run = await runCli("recover.ts", ["--stack", this.options.stack, "--kubeconfig", kubeconfig], stack.projectDir, 300_000, env);
      writeFileSync(join(stack.dir, `recover-${stack.count}.log`), `exit ${run.code}\n${run.stdout}\n${run.stderr}\n`);
      return { ...run, record };
    } finally {
      record.stop();
    }
  }

  /**
   * The stack's state as the file backend holds it now, read from its checkpoint file rather than with `pulumi
   * stack export` (which a running `up`'s lock would not stop, but which is a whole CLI run per look): the backend
   * writes the file whole at the begin and at the end of every step. Undefined before the first `up`, or when the
   * file is caught being replaced.
   */
  checkpoint(): { resources: CheckpointResource[]; pending: PendingOperation[] } | undefined {
    if (!this.stack) throw new Error("the world has no stack");
    const file = this.stack.checkpointFile();
    if (!file) return undefined;
    let latest: { resources?: Record<string, unknown>[] };
    try {
      latest = (JSON.parse(readFileSync(file, "utf8")) as { checkpoint?: { latest?: typeof latest } }).checkpoint?.latest ?? {};
    } catch {
      return undefined;
    }
    const { resources, pending } = readDeployment({ deployment: latest });
    const raw = latest.resources ?? [];
    return {
      resources: resources.map((r, i) => ({
        ...r,
        created: typeof raw[i].created === "string" ? raw[i].created : undefined,
        modified: typeof raw[i].modified === "string" ? raw[i].modified : undefined,
        delete: raw[i].delete === true,
      })),
      pending,
    };
  }

  private async startNodes(): Promise<void> {
    const { options } = this;
    const config = configSchema.parse({
      cluster: { name: "e2e", endpoint: this.cp.endpoint, caCertHash: this.cp.caCertHash },
      versions: options.versions,
      repositories: { kubernetes: options.legacy ? LOCAL_SOURCES.legacyKubernetes : LOCAL_SOURCES.kubernetes, docker: LOCAL_SOURCES.docker },
      os: { release: options.release },
      pools: [{ name: "any", role: "worker", mode: "pets", nodes: [{ name: "x", host: "127.0.0.1", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKcp1" }], ssh: {} }],
    });
    const pins = Object.fromEntries(pinList(config.versions));
    const minor = options.versions.kubernetes.split(".").slice(0, 2).join(".");
    const sources = [(options.legacy ? LOCAL_SOURCES.legacyKubernetes : LOCAL_SOURCES.kubernetes).replace("{minor}", minor), LOCAL_SOURCES.docker];
    let address = 10;
    for (const pool of options.pets) {
      for (const [i, name] of pool.nodes.entries()) {
        // 127.1.<pid>.x: runs of the tier in two processes at once never share an address.
        const node = await startSshNode({ name, address: `127.1.${process.pid % 250}.${address++}`, release: options.release, clientKey: this.key });
        if (options.sudo === "converge") await limitSudo(node.root);
        this.nodes.set(name, node);
        await node.root.seed(pins, sources);
        const controlPlane = pool.role === "control-plane";
        makeJoined(node.root, controlPlane && i === 0 ? `v${options.versions.kubernetes}` : undefined);
        options.prepare?.(node);
        node.root.clearCalls();
        await this.register(name, pins, controlPlane, osImageOf(node.root));
        this.agents.push(await startKubeletAgent({ kubeconfig: this.cp.kubeconfig, nodeName: name, node, log: options.log }));
      }
    }
  }

  /** Registers a Node as kubeadm left it: the kubelet and runtime the pins give, the CRI socket annotation. */
  private async register(name: string, pins: Record<string, string>, controlPlane: boolean, osImage: string, extra: { providerID?: string; labels?: Record<string, string> } = {}): Promise<void> {
    const endpoint = runtimeEndpoint(pins);
    const status = statusOf({
      seq: 0, state: "running", kubelet: pins.kubelet ?? "", endpoint,
      "docker-ce": pins["docker-ce"] ?? "", "containerd.io": pins["containerd.io"] ?? "", "cri-dockerd": pins["cri-dockerd"] ?? "",
    });
    if (!status.ready) throw new Error(`node ${name} cannot start on these pins: ${status.reason}`);
    await registerKwokNode(this.cp.kubeconfig, {
      name,
      kubeletVersion: status.kubeletVersion,
      containerRuntimeVersion: status.containerRuntimeVersion,
      labels: { ...(controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}), ...extra.labels },
      annotations: { "kubeadm.alpha.kubernetes.io/cri-socket": endpoint || "/var/run/dockershim.sock" },
      providerID: extra.providerID,
    });
    // What the kubelet reads from the node's os-release; kubeherd adopts a node only on its pinned release.
    await this.core.patchNodeStatus({ name, body: { status: { nodeInfo: { osImage } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    if (controlPlane) await this.client.patchNode(name, { spec: { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] } });
  }

  private async startCloud(): Promise<void> {
    const subnets = [...new Set((this.options.cattle ?? []).flatMap((c) => c.subnets))];
    this.cloud = new FakeCloud({
      region: "eu-west-1",
      release: this.options.release,
      zones: Object.fromEntries(subnets.map((s, i) => [s, ZONES[i % ZONES.length]])),
      onJoined: (i) => this.joined(i),
      onTerminated: (i) => this.terminated(i),
    });
    this.cloudUrl = await this.cloud.start();
  }

  /** A cattle instance's `kubeadm join` ran: its kubelet registers the Node with what the boot installed. */
  private async joined(instance: Instance): Promise<void> {
    const root = instance.root;
    if (!root) return;
    const pins = root.versions(["kubelet", "docker-ce", "containerd.io", "cri-dockerd"]);
    await this.register(instance.privateDns, pins, false, osImageOf(root), { providerID: `aws:///${instance.zone}/${instance.id}` });
  }

  /** A terminated instance's kubelet is gone: KWOK no longer keeps its Node, which goes NotReady. */
  private async terminated(instance: Instance): Promise<void> {
    const node = await this.client.get("nodes", instance.privateDns);
    if (!node) return;
    await this.client.patchNode(instance.privateDns, { metadata: { annotations: { "kwok.x-k8s.io/node": null } } });
  }

  async stop(): Promise<void> {
    for (const a of this.agents.splice(0)) a.stop();
    await this.cloud?.stop();
    for (const n of this.nodes.values()) await n.stop();
    this.stack?.remove();
    await this.cp.stop();
  }
}
