/**
 * The engine test's Pulumi program: the resource graph of components/cluster.ts, cattle.ts and pets.ts, with the
 * same names, parents, `dependsOn`, `deleteBeforeReplace`, `replacementTrigger` and hooks, over stand-ins that log
 * instead of touching machines. The nodes and their fingerprints and triggers come from the real
 * components/rollout/nodes.ts, as the components' do.
 *
 * The node options come from components/node-options.ts, the same function the components call.
 * Not modelled: the Kubernetes provider and KMS key (no node depends on them in order), and pets pools whose EC2
 * hosts kubeherd creates (`size`), whose instances are never replaced.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CattlePool, KubeherdConfig, PetsPool } from "../../../components/config/schema";
import { cattleNodeOptions, petsNodeOptions } from "../../../components/node-options";
import { cattleNodes, petsNodes, poolsInRolloutOrder } from "../../../components/rollout/nodes";
import { nodeHooks, type HookFaults, type NodeHooks } from "./hooks";
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
}

export function declareCluster({ config, region, logPath, faults }: ClusterProgramArgs): void {
  // Defined on every run, bound or not (components/hooks.ts does the same at module level).
  const hooks = nodeHooks(logPath, faults);
  const cluster = new Component("kubeherd:index:Cluster", "kubeherd");
  const nodes: pulumi.Resource[] = [];
  for (const pool of poolsInRolloutOrder(config)) {
    const earlier = [...nodes];
    nodes.push(...(pool.mode === "cattle"
      ? cattlePool(pool, { config, region, logPath, hooks, parent: cluster, earlier })
      : petsPool(pool, { config, logPath, hooks, parent: cluster, earlier })));
  }
  cluster.done();
}

interface PoolArgs {
  config: KubeherdConfig;
  logPath: string;
  hooks: NodeHooks;
  parent: pulumi.Resource;
  /** Every node before the pool's in the rollout. */
  earlier: readonly pulumi.Resource[];
}

/** As CattlePoolComponent, with the components' own node options: returns the pool's nodes. */
function cattlePool(pool: CattlePool, args: PoolArgs & { region: string }): pulumi.Resource[] {
  const { config, logPath, hooks } = args;
  const component = new Component("kubeherd:index:CattlePool", pool.name, { parent: args.parent });
  const nodes = cattleNodes(config, pool, args.region);
  const join = new JoinTokenStandIn(logPath, `${pool.name}-join`, { pool: pool.name }, { parent: component });
  const template = new LaunchTemplateStandIn(logPath, `${pool.name}-template`, { pool: pool.name, userData: nodes[0].userData }, { parent: component });

  const instances: pulumi.Resource[] = [];
  for (const node of nodes) {
    instances.push(new InstanceStandIn(logPath, node.node, { node: node.node, subnet: node.subnet, launchTemplateVersion: template.version }, {
      parent: component,
      ...cattleNodeOptions({ strategy: pool.rollout.strategy, fingerprint: node.fingerprint, earlier: [...args.earlier, ...instances], hooks, needs: [join] }),
    }));
  }
  component.done();
  return instances;
}

/** As PetsPoolComponent for existing hosts, with the components' own node options: one command per node. */
function petsPool(pool: PetsPool, args: PoolArgs): pulumi.Resource[] {
  const { config, logPath, hooks } = args;
  const component = new Component("kubeherd:index:PetsPool", pool.name, { parent: args.parent });
  const commands: pulumi.Resource[] = [];
  for (const node of petsNodes(config, pool)) {
    commands.push(new CommandStandIn(logPath, `${pool.name}-${node.node}`, { node: node.node, script: node.script, triggers: node.triggers }, {
      parent: component,
      ...petsNodeOptions({ earlier: [...args.earlier, ...commands], hooks }),
    }));
  }
  component.done();
  return commands;
}
