/**
 * A pool's pinned launch template and the instance role it runs with. The user data carries the pins; the role
 * may read the pool's join parameter and nothing else.
 */
import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KubeherdConfig, Pool } from "./config/schema";
import { JoinToken } from "./join";
import { joinParameterName } from "./rollout/nodes";
import { pinList, poolVersions } from "./versions/pins";
import { encodeUserData } from "./scripts/userdata";

export interface PoolLaunchTemplateArgs {
  cluster: string;
  pool: string;
  image: string;
  instanceType: string;
  securityGroups: string[];
  userData: string;
  joinParameterArn: pulumi.Input<string>;
  /** The pool's join parameter: a node boots from the template only once the parameter holds the token, so the
   *  template (which every node takes as an input) depends on it, and the nodes need no edge of their own to it. */
  joinParameter: pulumi.Resource;
  kmsKeyArn: pulumi.Input<string>;
  /** The region of the SSM parameter: the key may only be used through SSM there. */
  region: string;
  /** The pins, carried as tags (`kubeherd:pin:kubelet` = `1.30.2-1.1`). */
  pins: [string, string][];
}

export class PoolLaunchTemplate extends pulumi.ComponentResource {
  readonly launchTemplate: aws.ec2.LaunchTemplate;
  readonly role: aws.iam.Role;

  constructor(name: string, args: PoolLaunchTemplateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kubeherd:index:PoolLaunchTemplate", name, {}, opts);
    const tags = { "kubeherd:cluster": args.cluster, "kubeherd:pool": args.pool };

    this.role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    }, { parent: this });

    new aws.iam.RolePolicy(`${name}-join`, {
      role: this.role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: args.joinParameterArn },
          { Effect: "Allow", Action: ["kms:Decrypt"], Resource: args.kmsKeyArn, Condition: { StringEquals: { "kms:ViaService": `ssm.${args.region}.amazonaws.com` } } },
        ],
      }),
    }, { parent: this });

    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name, tags }, { parent: this });

    this.launchTemplate = new aws.ec2.LaunchTemplate(`${name}-lt`, {
      imageId: args.image,
      instanceType: args.instanceType,
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: args.securityGroups,
      // gzip: cloud-init unpacks it, and the readable text comes close to EC2's 16 KB limit.
      userData: encodeUserData(args.userData),
      updateDefaultVersion: true,
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { encrypted: "true", volumeType: "gp3", volumeSize: 50, deleteOnTermination: "true" } }],
      // Tags on the template itself, not tagSpecifications: a tag change must not make a new version (and so new nodes).
      tags: { ...tags, ...Object.fromEntries(args.pins.map(([pkg, v]) => [`kubeherd:pin:${pkg}`, v])) },
    }, { parent: this, dependsOn: [args.joinParameter] });

    this.registerOutputs({ launchTemplateId: this.launchTemplate.id, latestVersion: this.launchTemplate.latestVersion });
  }
}

export interface PinnedTemplateArgs {
  config: KubeherdConfig;
  pool: Pool;
  instanceType: string;
  securityGroups: string[];
  userData: string;
  region: string;
  kmsKey: aws.kms.Key;
  provider: k8s.Provider;
  /** Milliseconds since the epoch, for the join token's rotation. */
  now: number;
}

/** What a pool whose nodes kubeherd creates needs: its join token and its pinned launch template. */
export function pinnedTemplate(name: string, args: PinnedTemplateArgs, parent: pulumi.Resource): { join: JoinToken; launchTemplate: aws.ec2.LaunchTemplate } {
  const { config } = args;
  const join = new JoinToken(`${name}-join`, {
    cluster: config.cluster.name, pool: args.pool.name, parameterName: joinParameterName(config, args.pool), kmsKey: args.kmsKey, provider: args.provider,
    ttlHours: config.cluster.bootstrapTokenTtlHours, now: args.now,
  }, { parent });
  const template = new PoolLaunchTemplate(`${name}-template`, {
    cluster: config.cluster.name,
    pool: args.pool.name,
    image: config.os.image as string,
    instanceType: args.instanceType,
    securityGroups: args.securityGroups,
    userData: args.userData,
    joinParameterArn: join.parameter.arn,
    joinParameter: join.parameter,
    kmsKeyArn: args.kmsKey.arn,
    region: args.region,
    pins: pinList(poolVersions(config, args.pool)),
  }, { parent });
  return { join, launchTemplate: template.launchTemplate };
}

/** The tags of a node's instance; `npm run recover` finds an instance an interrupted create left behind by its stack and node. */
export const nodeTags = (config: KubeherdConfig, pool: string, node: string): Record<string, string> => ({
  Name: `${config.cluster.name}-${node}`, "kubeherd:cluster": config.cluster.name, "kubeherd:stack": pulumi.getStack(), "kubeherd:pool": pool, "kubeherd:node": node,
});
