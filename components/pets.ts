/**
 * A pets pool: long-lived nodes upgraded in place, one remote command per node whose script converges the node to
 * its pins (DESIGN.md "Rollout semantics"). The command re-runs when its triggers (pins, maintenance tokens) change;
 * a hook drains the node before and another waits for it to be Ready with the pinned kubelet and uncordons it after.
 * Nodes are existing hosts, or EC2 instances from the pool's pinned launch template that are never replaced.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { sshSchema, type KubeherdConfig, type PetsPool } from "./config/schema";
import { nodeHooks, registerNodeContext } from "./hooks";
import { nodeTarget } from "./kube/due";
import { NodeInstance } from "./node-instance";
import { nodeTags, pinnedTemplate } from "./launch-template";
import { declareBatches, nodeResourceName, petsNodeOptions, stageResourceName } from "./node-options";
import type { Batch } from "./rollout/batches";
import { nodeExpectations, petsNodes, poolUserData, remoteConverge } from "./rollout/nodes";
import type { ControlPlaneTransition } from "./versions/removed-api-gate";

export interface PetsPoolArgs {
  config: KubeherdConfig;
  pool: PetsPool;
  /** The pool's SSH private key (a secret). */
  privateKey: pulumi.Input<string>;
  /** This pool's batches (components/rollout/batches.ts), in rollout order. */
  batches: readonly Batch[];
  /** The gate after the previous pool's last batch; none when this pool goes first. */
  after?: pulumi.Resource;
  /** The gates' replacement trigger (`gateTrigger`). */
  gateTrigger: string;
  /** `pool/node` of the nodes whose only change is kubectl: the drain hook lets them be. */
  clientOnly?: ReadonlySet<string>;
  /** The cluster declares the nodes itself, stage by stage (`declareNodes`), on a journey. @default false */
  nodesLater?: boolean;
  /** The control plane's transition, for the removed-API pre-flight of the node that runs `kubeadm upgrade apply`. */
  transition?: ControlPlaneTransition;
  /** Only for pools whose EC2 nodes kubeherd creates. */
  ec2?: { region: string; kmsKey: aws.kms.Key; provider: k8s.Provider; now: number };
}

export class PetsPoolComponent extends pulumi.ComponentResource {
  readonly commands: command.remote.Command[] = [];
  readonly instances: NodeInstance[] = [];
  readonly nodeNames: string[];
  /** The gate after this pool's last batch (none when its nodes are declared later, `nodesLater`). */
  readonly lastGate?: pulumi.Resource;
  private readonly args: PetsPoolArgs;
  private readonly componentName: string;
  private readonly hosts?: NodeInstance[];

  constructor(name: string, args: PetsPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kubeherd:index:PetsPool", name, {}, opts);
    const { config, pool } = args;
    this.args = args;
    this.componentName = name;
    this.hosts = args.ec2 ? this.createInstances(name, args, args.ec2, petsNodes(config, pool).map((n) => n.node)) : undefined;
    if (this.hosts) this.instances.push(...this.hosts);
    this.nodeNames = args.batches.flatMap((b) => b.nodes);
    if (!args.nodesLater) {
      this.lastGate = this.declareNodes({ config, batches: args.batches, after: args.after, clientOnly: args.clientOnly });
    }
    this.registerOutputs({ nodes: this.nodeNames });
  }

  /**
   * Declares one converge command per node of `batches` behind `after`, converging to `config`'s versions, and
   * returns the last gate. With `stage`, the commands are a journey's stage resources (`<node>-to-1-32`, gates
   * `<pool>-to-1-32-batch-N`); without, the pool's own commands.
   */
  declareNodes(opts: { config: KubeherdConfig; batches: readonly Batch[]; after?: pulumi.Resource; clientOnly?: ReadonlySet<string>; stage?: string }): pulumi.Resource | undefined {
    const { pool, privateKey } = this.args;
    const { config } = opts;
    const name = this.componentName;
    const hosts = this.hosts;
    // Validation requires ssh on pets pools; its defaults live in the schema alone.
    const ssh = pool.ssh ?? sshSchema.parse({});
    const nodes = petsNodes(config, pool);
    const expect = nodeExpectations(config, pool);

    const order = { name: opts.stage ? stageResourceName(name, opts.stage) : name, pool: pool.name, batches: opts.batches, nodes, after: opts.after, trigger: this.args.gateTrigger, parent: this };
    const { resources, lastGate } = declareBatches(order, (node, i, batch, after) => {
      const own = nodeResourceName("pets", name, node.node);
      const resourceName = opts.stage ? stageResourceName(own, opts.stage) : own;
      const instance = hosts?.[i];
      const context = {
        pool: pool.name, node: node.node, mode: "pets" as const, ...expect, rollout: pool.rollout,
        osRelease: config.os.release, maintenance: config.os.systemUpgrade !== undefined, batch: batch.number,
        target: nodeTarget(node.triggers),
        ...(opts.clientOnly?.has(`${pool.name}/${node.node}`) ? { clientOnly: true } : {}),
        ...(node.kubeadm === "apply" && this.args.transition ? { controlPlaneTransition: this.args.transition } : {}),
      };
      if (instance) instance.privateDns.apply((dns) => registerNodeContext(resourceName, { ...context, kubeNodeName: dns }));
      else registerNodeContext(resourceName, { ...context, kubeNodeName: node.node });

      const cmd = new command.remote.Command(resourceName, {
        connection: {
          host: instance ? instance.privateIp : (node.host as string),
          port: ssh.port,
          user: ssh.user,
          privateKey,
          ...(node.hostKey ? { hostKey: node.hostKey } : {}),
          // An unreachable host fails within connectTimeoutSeconds, naming the node (the resource).
          perDialTimeout: 10,
          dialErrorLimit: Math.max(1, Math.ceil(ssh.connectTimeoutSeconds / 10)),
        },
        ...remoteConverge(node.script, ssh),
        // A change of the script text alone (a kubeherd upgrade) does not touch the node; the triggers do.
        update: "true",
        triggers: node.triggers,
        logging: command.remote.Logging.None,
      }, {
        parent: this,
        // stdout and stderr may carry anything the node prints (the provider already keeps `connection` secret).
        additionalSecretOutputs: ["stdout", "stderr"],
        ...petsNodeOptions({ after, hooks: nodeHooks }),
      });
      return cmd;
    });
    this.commands.push(...resources);
    return lastGate;
  }

  /** EC2 nodes from the pool's launch template; later template changes never replace them (they are pets). */
  private createInstances(name: string, args: PetsPoolArgs, ec2: NonNullable<PetsPoolArgs["ec2"]>, nodeNames: string[]): NodeInstance[] {
    const { config, pool } = args;
    const { launchTemplate } = pinnedTemplate(name, {
      config, pool, instanceType: pool.instanceType as string, securityGroups: pool.securityGroups ?? [],
      userData: poolUserData(config, pool, ec2.region),
      region: ec2.region, kmsKey: ec2.kmsKey, provider: ec2.provider, now: ec2.now,
    }, this);
    const subnets = pool.subnets ?? [];
    return nodeNames.map((node, i) => new NodeInstance(`${name}-${node}-instance`, {
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
      subnetId: subnets[i % subnets.length],
      tags: nodeTags(config, pool.name, node),
    }, { parent: this, ignoreChanges: ["launchTemplate", "ami", "userData", "instanceType"] }));
  }
}
