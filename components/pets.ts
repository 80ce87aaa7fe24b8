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
import { NodeInstance } from "./node-instance";
import { nodeTags, pinnedTemplate } from "./launch-template";
import { declareBatches, nodeResourceName, petsNodeOptions } from "./node-options";
import type { Batch } from "./rollout/batches";
import type { ControlPlaneTransition } from "./versions/removed-api-gate";
import { nodeExpectations, petsNodes, poolUserData, rootCommand } from "./rollout/nodes";

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
  /** The control plane's transition, for the removed-API pre-flight of the node that runs `kubeadm upgrade apply`. */
  transition?: ControlPlaneTransition;
  /** Only for pools whose EC2 nodes kubeherd creates. */
  ec2?: { region: string; kmsKey: aws.kms.Key; provider: k8s.Provider; now: number };
}

export class PetsPoolComponent extends pulumi.ComponentResource {
  readonly commands: command.remote.Command[] = [];
  readonly instances: NodeInstance[] = [];
  readonly nodeNames: string[];
  /** The gate after this pool's last batch. */
  readonly lastGate?: pulumi.Resource;

  constructor(name: string, args: PetsPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kubeherd:index:PetsPool", name, {}, opts);
    const { config, pool } = args;
    // Validation requires ssh on pets pools; its defaults live in the schema alone.
    const ssh = pool.ssh ?? sshSchema.parse({});
    const nodes = petsNodes(config, pool);
    const expect = nodeExpectations(config, pool);
    const hosts = args.ec2 ? this.createInstances(name, args, args.ec2, nodes.map((n) => n.node)) : undefined;
    if (hosts) this.instances.push(...hosts);

    const order = { name, pool: pool.name, batches: args.batches, nodes, after: args.after, trigger: args.gateTrigger, parent: this };
    const { resources, lastGate } = declareBatches(order, (node, i, batch, after) => {
      const resourceName = nodeResourceName("pets", name, node.node);
      const instance = hosts?.[i];
      const context = {
        pool: pool.name, node: node.node, mode: "pets" as const, ...expect, rollout: pool.rollout,
        osRelease: config.os.release, maintenance: config.os.systemUpgrade !== undefined, batch: batch.number,
        ...(args.clientOnly?.has(`${pool.name}/${node.node}`) ? { clientOnly: true } : {}),
        ...(node.kubeadm === "apply" && args.transition ? { controlPlaneTransition: args.transition } : {}),
      };
      if (instance) instance.privateDns.apply((dns) => registerNodeContext(resourceName, { ...context, kubeNodeName: dns }));
      else registerNodeContext(resourceName, { ...context, kubeNodeName: node.node });

      const cmd = new command.remote.Command(resourceName, {
        connection: {
          host: instance ? instance.privateIp : (node.host as string),
          port: ssh.port,
          user: ssh.user,
          privateKey: args.privateKey,
          ...(node.hostKey ? { hostKey: node.hostKey } : {}),
          // An unreachable host fails within connectTimeoutSeconds, naming the node (the resource).
          perDialTimeout: 10,
          dialErrorLimit: Math.max(1, Math.ceil(ssh.connectTimeoutSeconds / 10)),
        },
        create: rootCommand(node.script, ssh.user),
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
    this.lastGate = lastGate;
    this.nodeNames = args.batches.flatMap((b) => b.nodes);
    this.registerOutputs({ nodes: this.nodeNames });
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
