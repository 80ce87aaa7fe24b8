/**
 * The engine test's Pulumi program: the resource graph of components/cluster.ts, cattle.ts and pets.ts, with the
 * same names, parents, `dependsOn`, `deleteBeforeReplace`, `replacementTrigger` and hooks, over stand-ins that log
 * instead of touching machines. The nodes and their fingerprints and triggers come from the real
 * components/rollout/nodes.ts, as the components' do.
 *
 * The node options and the gates between batches come from components/node-options.ts, the same functions the
 * components call, over the same batches (components/rollout/batches.ts).
 * Not modelled: the Kubernetes provider and KMS key (no node depends on them in order), and pets pools whose EC2
 * hosts kubeherd creates (`size`), whose instances are never replaced.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CattlePool, KubeherdConfig, PetsPool } from "../../../../components/config/schema";
import { cattleNodeOptions, declareBatches, nodeResourceName, petsNodeOptions } from "../../../../components/node-options";
import { gateTrigger, rolloutBatches, type Batch } from "../../../../components/rollout/batches";
import { cattleNodes, petsNodes, poolsInRolloutOrder } from "../../../../components/rollout/nodes";
import { nodeHooks, type HookFaults, type NodeHooks, type WallClock } from "./hooks";
import { CommandStandIn, InstanceStandIn, JoinTokenStandIn, LaunchTemplateStandIn } from "./stand-ins";

/** The components' types and names (their URNs parent the nodes'), without their other children. */
class Component extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions = {}) {
    super(type, name, {}, opts);
  }

  done(): void {
    this.registerOutputs({});
  }
}

export interface ClusterProgramArgs {
  config: KubeherdConfig;
  region: string;
  /** Where stand-ins and hooks append `<node>:<action>` lines. */
  logPath: string;
  /** Hooks that fail for given nodes: a drain that times out, a node that never comes back. */
  faults?: HookFaults;
  /** The wall clock the drain hook checks the pools' maintenance windows against. @default the system's */
  clock?: WallClock;
  /** A deliberate change to the options components/node-options.ts computes, to show the suite sees one. */
  mutation?: OptionsMutation;
}

/** `no-gate-dependency`: every node's `dependsOn` dropped, as a node-options.ts that forgot the gate would give. */
export type OptionsMutation = "no-gate-dependency";

function mutated(options: pulumi.CustomResourceOptions, mutation: OptionsMutation | undefined): pulumi.CustomResourceOptions {
  return mutation === "no-gate-dependency" ? { ...options, dependsOn: [] } : options;
}

export function declareCluster({ config, region, logPath, faults, clock, mutation }: ClusterProgramArgs): void {
  const windows = Object.fromEntries(config.pools.flatMap((pool) =>
    (pool.mode === "cattle" ? cattleNodes(config, pool, region) : petsNodes(config, pool)).map((n) => [n.node, pool.rollout.window] as const),
  ));
  // Defined on every run, bound or not (components/hooks.ts does the same at module level).
  const hooks = nodeHooks(logPath, { faults, clock, windows });
  const cluster = new Component("kubeherd:index:Cluster", "kubeherd");
  const batches = rolloutBatches(config);
  const trigger = gateTrigger(config, region);
  let after: pulumi.Resource | undefined;
  for (const pool of poolsInRolloutOrder(config)) {
    const order = { batches: batches.filter((b) => b.pool === pool.name), after, trigger, mutation };
    after = (pool.mode === "cattle"
      ? cattlePool(pool, { config, region, logPath, hooks, parent: cluster, ...order })
      : petsPool(pool, { config, logPath, hooks, parent: cluster, ...order })) ?? after;
  }
  cluster.done();
}

interface PoolArgs {
  config: KubeherdConfig;
  logPath: string;
  hooks: NodeHooks;
  parent: pulumi.Resource;
  /** The pool's batches, the gate after the previous pool's last batch, and the gates' trigger. */
  batches: readonly Batch[];
  after?: pulumi.Resource;
  trigger: string;
  mutation?: OptionsMutation;
}

/** The components' batch loop (components/node-options.ts) over this pool's nodes. */
const order = <N extends { node: string }>(pool: string, args: PoolArgs, component: pulumi.Resource, nodes: readonly N[]) =>
  ({ name: pool, pool, batches: args.batches, nodes, after: args.after, trigger: args.trigger, parent: component });

/** As CattlePoolComponent, with the components' own node options and gates: returns the pool's last gate. */
function cattlePool(pool: CattlePool, args: PoolArgs & { region: string }): pulumi.Resource | undefined {
  const { config, logPath, hooks } = args;
  const component = new Component("kubeherd:index:CattlePool", pool.name, { parent: args.parent });
  const nodes = cattleNodes(config, pool, args.region);
  const join = new JoinTokenStandIn(logPath, `${pool.name}-join`, { pool: pool.name }, { parent: component });
  // As launch-template.ts: the template depends on the join token, the nodes only on the template (by input).
  const template = new LaunchTemplateStandIn(logPath, `${pool.name}-template`, { pool: pool.name, userData: nodes[0].userData }, { parent: component, dependsOn: [join] });

  const last = declareBatches(order(pool.name, args, component, nodes), (node, _i, _batch, after) => {
    return new InstanceStandIn(logPath, nodeResourceName("cattle", pool.name, node.node), { node: node.node, subnet: node.subnet, launchTemplateVersion: template.version }, {
      parent: component,
      ...mutated(cattleNodeOptions({ strategy: pool.rollout.strategy, fingerprint: node.fingerprint, after, hooks }), args.mutation),
    });
  }).lastGate;
  component.done();
  return last;
}

/** As PetsPoolComponent for existing hosts, with the components' own node options and gates: one command per node. */
function petsPool(pool: PetsPool, args: PoolArgs): pulumi.Resource | undefined {
  const { config, logPath, hooks } = args;
  const component = new Component("kubeherd:index:PetsPool", pool.name, { parent: args.parent });
  const nodes = petsNodes(config, pool);
  const last = declareBatches(order(pool.name, args, component, nodes), (node, _i, _batch, after) => {
    return new CommandStandIn(logPath, nodeResourceName("pets", pool.name, node.node), { node: node.node, script: node.script, triggers: node.triggers }, {
      parent: component,
      ...mutated(petsNodeOptions({ after, hooks }), args.mutation),
    });
  }).lastGate;
  component.done();
  return last;
}
