/**
 * A cattle pool: EC2 instances made from the pool's pinned launch template, replaced batch by batch on a bump
 * (DESIGN.md "Rollout semantics", FACTS.md §1–2). The component only declares resources; what changes and in which
 * order comes from `cattleNodes` (rollout/nodes.ts), which the planner uses too.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CattlePool, KubeherdConfig } from "./config/schema";
import { nodeHooks, registerNodeContext, registerNodeIdentity } from "./hooks";
import { nodeTarget } from "./kube/due";
import { NodeInstance } from "./node-instance";
import { nodeTags, pinnedTemplate } from "./launch-template";
import { cattleNodeOptions, declareBatches, nodeResourceName } from "./node-options";
import type { Batch } from "./rollout/batches";
import { cattleNodes, nodeExpectations, type CattleNode } from "./rollout/nodes";

export interface CattlePoolArgs {
  config: KubeherdConfig;
  pool: CattlePool;
  region: string;
  kmsKey: aws.kms.Key;
  provider: k8s.Provider;
  /** This pool's batches (components/rollout/batches.ts), in rollout order. */
  batches: readonly Batch[];
  /** The gate after the previous pool's last batch; none when this pool goes first. */
  after?: pulumi.Resource;
  /** The gates' replacement trigger (`gateTrigger`). */
  gateTrigger: string;
  /** Milliseconds since the epoch, for the join token's rotation. */
  now: number;
  /** On a kubectl-only change (rollout/cattle-client-only.ts): the nodes as launched, whose fingerprints stay the triggers. */
  launched?: readonly CattleNode[];
}

export class CattlePoolComponent extends pulumi.ComponentResource {
  readonly instances: NodeInstance[] = [];
  readonly launchTemplate: aws.ec2.LaunchTemplate;
  readonly nodeNames: string[];
  /** The gate after this pool's last batch. */
  readonly lastGate?: pulumi.Resource;

  constructor(name: string, args: CattlePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kubeherd:index:CattlePool", name, {}, opts);
    const { config, pool } = args;
    const nodes = cattleNodes(config, pool, args.region);
    const expect = nodeExpectations(config, pool);

    const { launchTemplate } = pinnedTemplate(name, {
      config, pool, instanceType: pool.instanceType, securityGroups: pool.securityGroups, userData: nodes[0].userData,
      region: args.region, kmsKey: args.kmsKey, provider: args.provider, now: args.now,
    }, this);
    this.launchTemplate = launchTemplate;

    const order = { name, pool: pool.name, batches: args.batches, nodes, after: args.after, trigger: args.gateTrigger, parent: this };
    const { resources, lastGate } = declareBatches(order, (node, _index, batch, after) => {
      const resourceName = nodeResourceName("cattle", name, node.node);
      registerNodeContext(resourceName, { pool: pool.name, node: node.node, mode: "cattle", ...expect, rollout: pool.rollout, batch: batch.number, target: nodeTarget(node.fingerprint) });
      const instance = new NodeInstance(resourceName, {
        launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
        subnetId: node.subnet,
        tags: nodeTags(config, pool.name, node.node),
      }, {
        parent: this,
        // The join token is the launch template's dependency (launch-template.ts): one edge per node fewer.
        ...cattleNodeOptions({ strategy: pool.rollout.strategy, fingerprint: args.launched?.[node.index]?.fingerprint ?? node.fingerprint, after, hooks: nodeHooks, keepLaunchTemplate: args.launched !== undefined }),
      });
      pulumi.all([instance.id, instance.privateDns, instance.privateIp]).apply(([instanceId, privateDns, privateIp]) =>
        registerNodeIdentity(resourceName, { instanceId, privateDns, privateIp }),
      );
      return instance;
    });
    this.instances.push(...resources);
    this.lastGate = lastGate;
    this.nodeNames = args.batches.flatMap((b) => b.nodes);

    this.registerOutputs({
      launchTemplateId: this.launchTemplate.id,
      launchTemplateVersion: this.launchTemplate.latestVersion,
      instanceIds: this.instances.map((i) => i.id),
    });
  }

}
