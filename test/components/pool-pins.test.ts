/**
 * The program under Pulumi's mocks with a pool's own `versions` block (issue 18): a 1.34 control plane with the
 * `workers` pool staged on 1.33. The pool's block reaches its launch template's user data and its nodes'
 * replacement trigger and hook contexts (the kubelet the ready hook waits for); the other pools follow the
 * cluster's versions; a bad block is refused before any resource is registered, naming the pool's key.
 */
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Output } from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { readStackFile } from "../../components/config/stackfile";
import type { NodeHookContext } from "../../components/hooks";
import { settle, useMocks, valueOf, type Registration } from "../support/fixtures/mocks";
import { REPO_DIR } from "../support/fixtures/stackfiles";

const contexts = vi.hoisted(() => new Map<string, { pool: string; kubeletVersion: string }>());
vi.mock("../../components/hooks", async (importActual) => {
  const actual = await importActual<typeof import("../../components/hooks")>();
  return {
    ...actual,
    registerNodeContext: (name: string, ctx: NodeHookContext) => {
      contexts.set(name, { pool: ctx.pool, kubeletVersion: ctx.kubeletVersion });
      actual.registerNodeContext(name, ctx);
    },
  };
});

const SECRETS = { "kubeherd:kubeconfig": "apiVersion: v1\nkind: Config\n", "kubeherd:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----k" };
const STAGED_133 = { kubeadm: "1.33.5-1.1", kubelet: "1.33.5-1.1", kubectl: "1.33.5-1.1" };

function devConfig(workersVersions: Record<string, string>): Record<string, string> {
  const { values } = readStackFile(join(REPO_DIR, "Pulumi.dev.yaml"));
  const out: Record<string, string> = { ...SECRETS };
  for (const [k, v] of Object.entries(values)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  const versions = JSON.parse(out["kubeherd:versions"]) as Record<string, unknown>;
  out["kubeherd:versions"] = JSON.stringify({ ...versions, kubernetes: "1.34.1", kubeadm: "1.34.1-1.1", kubelet: "1.34.1-1.1", kubectl: "1.34.1-1.1" });
  const pools = JSON.parse(out["kubeherd:pools"]) as Record<string, unknown>[];
  out["kubeherd:pools"] = JSON.stringify(pools.map((p) => (p.name === "workers" ? { ...p, versions: workersVersions } : p)));
  return out;
}

type Program = () => Promise<Record<string, unknown>>;
const loadProgram = async (): Promise<Program> => ((await import("../../index")) as unknown as { default: Program }).default;
const byType = (registered: Registration[], type: string) => registered.filter((r) => r.type === type);
const userDataOf = (r: Registration) => gunzipSync(Buffer.from(String(r.inputs.userData), "base64")).toString("utf8");

describe("a staged upgrade under mocks: workers pinned to 1.33 under a 1.34 control plane", () => {
  it("bakes the pool's pins into its launch template, trigger and hook contexts, and the cluster's into the others", async () => {
    contexts.clear();
    const registered = useMocks("dev", devConfig(STAGED_133), Object.keys(SECRETS));
    vi.resetModules();
    const exports = await (await loadProgram())();
    await valueOf(exports.rolledOut as Output<unknown>);
    await settle();

    const [lt] = byType(registered, "aws:ec2/launchTemplate:LaunchTemplate");
    const userData = userDataOf(lt);
    expect(userData).toContain("'kubelet' '1.33.5-1.1'");
    expect(userData).toContain("'kubeadm' '1.33.5-1.1'");
    expect(userData).toContain("/v1.33/");
    expect(userData).not.toContain("1.34.1");
    for (const i of byType(registered, "aws:ec2/instance:Instance")) expect(String(i.replacementTrigger)).toContain("kubelet=1.33.5-1.1");
    for (const c of byType(registered, "command:remote:Command")) {
      expect(c.inputs.triggers).toContain("kubelet=1.34.1-1.1");
      expect(String(c.inputs.create)).toContain("/v1.34/");
    }

    const byPool = (pool: string) => [...contexts.values()].filter((c) => c.pool === pool).map((c) => c.kubeletVersion);
    expect(byPool("workers")).toEqual(["1.33.5", "1.33.5"]);
    expect(byPool("storage")).toEqual(["1.34.1"]);
    expect(byPool("control-plane")).toEqual(["1.34.1"]);
    const pools = exports.pools as Record<string, { pins: Record<string, string> }>;
    expect(pools.workers.pins.kubelet).toBe("1.33.5-1.1");
    expect(pools.storage.pins.kubelet).toBe("1.34.1-1.1");
  });

  it("refuses a pool kubelet newer than the control plane before any resource is registered, naming the pool's key", async () => {
    const registered = useMocks("dev", devConfig({ kubeadm: "1.35.0-1.1", kubelet: "1.35.0-1.1", kubectl: "1.35.0-1.1" }), Object.keys(SECRETS));
    vi.resetModules();
    await expect((await loadProgram())()).rejects.toThrow(/kubeherd:pools\[\d\]\.versions\.kubelet: kubelet 1\.35\.0-1\.1 is newer than the control plane/);
    expect(registered).toEqual([]);
  });
});
