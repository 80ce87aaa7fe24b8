/**
 * The cluster: its pools in rollout order (control plane first, then workers in config order), batch after batch
 * (components/rollout/batches.ts), each pool's first batch behind the gate of the previous pool's last batch.
 */
import type { ControlPlaneTransition } from "./versions/removed-api-gate";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CattlePoolComponent } from "./cattle";
import { createsInstances } from "./config/pools";
import { sshSchema, type KubeherdConfig } from "./config/schema";
import { PetsPoolComponent } from "./pets";
import { gateTrigger, rolloutBatches } from "./rollout/batches";
import { poolsInRolloutOrder } from "./rollout/nodes";
import { pinList, poolVersions } from "./versions/pins";

export interface KubeherdClusterArgs {
  config: KubeherdConfig;
  /** `aws:region`; needed when kubeherd creates EC2 nodes. */
  region: string;
  /** The admin kubeconfig (secret), for the Kubernetes provider (the hooks get it through configureKubeconfig). */
  kubeconfig: pulumi.Input<string>;
  /** Secret config values by key name (SSH private keys of pets pools). */
  secrets: Record<string, pulumi.Input<string>>;
  /** Milliseconds since the epoch, for join-token rotation. */
  now: number;
  /** `pool/node` of the pets nodes whose only change is kubectl (rollout/client-only.ts): not drained. */
  clientOnly?: ReadonlySet<string>;
  /** The control plane's minors from what the stack rolled out to the config's: the first control-plane node's
   *  drain hook runs the removed-API pre-flight for it before `kubeadm upgrade apply`. None on a first deployment. */
  transition?: ControlPlaneTransition;
}

export interface PoolOutputs {
  mode: "cattle" | "pets";
  role: "control-plane" | "worker";
  pins: Record<string, string>;
  nodes: string[];
  launchTemplateId?: pulumi.Output<string>;
  launchTemplateVersion?: pulumi.Output<number>;
  instanceIds?: pulumi.Output<string>[];
}

export class KubeherdCluster extends pulumi.ComponentResource {
  readonly pools: Record<string, PoolOutputs> = {};
  /** Every node resource in rollout order. */
  readonly nodes: pulumi.Resource[] = [];

  constructor(name: string, args: KubeherdClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kubeherd:index:Cluster", name, {}, opts);
    const { config } = args;
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: args.kubeconfig }, { parent: this });
    const kmsKey = config.pools.some(createsInstances)
      ? new aws.kms.Key(`${name}-join`, {
          description: `kubeherd ${config.cluster.name}: encrypts the join tokens in SSM`,
          enableKeyRotation: true,
          tags: { "kubeherd:cluster": config.cluster.name },
        }, { parent: this })
      : undefined;
    const batches = rolloutBatches(config);
    const trigger = gateTrigger(config, args.region);
    let after: pulumi.Resource | undefined;

    for (const pool of poolsInRolloutOrder(config)) {
      const pins = Object.fromEntries(pinList(poolVersions(config, pool)));
      const order = { batches: batches.filter((b) => b.pool === pool.name), after, gateTrigger: trigger };
      if (pool.mode === "cattle") {
        const c = new CattlePoolComponent(pool.name, { config, pool, region: args.region, kmsKey: kmsKey as aws.kms.Key, provider, ...order, now: args.now }, { parent: this });
        after = c.lastGate ?? after;
        this.nodes.push(...c.instances);
        this.pools[pool.name] = {
          mode: "cattle", role: pool.role, pins, nodes: c.nodeNames,
          launchTemplateId: c.launchTemplate.id, launchTemplateVersion: c.launchTemplate.latestVersion, instanceIds: c.instances.map((i) => i.id),
        };
      } else {
        const key = (pool.ssh ?? sshSchema.parse({})).privateKeySecret;
        const ec2 = createsInstances(pool) ? { region: args.region, kmsKey: kmsKey as aws.kms.Key, provider, now: args.now } : undefined;
        const p = new PetsPoolComponent(pool.name, { config, pool, privateKey: args.secrets[key], ...order, ec2, clientOnly: args.clientOnly, transition: args.transition }, { parent: this });
        after = p.lastGate ?? after;
        this.nodes.push(...p.commands);
        this.pools[pool.name] = { mode: "pets", role: pool.role, pins, nodes: p.nodeNames, instanceIds: p.instances.length ? p.instances.map((i) => i.id) : undefined };
      }
    }
    this.registerOutputs({ pools: this.pools });
  }
}
