/**
 * A cattle pool: EC2 instances made from the pool's pinned launch template, replaced one at a time on a bump
 * (DESIGN.md "Rollout semantics", FACTS.md §1–2). The component only declares resources; what changes and in which
 * order comes from `cattleNodes` (rollout/nodes.ts), which the planner uses too.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CattlePool, KubeherdConfig } from "./config/schema";
import { nodeHooks, registerNodeContext, registerNodeIdentity } from "./hooks";
import { nodeTags, pinnedTemplate } from "./launch-template";
import { cattleNodeOptions } from "./node-options";
import { cattleNodes, nodeExpectations } from "./rollout/nodes";

export interface CattlePoolArgs {
  config: KubeherdConfig;
  pool: CattlePool;
  region: string;
  kmsKey: aws.kms.Key;
  provider: k8s.Provider;
  /** Every node before this pool's in the rollout: each of this pool's nodes waits for all of them. */
  earlier: readonly pulumi.Resource[];
  /** Milliseconds since the epoch, for the join token's rotation. */
  now: number;
}

export class CattlePoolComponent extends pulumi.ComponentResource {
  readonly instances: aws.ec2.Instance[] = [];
  readonly launchTemplate: aws.ec2.LaunchTemplate;
  readonly nodeNames: string[];

  constructor(name: string, args: CattlePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kubeherd:index:CattlePool", name, {}, opts);
    const { config, pool } = args;
    const nodes = cattleNodes(config, pool, args.region);
    const expect = nodeExpectations(config);

    const { join, launchTemplate } = pinnedTemplate(name, {
      config, pool, instanceType: pool.instanceType, securityGroups: pool.securityGroups, userData: nodes[0].userData,
      region: args.region, kmsKey: args.kmsKey, provider: args.provider, now: args.now,
    }, this);
    this.launchTemplate = launchTemplate;

    for (const node of nodes) {
      registerNodeContext(node.node, { pool: pool.name, node: node.node, mode: "cattle", ...expect, rollout: pool.rollout, index: args.earlier.length + node.index });
      const instance = new aws.ec2.Instance(node.node, {
        launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
        subnetId: node.subnet,
        tags: nodeTags(config, pool.name, node.node),
      }, {
        parent: this,
        ...cattleNodeOptions({
          strategy: pool.rollout.strategy,
          fingerprint: node.fingerprint,
          earlier: [...args.earlier, ...this.instances],
          hooks: nodeHooks,
          needs: [join],
        }),
      });
      pulumi.all([instance.id, instance.privateDns, instance.privateIp]).apply(([instanceId, privateDns, privateIp]) =>
        registerNodeIdentity(node.node, { instanceId, privateDns, privateIp }),
      );
      this.instances.push(instance);
    }
    this.nodeNames = nodes.map((n) => n.node);

    this.registerOutputs({
      launchTemplateId: this.launchTemplate.id,
      launchTemplateVersion: this.launchTemplate.latestVersion,
      instanceIds: this.instances.map((i) => i.id),
    });
  }

}
