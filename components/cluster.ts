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
import { sshSchema, type CattlePool, type KubeherdConfig, type PetsPool, type Pool } from "./config/schema";
import { PetsPoolComponent } from "./pets";
import { gateTrigger, rolloutBatches, type Batch } from "./rollout/batches";
import type { JourneyDeclarations } from "./rollout/journey-plan";
import { poolsInRolloutOrder, type CattleNode } from "./rollout/nodes";
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
  /** Cattle pools whose only change is kubectl (rollout/cattle-client-only.ts): their nodes as launched. */
  cattleLaunched?: ReadonlyMap<string, { nodes: readonly CattleNode[] }>;
  /** A journey from what the stack has rolled out (components/rollout/journey-plan.ts): its stages, in order. */
  journey?: JourneyDeclarations;
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
    const pets = new Map<string, PetsPoolComponent>();
    const outputs = new Map<string, PoolOutputs>();
    let after: pulumi.Resource | undefined;

    const cattlePool = (pool: CattlePool, poolBatches: readonly Batch[]) => {
      const c = new CattlePoolComponent(pool.name, { config, pool, region: args.region, kmsKey: kmsKey as aws.kms.Key, provider, batches: poolBatches, after, gateTrigger: trigger, now: args.now, launched: args.cattleLaunched?.get(pool.name)?.nodes }, { parent: this });
      after = c.lastGate ?? after;
      this.nodes.push(...c.instances);
      outputs.set(pool.name, {
        mode: "cattle", role: pool.role, pins: pinsOf(pool), nodes: c.nodeNames,
        launchTemplateId: c.launchTemplate.id, launchTemplateVersion: c.launchTemplate.latestVersion, instanceIds: c.instances.map((i) => i.id),
      });
    };
    const petsPool = (pool: PetsPool, nodesLater: boolean) => {
      const key = (pool.ssh ?? sshSchema.parse({})).privateKeySecret;
      const ec2 = createsInstances(pool) ? { region: args.region, kmsKey: kmsKey as aws.kms.Key, provider, now: args.now } : undefined;
      const p = new PetsPoolComponent(pool.name, { config, pool, privateKey: args.secrets[key], batches: batches.filter((b) => b.pool === pool.name), after, gateTrigger: trigger, ec2, clientOnly: args.clientOnly, nodesLater, transition: args.transition }, { parent: this });
      after = p.lastGate ?? after;
      pets.set(pool.name, p);
      outputs.set(pool.name, { mode: "pets", role: pool.role, pins: pinsOf(pool), nodes: p.nodeNames, instanceIds: p.instances.length ? p.instances.map((i) => i.id) : undefined });
    };
    const pinsOf = (pool: Pool) => Object.fromEntries(pinList(poolVersions(config, pool)));

    if (!args.journey) {
      for (const pool of poolsInRolloutOrder(config)) {
        if (pool.mode === "cattle") cattlePool(pool, batches.filter((b) => b.pool === pool.name));
        else petsPool(pool, false);
      }
    } else {
      // A journey (components/rollout/journey-plan.ts): the pets pools first, their nodes declared stage by stage;
      // each cattle pool in its one stage; the gate chain runs through the stages in order.
      const journey = args.journey;
      for (const pool of poolsInRolloutOrder(config)) if (pool.mode === "pets") petsPool(pool, true);
      const declare = (pool: Pool, poolBatches: readonly Batch[], stage?: { config: KubeherdConfig; minor: string }) => {
        if (pool.mode === "cattle") return cattlePool(pool, poolBatches);
        const component = pets.get(pool.name) as PetsPoolComponent;
        const before = component.commands.length;
        after = component.declareNodes({ config: stage?.config ?? config, batches: poolBatches, after, ...(stage ? { stage: stage.minor } : { clientOnly: args.clientOnly }) }) ?? after;
        this.nodes.push(...component.commands.slice(before));
      };
      for (const st of journey.stages) {
        for (const part of st.pools) {
          const pool = config.pools.find((p) => p.name === part.pool) as Pool;
          // A pool's own resources in its last stage converge to the target config's exact scripts.
          declare(pool, part.batches, part.own ? undefined : { config: st.config, minor: st.stage.minor });
        }
      }
      for (const name of journey.trailing) {
        const pool = config.pools.find((p) => p.name === name) as Pool;
        declare(pool, journey.trailingBatches.filter((b) => b.pool === name));
      }
    }
    for (const pool of poolsInRolloutOrder(config)) {
      const out = outputs.get(pool.name);
      if (out) this.pools[pool.name] = out;
    }
    this.registerOutputs({ pools: this.pools });
  }
}
