/**
 * The engine tier's world: kubeherd's own program (index.ts) on a LocalStack, over the stand-in provider plugins in
 * their logging backends, with the REAL hooks (components/hooks.ts) against the in-process Kubernetes API. Nothing
 * runs on any machine; every node action lands in the stack's log as `<node>:<event>` (engine-log.ts reads it):
 *
 * | event                         | written when                                                                    |
 * |-------------------------------|---------------------------------------------------------------------------------|
 * | `launch`, `terminate`         | the aws stand-in's RunInstances / TerminateInstances reach the fake cloud (test/support/cloud/cloud.ts, `machines`) |
 * | `run`, `update`, `retire`     | the command stand-in's create / update / delete reach the hosts here (`$KUBEHERD_STANDIN_HOSTS`, providers/command.ts) |
 * | `drain`                       | the drain hook lists the node's pods to evict them (after its cordon; the first such list of a node in an update) |
 * | `ready`                       | the ready hook records `KubeherdJoined` / `KubeherdConverged`: it saw the node Ready on its pins |
 * | `forget`                      | the forget hook deletes the Node                                                |
 *
 * Each machine action waits `stepMs` (ACTION_MS unless set) after logging, so actions the engine runs at once interleave in the log. The
 * launch templates, SSM parameters, KMS key and IAM records are the fake cloud's; the bootstrap-token Secrets are
 * records of the kubernetes stand-in (`$KUBEHERD_STANDIN_KUBERNETES=records`); random strings are drawn as always.
 *
 * The kubelets are played here: a pets host's Node is registered before its first update, not yet on any pins and
 * not yet rolled by kubeherd (so it is drained, not adopted); after its converge command runs, its kubelet reports
 * Ready on the pool's pins (components/rollout/nodes.ts `nodeExpectations` of the config being deployed); a launched
 * instance registers its Node (named after its private DNS name, with its providerID and address) Ready on the pins;
 * a terminated one goes NotReady. Faults come from the API side: a PodDisruptionBudget that allows no disruption of a
 * pod on the node (its drain fails at `drainTimeoutSeconds`), a kubelet that never reports Ready (its ready hook fails
 * at `readyTimeoutSeconds`). The stack's config sets every pool's rollout deadlines to the schema's minimum (10 s), so
 * a fault fails fast; a fault holds for the update it is given to, and is lifted after it as an operator would (the
 * budget deleted, the kubelet fixed).
 */
import { appendFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeherdConfig } from "../../../components/config/schema";
import { secretKeysOf } from "../../../components/config/load";
import { nodeExpectations, petsNodes, type NodeExpectations } from "../../../components/rollout/nodes";
import { FakeCloud, type Instance } from "../cloud/cloud";
import { FakeApiServer } from "../kube-api/fake-api-server";
import type { HostCall } from "../providers/command";
import { LocalStack, type UpOutcome } from "./local-stack";
import type { WallClock } from "./up";

/**
 * Every machine action waits this long after logging, so actions the engine runs concurrently interleave in the log:
 * 150 ms, or `KUBEHERD_ENGINE_ACTION_MS` (the bench's rollout figure takes longer steps, nearer a real node's).
 */
export const ACTION_MS = actionMs(process.env.KUBEHERD_ENGINE_ACTION_MS);

export function actionMs(value: string | undefined): number {
  if (value === undefined) return 150;
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new Error(`KUBEHERD_ENGINE_ACTION_MS: ${JSON.stringify(value)} is not a whole number of milliseconds from 1`);
  return Number(value);
}

/** Faults for one update, by plan node name (`workers-1`, `cp-1`). */
export interface EngineFaults {
  /** A pod on the node whose PodDisruptionBudget allows no disruption: the drain fails at its deadline. */
  drainBlocked?: string[];
  /** The node's kubelet never reports Ready after its launch or converge: the ready hook fails at its deadline. */
  neverReady?: string[];
}

export interface EngineUpOptions {
  /** `pulumi up --parallel`; the CLI's default when undefined. */
  parallel?: number;
  /** The program's wall clock for maintenance windows (see up.ts). */
  clock?: WallClock;
  faults?: EngineFaults;
  /** A copy of the project to run instead of this checkout (see up.ts). */
  programDir?: string;
}

/** The rollout deadlines the stack's config sets: the schema's minimum, so a fault fails within seconds. */
export const ENGINE_DEADLINES = { drainTimeoutSeconds: 10, readyTimeoutSeconds: 10, workloadTimeoutSeconds: 10 };

/** A pets host's kubelet before kubeherd's first update: on no pins any config here has, and not rolled by kubeherd. */
const UNROLLED_KUBELET = "v1.12.10";
const FAULTS_NS = "engine-faults";
const ZONES = ["a", "b", "c"];

/** The stack config index.ts reads (`kubeherd:<key>` per top-level key, `aws:region`), with ENGINE_DEADLINES. */
export function engineStackConfig(config: KubeherdConfig, region: string): Record<string, unknown> {
  const pools = config.pools.map((pool) => ({ ...pool, rollout: { ...pool.rollout, ...ENGINE_DEADLINES } }));
  const entries = Object.entries({ ...config, pools }).filter(([, v]) => v !== undefined);
  return { "aws:region": region, ...Object.fromEntries(entries.map(([k, v]) => [`kubeherd:${k}`, v])) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class EngineWorld {
  readonly stack: LocalStack;
  /** How long each machine action takes (the bench sets longer steps between updates). */
  stepMs = ACTION_MS;
  /** The config of the update under way: the kubelets come up on its pins. */
  private target?: KubeherdConfig;
  private faults: EngineFaults = {};
  /** Kubernetes node name ↔ plan node name. */
  private readonly planName = new Map<string, string>();
  private readonly kubeName = new Map<string, string>();
  /** Pets hosts (address) → plan node name, over every config deployed. */
  private readonly hosts = new Map<string, string>();
  /** Nodes whose drain has been logged in the update under way. */
  private drained = new Set<string>();

  private constructor(
    readonly api: FakeApiServer,
    private readonly cloud: FakeCloud,
    private readonly hostServer: Server,
    /** Subnet → zone, the fake cloud's (filled in per config deployed). */
    private readonly zones: Record<string, string>,
    urls: { cloud: string; hosts: string },
    options: { cliRoot: string; stack: string },
  ) {
    this.stack = new LocalStack({
      cliRoot: options.cliRoot,
      stack: options.stack,
      tier: "engine",
      cloudUrl: urls.cloud,
      secrets: SECRETS(api.kubeconfig),
      pluginEnv: { KUBEHERD_STANDIN_HOSTS: urls.hosts, KUBEHERD_STANDIN_KUBERNETES: "records" },
    });
    api.onRequest = (request) => this.observe(request);
  }

  static async start(options: { cliRoot: string; stack: string }): Promise<EngineWorld> {
    const api = await FakeApiServer.start();
    const zones: Record<string, string> = {};
    // The cloud's machines and the hosts answer through the world, made once their addresses are known.
    const made: { world?: EngineWorld } = {};
    const world = () => {
      if (!made.world) throw new Error("engine world: not started yet");
      return made.world;
    };
    const cloud = new FakeCloud({
      region: "eu-west-1",
      release: "22.04",
      zones,
      onJoined: async () => undefined,
      onTerminated: async () => undefined,
      machines: { launch: (i) => world().launch(i), terminate: (i) => world().terminate(i) },
    });
    const cloudUrl = await cloud.start();
    const hostServer = createServer((req, res) => {
      readJson<HostCall>(req)
        .then((call) => world().command(call))
        .then(
          () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ stdout: "", stderr: "" })),
          (err: unknown) => res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) })),
        );
    });
    await new Promise<void>((resolve) => hostServer.listen(0, "127.0.0.1", resolve));
    const hostsUrl = `http://127.0.0.1:${(hostServer.address() as AddressInfo).port}`;
    made.world = new EngineWorld(api, cloud, hostServer, zones, { cloud: cloudUrl, hosts: hostsUrl }, options);
    return made.world;
  }

  /** A real `pulumi up` of index.ts with `config`; a failed update is returned, not thrown. */
  async up(config: KubeherdConfig, region: string, options: EngineUpOptions = {}): Promise<UpOutcome> {
    this.target = config;
    this.drained = new Set();
    this.prepare(config, region);
    this.faults = options.faults ?? {};
    for (const node of this.faults.drainBlocked ?? []) this.blockDrain(node);
    const secrets = SECRETS("");
    const missing = secretKeysOf(config).filter((key) => !(`kubeherd:${key}` in secrets));
    if (missing.length) throw new Error(`engine world: the stack has no secret ${missing.join(", ")} (it sets ${Object.keys(secrets).join(", ")})`);
    try {
      return await this.stack.up(engineStackConfig(config, region), { parallel: options.parallel, clock: options.clock, programDir: options.programDir });
    } finally {
      this.liftFaults();
    }
  }

  async stop(): Promise<void> {
    await this.cloud.stop();
    await new Promise<void>((resolve) => {
      this.hostServer.closeAllConnections();
      this.hostServer.close(() => resolve());
    });
    await this.api.close();
    this.stack.remove();
  }

  private log(node: string, event: string): void {
    appendFileSync(this.stack.logPath, `${node}:${event}\n`);
  }

  /** Zones for the config's subnets; a Node for each pets host not registered yet. */
  private prepare(config: KubeherdConfig, region: string): void {
    for (const pool of config.pools) {
      if (pool.mode === "cattle") {
        pool.subnets.forEach((subnet) => (this.zones[subnet] ??= `${region}${ZONES[Object.keys(this.zones).length % ZONES.length]}`));
        continue;
      }
      for (const node of petsNodes(config, pool)) {
        if (node.host) this.hosts.set(node.host, node.node);
        if (this.kubeName.has(node.node)) continue;
        this.remember(node.node, node.node);
        const expect = nodeExpectations(config, pool);
        this.api.cluster.addNode(node.node, { kubeletVersion: UNROLLED_KUBELET, runtime: runtimeOf(expect), osImage: `Ubuntu ${config.os.release} LTS` });
      }
    }
  }

  private remember(kube: string, plan: string): void {
    this.planName.set(kube, plan);
    this.kubeName.set(plan, kube);
  }

  private expectations(pool: string): NodeExpectations {
    if (!this.target) throw new Error("engine world: no update under way");
    return nodeExpectations(this.target, pool);
  }

  /** RunInstances: the instance's kubelet registers its Node on the pool's pins (NotReady for a `neverReady` node). */
  private async launch(instance: Instance): Promise<void> {
    const node = instance.tags["kubeherd:node"];
    const pool = instance.tags["kubeherd:pool"];
    if (!node || !pool) throw new Error(`instance ${instance.id} has no kubeherd:node or kubeherd:pool tag`);
    this.log(node, "launch");
    await sleep(this.stepMs);
    const expect = this.expectations(pool);
    this.remember(instance.privateDns, node);
    this.api.cluster.addNode(instance.privateDns, {
      ready: !(this.faults.neverReady ?? []).includes(node),
      kubeletVersion: `v${expect.kubeletVersion}`,
      runtime: runtimeOf(expect),
      providerID: `aws:///${instance.zone}/${instance.id}`,
      internalIP: instance.privateIp,
      osImage: `Ubuntu ${this.target?.os.release ?? ""} LTS`,
    });
  }

  /** TerminateInstances: the instance's kubelet is gone, its Node (until the forget hook deletes it) NotReady. */
  private async terminate(instance: Instance): Promise<void> {
    this.log(instance.tags["kubeherd:node"] ?? instance.id, "terminate");
    await sleep(this.stepMs);
    if (this.api.cluster.get("nodes", instance.privateDns)) this.api.cluster.setNodeStatus(instance.privateDns, { ready: false, reason: "NodeStatusUnknown" });
  }

  /** A pets host's command: its converge (create) restarts the kubelet on the pool's pins. */
  private async command(call: HostCall): Promise<void> {
    const node = this.hosts.get(call.host);
    if (!node) throw new Error(`no pets host at ${call.host}`);
    this.log(node, call.op === "create" ? "run" : call.op === "update" ? "update" : "retire");
    await sleep(this.stepMs);
    if (call.op !== "create") return;
    const pool = this.target?.pools.find((p) => p.mode === "pets" && petsNodes(this.target!, p).some((n) => n.node === node));
    if (!pool) throw new Error(`${node} is in no pets pool of the config deployed`);
    const expect = this.expectations(pool.name);
    const kube = this.kubeName.get(node) ?? node;
    const current = this.api.cluster.get("nodes", kube);
    if (!current) throw new Error(`no Node ${kube}`);
    current.status!.nodeInfo!.kubeletVersion = `v${expect.kubeletVersion}`;
    current.status!.nodeInfo!.containerRuntimeVersion = runtimeOf(expect);
    this.api.cluster.put("nodes", current);
    this.api.cluster.setNodeStatus(kube, { ready: !(this.faults.neverReady ?? []).includes(node) });
  }

  /** What the hooks did, from their requests: a drain's listing of the node's pods, a ready event, a Node delete. */
  private observe(request: { method: string; path: string; query: Record<string, string>; body: string }): void {
    const { method, path, query } = request;
    const onNode = /^spec\.nodeName=(.+)$/.exec(query.fieldSelector ?? "");
    if (method === "GET" && path === "/api/v1/pods" && query.watch !== "true" && onNode) {
      const node = this.planName.get(onNode[1]) ?? onNode[1];
      if (!this.drained.has(node)) {
        this.drained.add(node);
        this.log(node, "drain");
      }
      return;
    }
    if (method === "POST" && /^\/api\/v1\/namespaces\/[^/]+\/events$/.test(path)) {
      const event = JSON.parse(request.body) as { reason?: string; involvedObject?: { name?: string } };
      const kube = event.involvedObject?.name ?? "";
      if (event.reason === "KubeherdJoined" || event.reason === "KubeherdConverged") this.log(this.planName.get(kube) ?? kube, "ready");
      return;
    }
    const deleted = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path);
    if (method === "DELETE" && deleted) this.log(this.planName.get(deleted[1]) ?? deleted[1], "forget");
  }

  /** A Deployment's one pod on the node, and a budget that allows no disruption of it. */
  private blockDrain(node: string): void {
    const kube = this.kubeName.get(node);
    if (!kube) throw new Error(`engine world: ${node} has no Node to block the drain of`);
    const { labels } = this.api.cluster.addDeployment(FAULTS_NS, `pinned-${node}`, [kube]);
    this.api.cluster.addPdb(FAULTS_NS, `pinned-${node}`, { matchLabels: labels }, { minAvailable: 1 });
  }

  /** After the update: the budgets deleted, the kubelets that stayed NotReady fixed. */
  private liftFaults(): void {
    for (const node of this.faults.drainBlocked ?? []) this.api.cluster.remove("poddisruptionbudgets", `pinned-${node}`, FAULTS_NS);
    for (const node of this.faults.neverReady ?? []) {
      const kube = this.kubeName.get(node);
      if (kube && this.api.cluster.get("nodes", kube)) this.api.cluster.setNodeStatus(kube, { ready: true });
    }
    this.faults = {};
  }
}

function runtimeOf(expect: NodeExpectations): string {
  return `${expect.runtime.name}://${expect.runtime.version}`;
}

/** The stack's secrets (the schema's default key names): the in-process API's kubeconfig, and an SSH key no host sees. */
const SECRETS = (kubeconfig: string): Record<string, string> => ({
  "kubeherd:kubeconfig": kubeconfig,
  "kubeherd:sshPrivateKey": "engine tier: no host is reached (the command stand-in hands its commands to the harness)",
});

function readJson<T>(req: IncomingMessage): Promise<T> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as T);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    req.on("error", reject);
  });
}
