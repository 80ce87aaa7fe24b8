/**
 * A node's EC2 instance, as `aws.ec2.Instance` registers it, declaring only the outputs kubeherd reads.
 *
 * The engine sees exactly what `new aws.ec2.Instance(...)` sends: the same type token, name, parent and inputs, the
 * same provider (the aws package at its installed version), so the state, the URN and the provider's behaviour are
 * the same. The difference is in this process: the Node.js SDK builds an Output with its own resolvers and promises
 * for every output a resource class declares, and `aws.ec2.Instance` declares 63. At 1,000 nodes that was 1.4
 * million pending promises (595 MB in a heap snapshot) for the whole `up`, as every node waits behind its gate
 * (`npm run bench`, program-1000-nodes). The SDK ignores the outputs the provider returns that a class does not
 * declare (`resolveProperties`), so declaring three keeps only theirs.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The inputs kubeherd gives a node's instance (everything else comes from its launch template), typed as aws.ec2.Instance's. */
export type NodeInstanceArgs = Required<Pick<aws.ec2.InstanceArgs, "launchTemplate" | "subnetId" | "tags">>;

/** `aws.ec2.Instance`'s type token. */
export const INSTANCE_TYPE = "aws:ec2/instance:Instance";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const AWS_VERSION = (require("@pulumi/aws/package.json") as { version: string }).version.replace(/^v/, "");

export class NodeInstance extends pulumi.CustomResource {
  declare readonly privateDns: pulumi.Output<string>;
  declare readonly privateIp: pulumi.Output<string>;

  constructor(name: string, args: NodeInstanceArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(INSTANCE_TYPE, name, { ...args, privateDns: undefined, privateIp: undefined }, pulumi.mergeOptions({ version: AWS_VERSION }, opts));
  }
}
