/**
 * A cattle pool: EC2 instances made from the pool's pinned launch template, replaced one at a time on a bump
 * (DESIGN.md "Rollout semantics", FACTS.md §1–2). The component only declares resources; what changes and in which
 * order comes from `cattleNodes` (rollout/nodes.ts), which the planner uses too.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CattlePool, KubeherdConfig } from "./config/schema";
import { drainHook, forgetNodeHook, readyHook, registerNodeContext } from "./hooks";
import { JoinToken } from "./join";
import { PoolLaunchTemplate } from "./launch-template";
import { cattleNodes, joinParameterName, nodeExpectations, pinList } from "./rollout/nodes";

export interface CattlePoolArgs {
  config: KubeherdConfig;
  pool: CattlePool;
  region: string;
  kmsKey: aws.kms.Key;
  provider: k8s.Provider;
  /** The last node of the pool before this one in the rollout: this pool's first node waits for it. */
  after?: pulumi.Resource;
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
    const rolling = pool.rollout.strategy === "rolling";
    const expect = nodeExpectations(config);

    const join = new JoinToken(`${name}-join`, {
      cluster: config.cluster.name,
      pool: pool.name,
      parameterName: joinParameterName(config, pool),
      kmsKey: args.kmsKey,
      provider: args.provider,
      ttlHours: config.cluster.bootstrapTokenTtlHours,
      now: args.now,
    }, { parent: this });

    const template = new PoolLaunchTemplate(`${name}-template`, {
      cluster: config.cluster.name,
      pool: pool.name,
      image: config.os.image as string,
      instanceType: pool.instanceType,
      securityGroups: pool.securityGroups,
      userData: nodes[0].userData,
      joinParameterArn: join.parameter.arn,
      kmsKeyArn: args.kmsKey.arn,
      region: args.region,
      pinTags: Object.fromEntries(pinList(config).map(([pkg, v]) => [`kubeherd:pin:${pkg}`, v])),
    }, { parent: this });
    this.launchTemplate = template.launchTemplate;

    let previous = args.after;
    for (const node of nodes) {
      registerNodeContext(node.node, { pool: pool.name, node: node.node, mode: "cattle", ...expect, rollout: pool.rollout });
      const instance = new aws.ec2.Instance(node.node, {
        launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
        subnetId: node.subnet,
        tags: { Name: `${config.cluster.name}-${node.node}`, "kubeherd:cluster": config.cluster.name, "kubeherd:pool": pool.name, "kubeherd:node": node.node },
      }, {
        parent: this,
        // Each node waits for the one before it (and its afterCreate gate); never for its outputs (FACTS.md §1).
        dependsOn: [join, ...(previous ? [previous] : [])],
        deleteBeforeReplace: rolling,
        replacementTrigger: node.fingerprint,
        hooks: { beforeDelete: [drainHook], afterCreate: [readyHook], afterDelete: [forgetNodeHook] },
      });
      this.instances.push(instance);
      previous = instance;
    }
    this.nodeNames = nodes.map((n) => n.node);

    this.registerOutputs({
      launchTemplateId: this.launchTemplate.id,
      launchTemplateVersion: this.launchTemplate.latestVersion,
      instanceIds: this.instances.map((i) => i.id),
    });
  }

  /** The last node in rollout order: the next pool waits for it. */
  get lastNode(): pulumi.Resource | undefined {
    return this.instances[this.instances.length - 1];
  }
}
