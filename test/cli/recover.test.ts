/**
 * `npm run recover` against the in-process Kubernetes API, with the `pulumi` and `aws` CLIs scripted as they answer
 * after an interrupted `up` (the real ones run in test/e2e/interrupted.e2e.ts): what it runs, in which order, what
 * it clears, terminates and uncordons, and its one line per thing.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RECOVER_COMMAND, runRecover, type Run } from "../../cli/recover";
import { checkArgs } from "../../cli/args";
import { CORDONED_BY, KUBEHERD } from "../../components/kube/nodes";
import { CONVERGED_TO, nodeTarget, ROLLOUT_PENDING } from "../../components/kube/due";
import { petsNodes } from "../../components/rollout/nodes";
import { currentConfig, currentInput } from "../support/fixtures/config";
import { tempProject } from "../support/fixtures/stackfiles";
import { startApi } from "../support/kube-api/harness";

const project = tempProject();
afterAll(() => project.remove());
project.write("test", { ...currentInput, kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } });

const INSTANCE = "aws:ec2/instance:Instance";
const urn = (type: string, name: string) => `urn:pulumi:test::kubeherd::kubeherd:index:Cluster$x$${type}::${name}`;
const tags = (node: string) => ({ Name: `test-${node}`, "kubeherd:cluster": "test", "kubeherd:stack": "test", "kubeherd:pool": "workers", "kubeherd:node": node });

/** The state the kill left: workers-1 and -2 recorded, workers-0's create pending, storage-1's converge pending, a launch template's create pending. */
function killedState(pending = true) {
  const held = (node: string, id: string) => ({ urn: urn(INSTANCE, node), type: INSTANCE, id, custom: true, inputs: { tags: tags(node) }, outputs: { privateDns: `ip-${id}.internal`, privateIp: "10.0.0.1" } });
  return {
    version: 3,
    deployment: {
      manifest: {},
      resources: [held("workers-1", "i-1"), held("workers-2", "i-2"), ...["cp-1", "cp-2"].map((n) => ({ urn: urn("command:remote:Command", `control-plane-${n}`), type: "command:remote:Command", id: `c-${n}`, inputs: {}, outputs: {} }))],
      pending_operations: pending
        ? [
            { type: "creating", resource: { urn: urn(INSTANCE, "workers-0"), type: INSTANCE, inputs: { tags: tags("workers-0") } } },
            { type: "creating", resource: { urn: urn("command:remote:Command", "storage-storage-1"), type: "command:remote:Command", inputs: {} } },
            { type: "creating", resource: { urn: urn("aws:ec2/launchTemplate:LaunchTemplate", "storage-template-lt"), type: "aws:ec2/launchTemplate:LaunchTemplate", inputs: {} } },
          ]
        : [],
    },
  };
}

const described = (instances: { id: string; node: string; state?: string }[]) => JSON.stringify({
  Reservations: instances.map((i) => ({ Instances: [{ InstanceId: i.id, State: { Name: i.state ?? "running" }, PrivateDnsName: `ip-${i.id}.internal`, PrivateIpAddress: "10.0.9.9", Tags: Object.entries(tags(i.node)).map(([Key, Value]) => ({ Key, Value })) }] })),
});

async function scenario(opts: { pending?: boolean; awsFails?: boolean } = {}) {
  const h = await startApi();
  const c = h.api.cluster;
  c.addNode("cp-1", { kubeletVersion: "v1.30.2" });
  c.addNode("cp-2", { kubeletVersion: "v1.30.2", unschedulable: true, annotations: { [CORDONED_BY]: KUBEHERD }, taints: [{ key: ROLLOUT_PENDING, value: "true", effect: "PreferNoSchedule" }] });
  c.addNode("storage-1", { kubeletVersion: "v1.30.1", unschedulable: true, annotations: { [CORDONED_BY]: KUBEHERD } });
  c.addNode("ip-i-1.internal", { providerID: "aws:///eu-west-1a/i-1" });
  c.addNode("ip-i-2.internal", { providerID: "aws:///eu-west-1b/i-2" });
  c.addNode("ip-i-orphan.internal", { providerID: "aws:///eu-west-1a/i-orphan" });
  const kubeconfig = join(project.dir, `kubeconfig-${h.api.url.split(":").at(-1)}`);
  writeFileSync(kubeconfig, h.api.kubeconfig);
  const calls: string[] = [];
  let imported: unknown;
  let exports = 0;
  const ok = (stdout = ""): Run => ({ code: 0, stdout, stderr: "" });
  const run = async (program: "pulumi" | "aws", args: string[]): Promise<Run> => {
    calls.push(`${program} ${args.filter((a) => !a.startsWith("/")).join(" ")}`);
    if (program === "aws") {
      if (opts.awsFails) return { code: 255, stdout: "", stderr: "Unable to locate credentials. You can configure credentials by running \"aws configure\"." };
      if (args[1] === "terminate-instances") return ok("{}");
      return ok(described([{ id: "i-1", node: "workers-1" }, { id: "i-2", node: "workers-2" }, { id: "i-orphan", node: "workers-0" }, { id: "i-gone", node: "workers-0", state: "terminated" }]));
    }
    if (args[0] === "stack" && args[1] === "export") return ok(JSON.stringify(exports++ === 0 ? killedState(opts.pending ?? true) : killedState(false)));
    if (args[0] === "stack" && args[1] === "import") imported = JSON.parse(readFileSync(args[args.indexOf("--file") + 1], "utf8"));
    return ok();
  };
  const out: string[] = [];
  const errors: string[] = [];
  const code = await runRecover({ stack: "test", dir: project.dir, kubeconfig, run, print: (l) => out.push(l), error: (l) => errors.push(l) });
  return { code, out, errors, calls, imported: imported as ReturnType<typeof killedState> | undefined, cluster: c };
}

describe("npm run recover", () => {
  it("removes the lock, terminates the orphan after draining it, clears what is safe, refreshes, and lists the rest", async () => {
    const r = await scenario();
    expect(r.errors).toEqual([]);
    expect(r.calls).toEqual([
      "pulumi cancel --yes --stack test --non-interactive",
      "pulumi stack export --stack test --non-interactive",
      "aws ec2 describe-instances --region eu-west-1 --filters Name=tag:kubeherd:cluster,Values=test Name=instance-state-name,Values=pending,running,stopping,stopped --output json",
      "aws ec2 terminate-instances --region eu-west-1 --instance-ids i-orphan --output json",
      "pulumi stack import --stack test --file --non-interactive",
      "pulumi refresh --yes --skip-preview --stack test --non-interactive --skip-pending-creates",
      "pulumi stack export --stack test --non-interactive",
    ]);
    expect(r.out).toEqual([
      "done: the stack's lock is removed (pulumi cancel): run this only when no pulumi up of the stack is running",
      "terminated: instance i-orphan (node workers-0, the create the interrupted up left pending): launched by kubeherd for this stack, not in the state, after draining its Node ip-i-orphan.internal (0 pods evicted); its Node deleted",
      "cleared: pending create of Instance workers-0: no instance of node workers-0 is left that the state does not hold (the next up launches it again)",
      "cleared: pending create of Command storage-storage-1: the converge runs again on the next up, after its drain (it is idempotent; a run the kill left going on the node finishes first)",
      "not cleared: pending create of LaunchTemplate storage-template-lt: it may exist without the state knowing: find it and pulumi import it or delete it, then pulumi refresh --clear-pending-creates",
      "done: the state is refreshed (pulumi refresh)",
      "uncordoned: node cp-2: its change is recorded and it is Ready on kubelet v1.30.2 (the ready hook the kill cut short)",
      "left cordoned: node storage-1: its change may have started: the next up drains it again (nothing left to evict) and finishes the change",
      "next: 1 thing(s) above are left for you; then run npm run recover -- --stack test again, then pulumi up",
    ]);
    expect(r.code).toBe(1);
    expect(r.imported?.deployment.pending_operations.map((p) => p.resource.urn)).toEqual([urn("aws:ec2/launchTemplate:LaunchTemplate", "storage-template-lt")]);
    expect(r.imported?.deployment.resources).toEqual(killedState().deployment.resources);
    expect(r.cluster.get("nodes", "ip-i-orphan.internal")).toBeUndefined();
    expect(r.cluster.get("nodes", "cp-2")?.spec?.unschedulable).toBeFalsy();
    // What the ready hook would have done after its uncordon: the rollout's taint off, the node marked with its target.
    expect(r.cluster.get("nodes", "cp-2")?.spec?.taints ?? []).toEqual([]);
    const config = currentConfig();
    const cp = config.pools.find((p) => p.name === "control-plane");
    const cp2 = cp?.mode === "pets" ? petsNodes(config, cp).find((n) => n.node === "cp-2") : undefined;
    expect(cp2).toBeDefined();
    expect(r.cluster.get("nodes", "cp-2")?.metadata?.annotations?.[CONVERGED_TO]).toBe(nodeTarget(cp2?.triggers ?? []));
    expect(r.cluster.get("nodes", "storage-1")?.spec?.unschedulable).toBe(true);
  });

  it("terminates nothing and keeps the instance's pending create when the cloud cannot be searched", async () => {
    const r = await scenario({ awsFails: true });
    expect(r.calls.filter((c) => c.includes("terminate-instances"))).toEqual([]);
    expect(r.out).toContainEqual('not done: the search for orphaned instances: aws ec2 describe-instances failed: Unable to locate credentials. You can configure credentials by running "aws configure".');
    expect(r.out).toContainEqual(expect.stringMatching(/^not cleared: pending create of Instance workers-0: the cloud could not be searched/));
    expect(r.imported?.deployment.pending_operations).toHaveLength(2);
    expect(r.cluster.get("nodes", "ip-i-orphan.internal")).toBeDefined();
    expect(r.code).toBe(1);
  });

  it("says so when there is nothing pending, and imports nothing", async () => {
    const r = await scenario({ pending: false });
    expect(r.out).toContainEqual("checked: no pending operations in the state");
    expect(r.calls.filter((c) => c.startsWith("pulumi stack import"))).toEqual([]);
    expect(r.calls).toContainEqual("pulumi refresh --yes --skip-preview --stack test --non-interactive");
  });

  it("takes the one argv parser's options", () => {
    expect(checkArgs(RECOVER_COMMAND, [])).toEqual({ error: "--stack is required" });
    expect(checkArgs(RECOVER_COMMAND, ["--stack", "../x"])).toMatchObject({ error: expect.stringMatching(/--stack must be the name of a stack/) });
    expect(checkArgs(RECOVER_COMMAND, ["--stack", "dev", "--kubeconfig", "k"])).toEqual({ values: { stack: "dev", kubeconfig: "k" } });
  });
});
