/**
 * The least the cattle side needs of AWS (issue 19 item 3): iam/provider-actions.json maps each AWS resource type
 * kubeherd declares, and each engine operation on it, to the API actions the provider calls; iam/kubeherd-deployer.json
 * grants exactly their union. GIVEN a stack with every pool kind (pets hosts, pets EC2 nodes, cattle), WHEN the
 * program runs under Pulumi's mocks, THEN every AWS type it registers is in the table with all four operations,
 * and the table names no type the program never declares.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Output } from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { readStackFile } from "../../components/config/stackfile";
import { settle, useMocks, valueOf } from "../support/fixtures/mocks";
import { AWS_TYPES } from "../support/providers/aws";
import { REPO_DIR } from "../support/fixtures/stackfiles";

interface Table {
  configure: { actions: string[] };
  resources: Record<string, { declaredIn: string; create: string[]; read: string[]; update: string[]; delete: string[] }>;
}
interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const table = JSON.parse(readFileSync(join(REPO_DIR, "iam", "provider-actions.json"), "utf8")) as Table;
const policy = JSON.parse(readFileSync(join(REPO_DIR, "iam", "kubeherd-deployer.json"), "utf8")) as { Version: string; Statement: Statement[] };
const OPERATIONS = ["create", "read", "update", "delete"] as const;
const tableActions = () => new Set([...table.configure.actions, ...Object.values(table.resources).flatMap((r) => OPERATIONS.flatMap((op) => r[op]))]);

const SECRETS = { "kubeherd:kubeconfig": "apiVersion: v1\nkind: Config\n", "kubeherd:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----x" };

/** The dev stack (pets hosts, a cattle pool) with a pets pool whose EC2 nodes kubeherd creates. */
function everyPoolKind(): Record<string, string> {
  const { values } = readStackFile(join(REPO_DIR, "Pulumi.dev.yaml"));
  const out: Record<string, string> = { ...SECRETS };
  for (const [k, v] of Object.entries(values)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  const pools = values["kubeherd:pools"] as Record<string, unknown>[];
  const ec2Pets = { name: "edge", role: "worker", mode: "pets", size: 1, instanceType: "m6i.large", subnets: ["subnet-0a1b2c3d4e5f60001"], securityGroups: ["sg-0a1b2c3d4e5f60001"], ssh: { user: "ubuntu" } };
  out["kubeherd:pools"] = JSON.stringify([...pools, ec2Pets]);
  return out;
}

describe("the AWS actions kubeherd needs (iam/)", () => {
  it("has every AWS type the program registers for a stack with every pool kind in the table, with all four operations, and no other", async () => {
    const registered = useMocks("dev", everyPoolKind(), Object.keys(SECRETS));
    vi.resetModules();
    const program = ((await import("../../index")) as unknown as { default: () => Promise<Record<string, unknown>> }).default;
    const exports = await program();
    await valueOf(exports.rolledOut as Output<unknown>);
    await settle();
    const modes = Object.values(exports.pools as Record<string, { mode: string; instanceIds?: unknown }>).map((p) => `${p.mode}${p.instanceIds ? "+ec2" : ""}`);
    expect(new Set(modes)).toEqual(new Set(["pets", "cattle+ec2", "pets+ec2"]));
    const declared = [...new Set(registered.map((r) => r.type).filter((t) => t.startsWith("aws:")))].sort();
    expect(declared).toEqual(Object.keys(table.resources).sort());
    for (const type of declared) for (const op of OPERATIONS) expect(table.resources[type][op].length, `${type} ${op}`).toBeGreaterThan(0);
  });

  it("covers every type the end-to-end tier's AWS stand-in forwards to the fake cloud", () => {
    expect(Object.keys(AWS_TYPES).sort()).toEqual(Object.keys(table.resources).sort());
  });

  it("grants exactly the union of the table's actions", () => {
    const granted = new Set(policy.Statement.flatMap((s) => s.Action));
    expect([...granted].sort()).toEqual([...tableActions()].sort());
    expect(policy.Statement.every((s) => s.Effect === "Allow" && s.Action.every((a) => /^[a-z0-9]+:[A-Z][A-Za-z]+$/.test(a)))).toBe(true);
  });

  it("scopes every action that changes something, by a tag condition or by resource, wherever it is granted", () => {
    const unscoped = policy.Statement.filter((s) => s.Resource === "*" && !s.Condition).flatMap((s) => s.Action);
    expect(unscoped.filter((a) => !/^[a-z0-9]+:(Describe|Get|List)/.test(a))).toEqual([]);
    // What kubeherd tags (components/launch-template.ts, join.ts, cluster.ts, nodeTags) is what the conditions name.
    const conditions = JSON.stringify(policy.Statement.map((s) => s.Condition ?? {}));
    expect(conditions).toContain("aws:RequestTag/kubeherd:cluster");
    expect(conditions).toContain("aws:ResourceTag/kubeherd:cluster");
  });
});
