/** A real `pulumi up` of the engine tier's replica of the node graph (cluster.ts) on a local stack, for a config. */
import type { KubeherdConfig } from "../../../../components/config/schema";
import type { LocalStack, UpOutcome } from "../local-stack";
import type { OptionsMutation } from "./cluster";
import type { HookFaults, WallClock } from "./hooks";

export interface ReplicaUpOptions {
  faults?: HookFaults;
  clock?: WallClock;
  parallel?: number;
  mutation?: OptionsMutation;
}

export function upReplica(stack: LocalStack, config: KubeherdConfig, region: string, { parallel, ...replica }: ReplicaUpOptions = {}): Promise<UpOutcome> {
  return stack.up({}, { parallel, replica: { config, region, ...replica } });
}
