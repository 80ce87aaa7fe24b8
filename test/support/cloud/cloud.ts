/**
 * The end-to-end tier's fake cloud: the API the aws stand-in provider (test/support/providers/aws.ts) calls, on
 * 127.0.0.1, in the test's own process. It keeps KMS keys, IAM roles and profiles, SSM parameters and launch
 * template versions as plain records, and runs instances for real as node roots of the Debian harness: an
 * instance boots by playing its launch template version's exact user data as cloud-init would, with IMDSv2 and
 * SSM (SigV4 checked) served by test/support/cloud/fake-aws.ts from the parameters the stack wrote; once its
 * `kubeadm join` has run, `onJoined` registers its Node. Terminating an instance stops its node (`onTerminated`)
 * and removes its root.
 *
 * Its one backend switch, for the engine tier: with `machines` given, an instance is no node root: RunInstances and
 * TerminateInstances answer once `machines.launch` / `machines.terminate` have (the engine harness logs the action and
 * plays the instance's kubelet), and nothing boots. The real-node cattle world (real-nodes/real-cattle-world.ts)
 * gives machines that are real nodes, each booting the user data `launch` is handed.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import type { UbuntuRelease } from "../../../components/versions/ubuntu";
import { isCall } from "../node-root/call-log";
import { runCloudConfig } from "../node-root/cloud-config";
import { FakeAws } from "./fake-aws";
import { NodeRoot } from "../node-root/node-root";
import type { CloudAnswer, CloudCall } from "../providers/aws";

export interface Instance {
  id: string;
  /** The Kubernetes node name: the private DNS name, as kubeadm names a node after its host. */
  privateDns: string;
  privateIp: string;
  zone: string;
  subnetId: string;
  launchTemplate: { id: string; version: number };
  tags: Record<string, string>;
  root?: NodeRoot;
  state: "pending" | "running" | "joined" | "failed" | "terminated";
  launchedAt: number;
  bootLog?: string;
}

export interface CloudOptions {
  region: string;
  release: UbuntuRelease;
  /** Subnet id → availability zone. */
  zones: Record<string, string>;
  /** Called once an instance's boot has run `kubeadm join`: register its Node. */
  onJoined(instance: Instance): Promise<void>;
  /** Called when an instance is terminated: its kubelet is gone. */
  onTerminated(instance: Instance): Promise<void>;
  machines?: Machines;
  /** Also serve IMDS and SSM on this unix socket: a node in its own network namespace reaches them through it. */
  awsSocket?: string;
}

/** What instances run on instead of node roots (see the header). */
export interface Machines {
  /** Runs the instance; `userData` is its launch template version's user data, unpacked. It may set the
   *  instance's private address and DNS name (the machine's own), which RunInstances then answers. */
  launch(instance: Instance, userData: string): Promise<void>;
  terminate(instance: Instance): Promise<void>;
}

/**
 * Where a test may hold the cloud's answer to the provider (the call has been done in the cloud, the provider has not
 * heard back, so Pulumi has not recorded it): an instance running and booting but RunInstances not answered yet, an
 * instance terminated but TerminateInstances not answered yet. The answer goes once the returned promise resolves.
 */
export interface CloudHolds {
  run?: (instance: Instance) => Promise<void>;
  terminate?: (instance: Instance) => Promise<void>;
}

/** EC2's DescribeInstances and TerminateInstances as the `aws` CLI prints them (`--output json`), for the CLI's stand-in. */
export interface Ec2Request {
  action: "DescribeInstances" | "TerminateInstances";
  region: string;
  /** DescribeInstances: `tag:KEY` and `instance-state-name` filters, each a list of values (any of them matches). */
  filters?: Record<string, string[]>;
  instanceIds?: string[];
}

export interface CloudEvent {
  at: number;
  what: string;
}

/** EC2's name for the state: booting, joined and failed instances all run. */
const stateName = (i: Instance) => (i.state === "terminated" ? "terminated" : i.state === "pending" ? "pending" : "running");

export class FakeCloud {
  readonly events: CloudEvent[] = [];
  /** Every resource operation the aws stand-in forwarded (`aws:ec2/instance:Instance create`), in order: what
   *  iam/provider-actions.json must cover. */
  readonly operations: string[] = [];
  readonly instances = new Map<string, Instance>();
  private readonly parameters: Record<string, string> = {};
  private readonly templates = new Map<string, string[]>();
  private readonly boots = new Set<Promise<void>>();
  private server?: Server;
  private aws?: FakeAws;
  private awsUrl = "";
  private nextIp = 10;
  /** Holds a test has set on the answers (see CloudHolds). */
  holds: CloudHolds = {};

  constructor(private readonly options: CloudOptions) {}

  async start(): Promise<string> {
    this.aws = new FakeAws({ region: this.options.region, parameters: this.parameters });
    this.awsUrl = await this.aws.start();
    if (this.options.awsSocket) await this.aws.listenUnix(this.options.awsSocket);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        let body: CloudCall | undefined;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as CloudCall;
        } catch {
          body = undefined;
        }
        const answer = !body
          ? Promise.reject(new Error("not a cloud call"))
          : req.url === "/ec2" ? this.ec2(body as unknown as Ec2Request) : this.handle(body);
        answer.then(
          (a) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(a)),
          (err: unknown) => res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ id: "", outs: {}, error: err instanceof Error ? err.message : String(err) })),
        );
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Waits for boots under way, stops serving and removes every instance's root. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.boots]);
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.aws?.stop();
    for (const i of this.instances.values()) await i.root?.destroy();
  }

  /** The IMDS and SSM endpoints the instances call, with what they were asked (once started). */
  get endpoints(): FakeAws | undefined {
    return this.aws;
  }

  /** Instances not terminated, in launch order. */
  running(): Instance[] {
    return [...this.instances.values()].filter((i) => i.state !== "terminated");
  }

  /** Resolves when every boot started so far has finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.boots]);
  }

  private record(what: string): void {
    this.events.push({ at: Date.now(), what });
  }

  private async handle(c: CloudCall): Promise<CloudAnswer> {
    this.operations.push(`${c.type} ${c.op}`);
    const arn = (service: string, resource: string) => `arn:aws:${service}:${c.region}:000000000000:${resource}`;
    switch (`${c.type} ${c.op}`) {
      case "aws:kms/key:Key create": {
        const keyId = randomBytes(16).toString("hex");
        return { id: keyId, outs: { keyId, arn: arn("kms", `key/${keyId}`) } };
      }
      case "aws:iam/role:Role create": {
        const name = String(c.inputs.name ?? `${c.name}-${randomBytes(4).toString("hex")}`);
        return { id: name, outs: { name, arn: arn("iam", `role/${name}`), uniqueId: `AROA${randomBytes(8).toString("hex").toUpperCase()}` } };
      }
      case "aws:iam/rolePolicy:RolePolicy create":
        return { id: `${String(c.inputs.role)}:${c.name}`, outs: { name: c.inputs.name ?? c.name } };
      case "aws:iam/instanceProfile:InstanceProfile create": {
        const name = String(c.inputs.name ?? `${c.name}-${randomBytes(4).toString("hex")}`);
        return { id: name, outs: { name, arn: arn("iam", `instance-profile/${name}`) } };
      }
      case "aws:ssm/parameter:Parameter create":
      case "aws:ssm/parameter:Parameter update": {
        const name = String(c.inputs.name);
        this.parameters[name] = String(c.inputs.value);
        this.record(`ssm put ${name}`);
        return { id: name, outs: { arn: arn("ssm", `parameter${name}`), version: 1 } };
      }
      case "aws:ssm/parameter:Parameter delete":
        delete this.parameters[String(c.inputs.name)];
        return { id: c.id ?? "", outs: {} };
      case "aws:ec2/launchTemplate:LaunchTemplate create": {
        const id = `lt-${randomBytes(8).toString("hex").slice(0, 17)}`;
        this.templates.set(id, [String(c.inputs.userData)]);
        this.record(`launch template ${id} v1`);
        return { id, outs: { latestVersion: 1, defaultVersion: 1, arn: arn("ec2", `launch-template/${id}`) } };
      }
      case "aws:ec2/launchTemplate:LaunchTemplate update": {
        const versions = this.templates.get(c.id ?? "");
        if (!versions) throw new Error(`no launch template ${c.id}`);
        versions.push(String(c.inputs.userData));
        this.record(`launch template ${c.id} v${versions.length}`);
        return { id: c.id ?? "", outs: { latestVersion: versions.length, defaultVersion: versions.length } };
      }
      case "aws:ec2/instance:Instance create":
        return this.runInstance(c);
      case "aws:ec2/instance:Instance delete":
        await this.terminate(c.id ?? "");
        await this.holds.terminate?.(this.instances.get(c.id ?? "") as Instance);
        return { id: c.id ?? "", outs: {} };
      case "aws:ec2/instance:Instance update": {
        // Tags change in place, as ModifyInstanceAttribute/CreateTags do; the rest forces a replacement upstream.
        const instance = this.instances.get(c.id ?? "");
        if (instance && c.inputs.tags) instance.tags = c.inputs.tags as Record<string, string>;
        return { id: c.id ?? "", outs: {} };
      }
      case "aws:ec2/instance:Instance read": {
        // A refresh: a terminated (or unknown) instance is gone, as the real provider reads it.
        const instance = this.instances.get(c.id ?? "");
        return instance && instance.state !== "terminated" ? { id: instance.id, outs: {} } : { id: "", outs: {} };
      }
      default:
        if (c.op === "delete" || c.op === "update" || c.op === "read") return { id: c.id ?? "", outs: {} };
        throw new Error(`the fake cloud does not model ${c.type} ${c.op}`);
    }
  }

  /** RunInstances: answers once the instance runs (as the real provider waits for `running`); it boots after. */
  private async runInstance(c: CloudCall): Promise<CloudAnswer> {
    const lt = c.inputs.launchTemplate as { id: string; version: string };
    const versions = this.templates.get(lt.id);
    const version = Number(lt.version);
    const userData = versions?.[version - 1];
    if (userData === undefined) throw new Error(`launch template ${lt.id} has no version ${lt.version}`);
    const subnetId = String(c.inputs.subnetId);
    const zone = this.options.zones[subnetId];
    if (!zone) throw new Error(`subnet ${subnetId} is in no zone of the fake cloud`);
    const n = this.nextIp++;
    const privateIp = `127.0.2.${n}`;
    const instance: Instance = {
      id: `i-${randomBytes(9).toString("hex").slice(0, 17)}`,
      privateIp,
      privateDns: `ip-127-0-2-${n}.${this.options.region}.compute.internal`,
      zone,
      subnetId,
      launchTemplate: { id: lt.id, version },
      tags: (c.inputs.tags ?? {}) as Record<string, string>,
      state: "running",
      launchedAt: Date.now(),
    };
    this.instances.set(instance.id, instance);
    this.record(`run ${instance.id} (${c.name}) from ${lt.id} v${version}`);
    const outs = () => ({ privateIp: instance.privateIp, privateDns: instance.privateDns, availabilityZone: zone, arn: `arn:aws:ec2:${c.region}:000000000000:instance/${instance.id}` });
    const unpacked = gunzipSync(Buffer.from(userData, "base64")).toString("utf8");
    if (this.options.machines) {
      await this.options.machines.launch(instance, unpacked);
      return { id: instance.id, outs: outs() };
    }
    const boot = this.boot(instance, unpacked);
    this.boots.add(boot);
    void boot.finally(() => this.boots.delete(boot));
    await this.holds.run?.(instance);
    return { id: instance.id, outs: outs() };
  }

  /** The two EC2 calls `npm run recover` makes through the `aws` CLI (its stand-in: aws-cli.ts). */
  private async ec2(r: Ec2Request): Promise<unknown> {
    if (r.region !== this.options.region) return { Reservations: [] };
    if (r.action === "TerminateInstances") {
      const out = [];
      for (const id of r.instanceIds ?? []) {
        const i = this.instances.get(id);
        if (!i) throw new Error(`InvalidInstanceID.NotFound: ${id}`);
        const previous = stateName(i);
        await this.terminate(id);
        this.record(`TerminateInstances ${id}`);
        out.push({ InstanceId: id, PreviousState: { Name: previous }, CurrentState: { Name: "shutting-down" } });
      }
      return { TerminatingInstances: out };
    }
    const filters = r.filters ?? {};
    const matches = (i: Instance) => Object.entries(filters).every(([name, values]) =>
      name === "instance-state-name" ? values.includes(stateName(i)) : name.startsWith("tag:") ? values.includes(i.tags[name.slice(4)] ?? "\u0000") : false);
    const instances = [...this.instances.values()].filter((i) => (r.instanceIds?.length ? r.instanceIds.includes(i.id) : true) && matches(i));
    return {
      Reservations: instances.map((i) => ({
        Instances: [{
          InstanceId: i.id, State: { Name: stateName(i) }, PrivateDnsName: i.privateDns, PrivateIpAddress: i.privateIp, SubnetId: i.subnetId,
          Placement: { AvailabilityZone: i.zone }, LaunchTime: new Date(i.launchedAt).toISOString(),
          Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
        }],
      })),
    };
  }

  private async boot(instance: Instance, userData: string): Promise<void> {
    try {
      instance.root = await NodeRoot.create({ release: this.options.release });
      const outcome = await runCloudConfig(instance.root, userData, {
        KUBEHERD_IMDS_ENDPOINT: this.awsUrl,
        KUBEHERD_SSM_ENDPOINT: this.awsUrl,
        KUBEHERD_SSM_ATTEMPTS: "3",
      });
      instance.bootLog = `${outcome.stdout.slice(-4000)}\n${outcome.stderr.slice(-4000)}`;
      const joined = instance.root.calls().some(isCall("kubeadm", "join"));
      if (outcome.code !== 0 || !joined || instance.state === "terminated") {
        if (instance.state !== "terminated") instance.state = "failed";
        this.record(`boot of ${instance.id} failed (exit ${outcome.code}, joined: ${joined})`);
        return;
      }
      instance.state = "joined";
      this.record(`${instance.id} joined as ${instance.privateDns}`);
      await this.options.onJoined(instance);
    } catch (err) {
      instance.state = "failed";
      instance.bootLog = `${instance.bootLog ?? ""}\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      this.record(`boot of ${instance.id} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async terminate(id: string): Promise<void> {
    const instance = this.instances.get(id);
    if (!instance) return;
    const wasJoined = instance.state === "joined";
    instance.state = "terminated";
    this.record(`terminate ${id} (${instance.privateDns})`);
    if (this.options.machines) return this.options.machines.terminate(instance);
    if (wasJoined) await this.options.onTerminated(instance);
    await instance.root?.destroy();
    instance.root = undefined;
  }
}
