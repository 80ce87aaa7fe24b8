/**
 * Joining without secrets in user data: a kubeadm bootstrap token as a `bootstrap.kubernetes.io/token` Secret,
 * managed through the stack's Kubernetes provider, and the same token in an SSM SecureString parameter encrypted
 * with the cluster's KMS key. Only the pool's instance role may read that parameter.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { tokenWindow } from "./join-token-window";

export interface JoinTokenArgs {
  cluster: string;
  pool: string;
  /** SSM parameter name, as the user data reads it. */
  parameterName: string;
  kmsKey: aws.kms.Key;
  provider: k8s.Provider;
  ttlHours: number;
  /** Milliseconds since the epoch; the token rotates once per TTL period. */
  now: number;
}

export class JoinToken extends pulumi.ComponentResource {
  readonly parameter: aws.ssm.Parameter;
  readonly secret: k8s.core.v1.Secret;

  constructor(name: string, args: JoinTokenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kubeherd:index:JoinToken", name, {}, opts);
    const window = tokenWindow(args.now, args.ttlHours);
    const keepers = { period: String(window.period) };
    const id = new random.RandomString(`${name}-id`, { length: 6, upper: false, special: false, keepers }, { parent: this });
    const secretPart = new random.RandomString(`${name}-secret`, { length: 16, upper: false, special: false, keepers }, { parent: this });
    const token = pulumi.secret(pulumi.interpolate`${id.result}.${secretPart.result}`);

    this.secret = new k8s.core.v1.Secret(`${name}-token`, {
      metadata: { name: pulumi.interpolate`bootstrap-token-${id.result}`, namespace: "kube-system", labels: { "app.kubernetes.io/managed-by": "kubeherd" } },
      type: "bootstrap.kubernetes.io/token",
      stringData: {
        "token-id": id.result,
        "token-secret": pulumi.secret(secretPart.result),
        expiration: window.expiration,
        description: `kubeherd join token for pool ${args.pool} of cluster ${args.cluster}`,
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
      },
    }, { parent: this, provider: args.provider });

    this.parameter = new aws.ssm.Parameter(`${name}-parameter`, {
      name: args.parameterName,
      type: "SecureString",
      keyId: args.kmsKey.arn,
      value: token,
      description: `kubeadm bootstrap token for pool ${args.pool} (rotated by pulumi up every ${args.ttlHours}h)`,
      tags: { "kubeherd:cluster": args.cluster, "kubeherd:pool": args.pool },
    }, { parent: this, dependsOn: [this.secret] });

    this.registerOutputs({ parameterArn: this.parameter.arn });
  }
}
