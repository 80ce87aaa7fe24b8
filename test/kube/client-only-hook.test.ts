/**
 * A kubectl-only change on a pets node: GIVEN the node context says only kubectl changes, WHEN the drain hook runs
 * before the converge command, THEN nothing is cordoned or evicted, even on a node kubeherd has rolled before; a
 * node whose kubelet changes is still drained.
 */
import { describe, expect, it } from "vitest";
import { rolloutSchema } from "../../components/config/schema";
import { drainBeforeChange, type HookArgs, type NodeHookContext } from "../../components/kube/hook-actions";
import { CORDONED_BY, MANAGED_BY } from "../../components/kube/nodes";
import { clock, startApi } from "../support/kube-api/harness";

const pets = (patch: Partial<NodeHookContext> = {}): NodeHookContext => ({
  pool: "storage",
  node: "st-1",
  mode: "pets",
  kubeNodeName: "st-1",
  kubeletVersion: "1.33.5",
  runtime: { name: "containerd", version: "1.7.27" },
  rollout: rolloutSchema.parse({ drainTimeoutSeconds: 10, readyTimeoutSeconds: 10, workloadTimeoutSeconds: 10 }),
  ...patch,
});
const create: HookArgs = { name: "storage-st-1", type: "command:remote:Command", newInputs: { triggers: [] } };

describe("the drain hook on a kubectl-only change", () => {
  it.each([
    [true, undefined],
    [false, "kubeherd"],
  ])("clientOnly %s: cordoned by %s", async (clientOnly, cordonedBy) => {
    const h = await startApi();
    h.api.cluster.addNode("st-1", { kubeletVersion: "v1.33.5", runtime: "containerd://1.7.27", annotations: { [MANAGED_BY]: "kubeherd" } });
    h.api.cluster.addNode("st-2");
    h.api.cluster.addDeployment("web", "web", ["st-1"]);
    const env = { contexts: new Map([["storage-st-1", pets(clientOnly ? { clientOnly: true } : {})]]), records: new Map(), client: async () => h.client, clock, log: h.log };
    await drainBeforeChange(create, env);
    expect(h.api.cluster.get("nodes", "st-1")?.metadata?.annotations?.[CORDONED_BY]).toBe(cordonedBy);
    if (clientOnly) {
      expect(h.api.cluster.evictions).toEqual([]);
      expect(h.lines).toEqual(["storage-st-1: only kubectl changes (a client; nothing restarts): not drained"]);
    }
  });
});
