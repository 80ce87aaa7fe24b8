/**
 * components/hooks.ts itself: the three named hooks, and a callback run end to end through configureKubeconfig
 * against the in-process API. ResourceHook registration needs Pulumi's (patched) mock monitor.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { rolloutSchema } from "../../components/config/schema";
import { useMocks } from "../support/fixtures/mocks";
import { startApi } from "../support/kube-api/harness";

type Hooks = typeof import("../../components/hooks");
let hooks: Hooks;

beforeAll(async () => {
  useMocks("dev", {});
  hooks = await import("../../components/hooks");
});

describe("components/hooks", () => {
  it("defines the three named hooks the components bind, none of them run in preview", () => {
    expect([hooks.drainHook, hooks.readyHook, hooks.forgetNodeHook].map((h) => [h.name, h.opts?.onDryRun ?? false])).toEqual([
      ["kubeherd-drain", false],
      ["kubeherd-ready", false],
      ["kubeherd-forget-node", false],
    ]);
  });

  it("drains with the client built from the configured kubeconfig (a secret Output) and the registered context", async () => {
    const h = await startApi();
    h.api.cluster.addNode("cp-1", { kubeletVersion: "v1.30.1" });
    hooks.configureKubeconfig(pulumi.secret(h.api.kubeconfig));
    hooks.registerNodeContext("control-plane-cp-1", {
      pool: "control-plane",
      node: "cp-1",
      mode: "pets",
      kubeNodeName: "cp-1",
      kubeletVersion: "1.30.2",
      runtime: { name: "containerd", version: "1.7.19" },
      rollout: rolloutSchema.parse({}),
    });
    await hooks.drainHook.callback({ urn: "urn:pulumi:dev::kubeherd::command:remote:Command::control-plane-cp-1", id: "", name: "control-plane-cp-1", type: "command:remote:Command", newInputs: {} });
    expect(h.api.cluster.get("nodes", "cp-1")?.spec?.unschedulable).toBe(true);
  });
});
