/**
 * From what the real engine did (the `<node>:<event>` lines the stand-ins and hooks log) to the planner's
 * vocabulary (`<node>:<action>`, as `npm run plan` prints it), so the two sequences compare line by line.
 *
 * | mode   | event logged                     | by                          | plan actions                |
 * |--------|----------------------------------|-----------------------------|-----------------------------|
 * | cattle | drain                            | `kubeherd-drain` beforeDelete | drain                     |
 * | cattle | terminate                        | provider delete             | terminate                   |
 * | cattle | forget                           | `kubeherd-forget-node` afterDelete | (none: finishes the terminate by deleting the Node object) |
 * | cattle | launch                           | provider create             | launch                      |
 * | cattle | ready                            | `kubeherd-ready` afterCreate | wait-ready                 |
 * | pets   | drain                            | `kubeherd-drain` beforeCreate | drain                     |
 * | pets   | run                              | provider create (the converge script) | run               |
 * | pets   | ready                            | `kubeherd-ready` afterCreate | wait-ready, uncordon (the hook uncordons; the engine cannot see it apart) |
 * | pets   | retire                           | provider delete of the replaced command | (none: the real command has no delete script) |
 *
 * Anything else (a pets `update`, an unknown node or event) is kept as `<node>:?<event>` so the comparison fails.
 */
import type { KubeherdConfig } from "../../components/config/schema";
import type { Step } from "../../components/rollout/plan";
import { cattleNodeName, petsNodeNames } from "../../components/rollout/nodes";

export type NodeMode = "cattle" | "pets";

const ACTIONS_OF: Record<NodeMode, Record<string, string[]>> = {
  cattle: { drain: ["drain"], terminate: ["terminate"], forget: [], launch: ["launch"], ready: ["wait-ready"] },
  pets: { drain: ["drain"], run: ["run"], ready: ["wait-ready", "uncordon"], retire: [] },
};

/** Each node of the configs (pool mode by node name), so a log line's node tells how to read its event. */
export function nodeModes(...configs: KubeherdConfig[]): Map<string, NodeMode> {
  const modes = new Map<string, NodeMode>();
  for (const config of configs) {
    for (const pool of config.pools) {
      const names = pool.mode === "cattle" ? Array.from({ length: pool.size }, (_, i) => cattleNodeName(pool, i)) : petsNodeNames(pool);
      for (const name of names) modes.set(name, pool.mode);
    }
  }
  return modes;
}

/** Splits `<node>:<event>`; node names have no colon (they are Kubernetes node names or `<pool>-<index>`). */
function parseLine(line: string): { node: string; event: string } {
  const at = line.lastIndexOf(":");
  return at < 0 ? { node: line, event: "" } : { node: line.slice(0, at), event: line.slice(at + 1) };
}

export function engineActions(lines: string[], modes: Map<string, NodeMode>): string[] {
  return lines.flatMap((line) => {
    const { node, event } = parseLine(line);
    const mode = modes.get(node);
    const actions = mode ? ACTIONS_OF[mode][event] : undefined;
    return actions ? actions.map((a) => `${node}:${a}`) : [`${node}:?${event}`];
  });
}

/** The planner's steps in the same `<node>:<action>` form. */
export const planActions = (steps: Step[]): string[] => steps.map((s) => `${s.node}:${s.action}`);

/** Raw log lines where a cattle node's `terminate` is not directly followed by its `forget` (its afterDelete hook). */
export function unforgottenTerminations(lines: string[]): string[] {
  return lines.filter((line, i) => {
    const { node, event } = parseLine(line);
    return event === "terminate" && lines[i + 1] !== `${node}:forget`;
  });
}
