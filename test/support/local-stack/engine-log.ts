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
import type { KubeherdConfig } from "../../../components/config/schema";
import type { Step } from "../../../components/rollout/plan";
import { cattleNodeName, petsNodeNames } from "../../../components/rollout/nodes";

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

/** Raw log lines where a cattle node's `terminate` is not followed by its `forget` (its afterDelete hook) before
 *  anything else happens to that node (the nodes of a batch interleave, so another node's line may come between). */
export function unforgottenTerminations(lines: string[]): string[] {
  return lines.filter((line, i) => {
    const { node, event } = parseLine(line);
    if (event !== "terminate") return false;
    const next = lines.slice(i + 1).find((l) => parseLine(l).node === node);
    return next !== `${node}:forget`;
  });
}

/**
 * A sequence of `<node>:<action>` lines read batch by batch, for comparing an engine log with the plan: the nodes of
 * one batch change at once, so their lines interleave in any order. Each run of consecutive lines of one batch
 * (the batch of a line: its step's in the plan) becomes one entry, `<batch>: <node's actions> | <node's actions>`,
 * nodes in the plan's order, each node's actions in the order they happened. A batch that starts before the one
 * before it ended shows up as extra entries, an action the plan does not have as batch `?`, so either fails the
 * comparison.
 */
export function inBatches(actions: readonly string[], plan: readonly Step[]): string[] {
  const batchOf = new Map<string, number>(plan.map((s) => [`${s.node}:${s.action}`, s.batch]));
  const nodeOrder = new Map<string, number>();
  plan.forEach((s) => nodeOrder.set(s.node, nodeOrder.get(s.node) ?? nodeOrder.size));
  const runs: { batch: string; actions: string[] }[] = [];
  for (const action of actions) {
    const batch = String(batchOf.get(action) ?? "?");
    const last = runs[runs.length - 1];
    if (last && last.batch === batch) last.actions.push(action);
    else runs.push({ batch, actions: [action] });
  }
  return runs.map(({ batch, actions: run }) => {
    const nodes = [...new Set(run.map((a) => parseLine(a).node))].sort((a, b) => (nodeOrder.get(a) ?? Infinity) - (nodeOrder.get(b) ?? Infinity));
    return `${batch}: ${nodes.map((n) => run.filter((a) => parseLine(a).node === n).join(" ")).join(" | ")}`;
  });
}
