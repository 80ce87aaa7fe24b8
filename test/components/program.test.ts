/**
 * The program under Pulumi's mocks: GIVEN a stack's config, WHEN index.ts runs, THEN the registered graph is the
 * one DESIGN.md "Rollout semantics" describes. Hooks never run under mocks; their callbacks are tested in test/kube.
 */
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Output } from "@pulumi/pulumi";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { readStackFile } from "../../components/config/stackfile";
import { settle, unwrapSecret, useMocks, valueOf, type Registration } from "../support/fixtures/mocks";
import { patched } from "../support/fixtures/config";
import { REPO_DIR } from "../support/fixtures/stackfiles";
import { loadStack } from "../../cli/stack";
import { rolledOutOf } from "../../components/promotion/rolled-out";

const SECRETS = { "kubeherd:kubeconfig": "apiVersion: v1\nkind: Config\n# kubeconfig-secret-marker", "kubeherd:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----ssh-secret-marker" };

/** The dev stack file's config as the Pulumi engine hands it to the program, with patches to kubeherd:* keys. */
function stackConfig(file: string, patch: Record<string, Record<string, unknown>> = {}): Record<string, string> {
  const { values } = readStackFile(join(REPO_DIR, file));
  const out: Record<string, string> = { ...SECRETS };
  for (const [k, v] of Object.entries(values)) {
    const short = k.replace(/^kubeherd:/, "");
    const value = k.startsWith("kubeherd:") && patch[short] ? patched({ v }, { v: patch[short] }).v : v;
    out[k] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

async function runProgram(config: Record<string, string>): Promise<{ registered: Registration[]; exports: Record<string, unknown> }> {
  const registered = useMocks("dev", config, Object.keys(SECRETS));
  vi.resetModules();
  const exports = await (await loadProgram())();
  // Nodes register batch after batch behind their gates: rolledOut resolves once every node has.
  await valueOf(exports.rolledOut as Output<unknown>);
  await settle();
  return { registered, exports };
}

type Program = () => Promise<Record<string, unknown>>;
const loadProgram = async (): Promise<Program> => ((await import("../../index")) as unknown as { default: Program }).default;

const byType = (registered: Registration[], type: string) => registered.filter((r) => r.type === type);
const userDataOf = (r: Registration) => gunzipSync(Buffer.from(String(r.inputs.userData), "base64")).toString("utf8");
const BUMP = { versions: { kubernetes: "1.34.1", kubeadm: "1.34.1-1.1", kubelet: "1.34.1-1.1", kubectl: "1.34.1-1.1" } };

describe("the dev stack under mocks", () => {
  let registered: Registration[];
  let exports: Record<string, unknown>;
  beforeEach(async () => {
    ({ registered, exports } = await runProgram(stackConfig("Pulumi.dev.yaml")));
  });

  it("puts a gate between batches: each node depends on the gate before it, each gate on its batch and the gate before", () => {
    const nodes = registered.filter((r) => r.type === "aws:ec2/instance:Instance" || r.type === "command:remote:Command");
    const gates = byType(registered, "pulumi:index:Stash");
    expect(nodes.map((n) => n.name)).toEqual(["control-plane-dev-cp-1", "workers-0", "workers-1", "storage-dev-storage-1"]);
    expect(gates.map((g) => g.name)).toEqual(["control-plane-batch-1", "workers-batch-2", "workers-batch-3", "storage-batch-4"]);
    const ordering = new Set([...nodes, ...gates].map((r) => r.urn));
    const orderingDeps = (r: Registration) => r.dependencies.filter((d) => ordering.has(d));
    nodes.forEach((node, i) => {
      expect(orderingDeps(node)).toEqual(i === 0 ? [] : [gates[i - 1].urn]);
      expect(JSON.stringify(node.inputs)).not.toMatch(/ip-10-0-0-1/);
    });
    gates.forEach((gate, i) => {
      expect(orderingDeps(gate).sort()).toEqual([...(i === 0 ? [] : [gates[i - 1].urn]), nodes[i].urn].sort());
      expect(gate.replacementTrigger).toMatch(/^sha256:[0-9a-f]{64}$/);
    });
  });

  it("stores a few dependency edges per node: the cattle nodes depend on their launch template and their gate alone", () => {
    for (const instance of byType(registered, "aws:ec2/instance:Instance")) {
      expect(instance.dependencies.map((d) => d.split("::").pop())).toEqual(expect.arrayContaining(["workers-template-lt"]));
      expect(instance.dependencies.length).toBeLessThanOrEqual(2);
    }
  });

  it("replaces rolling cattle nodes delete-before-create, on a trigger of pins and image, with drain, ready and forget hooks", () => {
    for (const instance of byType(registered, "aws:ec2/instance:Instance")) {
      expect(instance.deleteBeforeReplace).toBe(true);
      expect(String(instance.replacementTrigger)).toContain("1.33.5-1.1");
      expect(String(instance.replacementTrigger)).toContain("ami-0a1b2c3d4e5f60718");
      expect(instance.hooks).toEqual({ beforeCreate: [], afterCreate: ["kubeherd-ready"], beforeDelete: ["kubeherd-drain"], afterDelete: ["kubeherd-forget-node"] });
      expect(instance.inputs.launchTemplate).toMatchObject({ version: "1" });
    }
  });

  it("bakes the pins into the launch template: user data installs and holds them, IMDSv2 required, root volume encrypted", () => {
    const [lt] = byType(registered, "aws:ec2/launchTemplate:LaunchTemplate");
    const userData = userDataOf(lt);
    expect(userData).toMatch(/^#cloud-config/);
    for (const pin of ["'kubelet' '1.33.5-1.1'", "'kubeadm' '1.33.5-1.1'", "'kubectl' '1.33.5-1.1'", "'containerd.io' '1.7.27-1'"]) expect(userData).toContain(pin);
    expect(userData).toMatch(/apt-mark hold/);
    expect(lt.inputs.metadataOptions).toMatchObject({ httpTokens: "required" });
    expect(lt.inputs.blockDeviceMappings).toEqual([expect.objectContaining({ ebs: expect.objectContaining({ encrypted: "true" }) })]);
    expect(lt.inputs.tags).toMatchObject({ "kubeherd:pin:kubelet": "1.33.5-1.1" });
  });

  it("keeps the join token out of user data and plain outputs: a SecureString in SSM, read by the pool's role alone", () => {
    const [param] = byType(registered, "aws:ssm/parameter:Parameter");
    expect(param.inputs).toMatchObject({ type: "SecureString", name: "/kubeherd/dev/workers/join" });
    const [lt] = byType(registered, "aws:ec2/launchTemplate:LaunchTemplate");
    const everythingPlain = JSON.stringify(registered.filter((r) => !["aws:ssm/parameter:Parameter", "kubernetes:core/v1:Secret", "pulumi:providers:kubernetes"].includes(r.type)).map((r) => r.inputs)) + userDataOf(lt);
    expect(everythingPlain).not.toContain("0123456789abcdef");
    expect(everythingPlain).not.toContain("kubeconfig-secret-marker");
    const [policy] = byType(registered, "aws:iam/rolePolicy:RolePolicy");
    expect(JSON.parse(String(policy.inputs.policy))).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: "arn:aws:mock:::workers-join-parameter" },
        { Effect: "Allow", Action: ["kms:Decrypt"], Resource: "arn:aws:mock:::kubeherd-join", Condition: { StringEquals: { "kms:ViaService": "ssm.eu-west-1.amazonaws.com" } } },
      ],
    });
    const [secret] = byType(registered, "kubernetes:core/v1:Secret");
    expect(secret.inputs).toMatchObject({ type: "bootstrap.kubernetes.io/token", metadata: { namespace: "kube-system", name: "bootstrap-token-abcdef" } });
  });

  it("upgrades pets nodes with one command each: triggers of pins and tokens, drain and ready hooks, output kept secret", () => {
    const commands = byType(registered, "command:remote:Command");
    expect(commands.map((c) => c.name)).toEqual(["control-plane-dev-cp-1", "storage-dev-storage-1"]);
    for (const c of commands) {
      expect(c.hooks).toEqual({ beforeCreate: ["kubeherd-drain"], afterCreate: ["kubeherd-ready"], beforeDelete: [], afterDelete: [] });
      expect(c.inputs.triggers).toEqual(expect.arrayContaining(["kubelet=1.33.5-1.1", "containerd.io=1.7.27-1", "system-upgrade=2026-11"]));
      expect(c.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr", "connection"]));
      expect(c.inputs.logging).toBe("none");
      expect(String(c.inputs.create)).toMatch(/^sudo -n bash -c '/);
      expect(unwrapSecret(c.inputs.connection)).toMatchObject({ hostKey: expect.stringMatching(/^ssh-ed25519 /), user: "ubuntu" });
    }
    expect(String(commands[0].inputs.create)).toContain("kubeadm upgrade apply");
    expect(String(commands[1].inputs.create)).not.toContain("kubeadm upgrade apply");
  });

  it("exports the pins and nodes per pool and the rollout order", async () => {
    const pools = exports.pools as Record<string, { pins: Record<string, string>; nodes: string[] }>;
    expect(pools.workers.nodes).toEqual(["workers-0", "workers-1"]);
    expect(pools.storage.pins.kubelet).toBe("1.33.5-1.1");
    expect(exports.rolloutOrder).toEqual(["dev-cp-1", "workers-0", "workers-1", "dev-storage-1"]);
    const workers = exports.pools as Record<string, { launchTemplateId: Output<string>; instanceIds: Output<string>[] }>;
    expect(await valueOf(workers.workers.launchTemplateId)).toBe("workers-template-lt-id");
    expect(await Promise.all(workers.workers.instanceIds.map(valueOf))).toEqual(["workers-0-id", "workers-1-id"]);
  });
});

describe("a bumped dev stack under mocks", () => {
  it("puts the new pins into user data, the replacement trigger and the pets triggers, and nothing of the old ones", async () => {
    const { registered } = await runProgram(stackConfig("Pulumi.dev.yaml", BUMP));
    const [lt] = byType(registered, "aws:ec2/launchTemplate:LaunchTemplate");
    expect(userDataOf(lt)).toContain("'kubelet' '1.34.1-1.1'");
    expect(userDataOf(lt)).not.toContain("1.33.5");
    for (const i of byType(registered, "aws:ec2/instance:Instance")) expect(String(i.replacementTrigger)).toContain("1.34.1-1.1");
    for (const c of byType(registered, "command:remote:Command")) expect(c.inputs.triggers).toContain("kubelet=1.34.1-1.1");
  });

  it("creates surge replacements before deleting (no deleteBeforeReplace)", async () => {
    const pools = JSON.parse(stackConfig("Pulumi.dev.yaml")["kubeherd:pools"]) as Record<string, unknown>[];
    const surge = pools.map((p) => (p.name === "workers" ? { ...p, rollout: { strategy: "surge" } } : p));
    const config = { ...stackConfig("Pulumi.dev.yaml"), "kubeherd:pools": JSON.stringify(surge) };
    const { registered } = await runProgram(config);
    const instances = byType(registered, "aws:ec2/instance:Instance");
    expect(instances).toHaveLength(2);
    for (const i of instances) expect(i.deleteBeforeReplace).toBe(false);
  });
});

describe("bad config under the program", () => {
  it("throws before any resource is registered, naming the key", async () => {
    const config = stackConfig("Pulumi.dev.yaml", { versions: { kubelet: "1.34.0-1.1" } });
    const registered = useMocks("dev", config, Object.keys(SECRETS));
    vi.resetModules();
    await expect((await loadProgram())()).rejects.toThrow(/kubeherd:versions\.kubelet/);
    expect(registered).toEqual([]);
  });

  it("refuses a missing SSH key secret when the program runs", async () => {
    const config = stackConfig("Pulumi.dev.yaml");
    delete config["kubeherd:sshPrivateKey"];
    useMocks("dev", config, ["kubeherd:kubeconfig"]);
    vi.resetModules();
    await expect((await loadProgram())()).rejects.toThrow(/kubeherd:sshPrivateKey/);
  });
});

describe("the prod stack under mocks: the promotion gate", () => {
  const devConfig = () => {
    const loaded = loadStack(join(REPO_DIR, "Pulumi.dev.yaml"), REPO_DIR);
    if (!loaded.config) throw new Error("dev stack invalid");
    return loaded.config;
  };
  const prodWithDevPins = () => {
    const config = stackConfig("Pulumi.prod.yaml");
    config["kubeherd:versions"] = stackConfig("Pulumi.dev.yaml")["kubeherd:versions"];
    return config;
  };
  const run = async (config: Record<string, string>, devOutputs: Record<string, unknown>) => {
    const registered = useMocks("prod", config, Object.keys(SECRETS), { "acme/kubeherd/dev": devOutputs });
    vi.resetModules();
    return { registered, result: (await loadProgram())() };
  };

  it("refuses pins dev has not rolled out, naming the key, before any node resource is registered", async () => {
    const { registered, result } = await run(prodWithDevPins(), {});
    await expect(result).rejects.toThrow(/kubeherd:promotion\.from/);
    const devBehind = { rolledOut: rolledOutOf(patchedDev({ kubelet: "1.33.4-1.1" })) };
    const second = await run(prodWithDevPins(), devBehind);
    await expect(second.result).rejects.toThrow(/kubeherd:versions\.kubelet: 1\.33\.5-1\.1 has not been rolled out on dev/);
    expect([...registered, ...second.registered].filter((r) => r.type !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  it("builds prod once dev has rolled the pins out", async () => {
    const { registered, result } = await run(prodWithDevPins(), { rolledOut: rolledOutOf(devConfig()) });
    const exports = await result;
    await valueOf(exports.rolledOut as Output<unknown>);
    await settle();
    expect(exports.rolloutOrder).toEqual(["prod-cp-1", "prod-cp-2", "prod-cp-3", "workers-0", "workers-1", "workers-2", "workers-3", "workers-4", "workers-5", "prod-storage-1", "prod-storage-2"]);
    expect(byType(registered, "command:remote:Command")[0].inputs.triggers).toContain("kubelet=1.33.5-1.1");
  });

  function patchedDev(versions: Record<string, string>) {
    const config = devConfig();
    return { ...config, versions: { ...config.versions, ...versions } };
  }
});
