/**
 * Dynamic-provider stand-ins for the resources the pool components declare (aws.ec2.Instance, command.remote.Command,
 * the launch template, the join token). They touch nothing: each node action appends `<node>:<action>` to the
 * engine log, so the test sees the order in which the real engine performs them.
 *
 * The engine runs these providers in its own `pulumi-resource-pulumi-nodejs` process from a serialized copy of the
 * provider object: the methods may capture plain values (the log path, action names) but nothing with state.
 */
import * as pulumi from "@pulumi/pulumi";
import { appendFileSync } from "node:fs";

/**
 * Every action waits this long after logging, so actions the engine runs concurrently interleave in the log: 150 ms,
 * or `KUBEHERD_ENGINE_ACTION_MS` (the bench's rollout figure takes longer steps, nearer a real node's).
 */
export const ACTION_MS = actionMs(process.env.KUBEHERD_ENGINE_ACTION_MS);

export function actionMs(value: string | undefined): number {
  if (value === undefined) return 150;
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new Error(`KUBEHERD_ENGINE_ACTION_MS: ${JSON.stringify(value)} is not a whole number of milliseconds from 1`);
  return Number(value);
}

/** What a stand-in logs for its create and delete, and which inputs make its provider ask for a replacement. */
interface StandInSpec {
  logPath: string;
  /** Logged as `<node>:<create>`; undefined logs nothing (not a node action). */
  create?: string;
  delete?: string;
  update?: string;
  /** Inputs whose change the real provider answers with "replace". */
  replaceOn: string[];
}

function standInProvider(spec: StandInSpec): pulumi.dynamic.ResourceProvider {
  // Captured by name, not destructured: the serializer would confuse a captured `create` with the method `create`.
  const { logPath, replaceOn } = spec;
  const onCreate = spec.create;
  const onUpdate = spec.update;
  const onDelete = spec.delete;
  const act = async (node: unknown, action: string | undefined) => {
    if (action === undefined) return;
    appendFileSync(logPath, `${String(node)}:${action}\n`);
    await new Promise((resolve) => setTimeout(resolve, ACTION_MS));
  };
  return {
    async create(inputs) {
      await act(inputs.node, onCreate);
      return { id: `${String(inputs.node)}-${process.hrtime.bigint()}`, outs: { ...inputs, version: 1 } };
    },
    async diff(_id, olds, news) {
      const differs = (key: string) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]);
      // `version` is an output (undefined among the news); `__provider` is the serialized provider itself.
      const keys = Object.keys(news).filter((k) => k !== "__provider" && k !== "version");
      return { changes: keys.some(differs), replaces: replaceOn.filter(differs) };
    },
    async update(_id, olds, news) {
      await act(news.node, onUpdate);
      // A launch template's update makes a new version, as an aws.ec2.LaunchTemplate's `latestVersion` does.
      return { outs: { ...news, version: Number(olds.version) + 1 } };
    },
    async delete(_id, props) {
      await act(props.node, onDelete);
    },
  };
}

/** Outputs every stand-in has: `version` counts its updates. */
class StandIn extends pulumi.dynamic.Resource {
  declare readonly version: pulumi.Output<number>;
  constructor(spec: StandInSpec, name: string, inputs: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(standInProvider(spec), name, { ...inputs, version: undefined }, opts);
  }
}

/** A cattle node's EC2 instance: a new launch template version or subnet forces a new instance (FACTS.md §6). */
export class InstanceStandIn extends StandIn {
  constructor(logPath: string, name: string, inputs: { node: string; subnet: string; launchTemplateVersion: pulumi.Input<number> }, opts: pulumi.CustomResourceOptions) {
    super({ logPath, create: "launch", delete: "terminate", replaceOn: ["launchTemplateVersion", "subnet"] }, name, inputs, opts);
  }
}

/**
 * A pets node's remote command: a change of `triggers` replaces it (runs `create`, the converge script); a change of
 * the script alone runs `update`, which is `true` in the real component. Its delete runs nothing on the node (the
 * real command has no `delete` script): logged as `retire`.
 */
export class CommandStandIn extends StandIn {
  constructor(logPath: string, name: string, inputs: { node: string; script: string; triggers: string[] }, opts: pulumi.CustomResourceOptions) {
    super({ logPath, create: "run", update: "update", delete: "retire", replaceOn: ["triggers"] }, name, inputs, opts);
  }
}

/** A pool's launch template: updated in place, each update a new `version`; no node action. */
export class LaunchTemplateStandIn extends StandIn {
  constructor(logPath: string, name: string, inputs: { pool: string; userData: string }, opts: pulumi.CustomResourceOptions) {
    super({ logPath, replaceOn: [] }, name, inputs, opts);
  }
}

/** A pool's join token: every node of the pool depends on it; unchanged by a bump. */
export class JoinTokenStandIn extends StandIn {
  constructor(logPath: string, name: string, inputs: { pool: string }, opts: pulumi.CustomResourceOptions) {
    super({ logPath, replaceOn: [] }, name, inputs, opts);
  }
}
