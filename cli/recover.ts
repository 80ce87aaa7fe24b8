/**
 * `npm run recover -- --stack NAME [--kubeconfig FILE] [--context NAME]`
 *
 * What to run after a `pulumi up` was killed (a cancelled CI job, a lost laptop), before the next `up`. It does what
 * is safe and prints one line for each thing it did or left: removes the stack's lock (`pulumi cancel`), finds the
 * instances kubeherd launched for this stack that the state does not hold (by their `kubeherd:stack` and
 * `kubeherd:node` tags, through the `aws` CLI) and terminates them, draining their Node first; clears the pending
 * operations it can prove safe (`pulumi stack export` / `import`); refreshes the state (`pulumi refresh`); deletes
 * the Node of an instance the refresh found gone; and uncordons a node only when its change is recorded and it is
 * back on its pins (components/recover/decide.ts). Run it only when no `pulumi up` of the stack is running.
 * Exit 0: all clear, run `pulumi up`; 1: something is left (the lines say what to do); 2: bad input.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { createsInstances } from "../components/config/pools";
import { formatProblem } from "../components/config/problems";
import type { KubeherdConfig } from "../components/config/schema";
import type { KubeClient } from "../components/kube/client";
import { systemClock } from "../components/kube/clock";
import { drainNode } from "../components/kube/drain";
import { forgetNode, lookupNode, markManaged, reportOf, uncordon, type NodeIdentity } from "../components/kube/nodes";
import { nodeTarget, setRolloutTaint } from "../components/kube/due";
import { decideCordons, decidePending, findOrphans, type CloudInstance, type NodeView, type Orphan, type PlanNodeView } from "../components/recover/decide";
import { COMMAND, INSTANCE, readDeployment, urnName, withPending, type Deployment } from "../components/recover/state";
import { cattleNodeName, cattleNodes, nodeExpectations, petsNodeNames, petsNodes } from "../components/rollout/nodes";
import { nodeResourceName } from "../components/node-options";
import { parseCommand, type CommandSpec } from "./args";
import { describeFailure, openCluster } from "./cluster-access";
import { loadStack, stackFilePath } from "./stack";

export const RECOVER_COMMAND: CommandSpec = {
  command: "npm run recover",
  summary: "After an interrupted pulumi up: removes the lock, terminates orphaned instances, clears what is safe, refreshes, and lists what is left.",
  options: {
    stack: { type: "string", value: "NAME", required: true, stack: true, help: "the stack whose up was interrupted (its Pulumi.NAME.yaml and state)" },
    kubeconfig: { type: "string", value: "FILE", help: "the cluster's kubeconfig (default: KUBECONFIG); it drains orphans and uncordons" },
    context: { type: "string", value: "NAME", help: "the kubeconfig context to use" },
  },
};

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program of the user's PATH (`pulumi`, `aws`) in the project directory. */
export type Runner = (program: "pulumi" | "aws", args: string[]) => Promise<Run>;

export function processRunner(dir: string, env: NodeJS.ProcessEnv = process.env): Runner {
  return (program, args) => new Promise((resolve) => {
    execFile(program, args, { cwd: dir, env, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === 127 ? err.message : "") });
    });
  });
}

export interface RecoverOptions {
  stack: string;
  dir: string;
  kubeconfig?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  run: Runner;
  print: (line: string) => void;
  error: (line: string) => void;
}

const lastLine = (r: Run) => (r.stderr.trim() || r.stdout.trim()).split("\n").filter(Boolean).pop() ?? `exit ${r.code}`;

async function exportState(o: RecoverOptions): Promise<{ raw: unknown; state: Deployment } | { error: string }> {
  const r = await o.run("pulumi", ["stack", "export", "--stack", o.stack, "--non-interactive"]);
  if (r.code !== 0) return { error: `pulumi stack export failed: ${lastLine(r)}` };
  const raw = JSON.parse(r.stdout) as unknown;
  return { raw, state: readDeployment(raw) };
}

/** The instances the cloud has for this cluster (its tag), live ones only. */
async function cloudInstances(o: RecoverOptions, region: string, cluster: string): Promise<CloudInstance[] | { error: string }> {
  const r = await o.run("aws", [
    "ec2", "describe-instances", "--region", region,
    "--filters", `Name=tag:kubeherd:cluster,Values=${cluster}`, "Name=instance-state-name,Values=pending,running,stopping,stopped",
    "--output", "json",
  ]);
  if (r.code !== 0) return { error: `aws ec2 describe-instances failed: ${lastLine(r)}` };
  type Described = { Reservations?: { Instances?: { InstanceId: string; State?: { Name?: string }; Tags?: { Key: string; Value: string }[]; PrivateDnsName?: string; PrivateIpAddress?: string }[] }[] };
  const body = JSON.parse(r.stdout) as Described;
  return (body.Reservations ?? []).flatMap((res) => res.Instances ?? []).map((i) => ({
    id: i.InstanceId,
    state: i.State?.Name ?? "",
    tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value])),
    privateDns: i.PrivateDnsName || undefined,
    privateIp: i.PrivateIpAddress || undefined,
  }));
}

/** Drains the orphan's Node (when it joined), terminates it, deletes the Node. One line; false when it was left. */
async function terminateOrphan(o: RecoverOptions, client: KubeClient, config: KubeherdConfig, region: string, orphan: Orphan): Promise<boolean> {
  const { instance } = orphan;
  const id: NodeIdentity = { instanceId: instance.id, privateDns: instance.privateDns, privateIp: instance.privateIp };
  const what = `instance ${instance.id} (node ${orphan.node ?? "?"}${orphan.pendingUrn ? ", the create the interrupted up left pending" : ""})`;
  const node = await lookupNode(client, id);
  const name = node?.metadata?.name;
  let drained = "";
  if (name) {
    const pool = config.pools.find((p) => p.name === orphan.pool);
    const policy = (pool ?? config.pools[0]).rollout;
    try {
      const record = await drainNode(client, systemClock, name, { policy, timeoutSeconds: policy.drainTimeoutSeconds, log: () => undefined });
      drained = `, after draining its Node ${name} (${record.evicted ?? 0} pods evicted)`;
    } catch (err) {
      o.print(`not terminated: ${what}: the drain of its Node ${name} failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}; its Node stays cordoned`);
      return false;
    }
  }
  const r = await o.run("aws", ["ec2", "terminate-instances", "--region", region, "--instance-ids", instance.id, "--output", "json"]);
  if (r.code !== 0) {
    o.print(`not terminated: ${what}: aws ec2 terminate-instances failed: ${lastLine(r)}`);
    return false;
  }
  if (name) await forgetNode(client, { nodeName: name });
  o.print(`terminated: ${what}: launched by kubeherd for this stack, not in the state${drained}${name ? "; its Node deleted" : ""}`);
  return true;
}

/** Each plan node with its resource's state, for the cordon decisions. */
function planViews(config: KubeherdConfig, region: string, state: Deployment, pendingBefore: Deployment["pending"]): PlanNodeView[] {
  const views: PlanNodeView[] = [];
  for (const pool of config.pools) {
    const { kubeletVersion } = nodeExpectations(config, pool);
    const nodes = pool.mode === "cattle" ? Array.from({ length: pool.size }, (_, i) => cattleNodeName(pool, i)) : petsNodeNames(pool);
    // What the program's ready hook marks each node with (components/pets.ts, cattle.ts): its target's digest.
    const targets = new Map(pool.mode === "cattle"
      ? cattleNodes(config, pool, region).map((n) => [n.node, nodeTarget(n.fingerprint)])
      : petsNodes(config, pool).map((n) => [n.node, nodeTarget(n.triggers)]));
    const type = pool.mode === "cattle" ? INSTANCE : COMMAND;
    for (const node of nodes) {
      const resourceName = nodeResourceName(pool.mode, pool.name, node);
      const mine = (r: { type: string; urn: string }) => r.type === type && urnName(r.urn) === resourceName;
      const recorded = state.resources.filter(mine);
      const pending = pendingBefore.find((op) => mine(op.resource));
      // Pets: the Kubernetes node is named after the plan node; cattle: the private DNS name of each instance the state holds.
      const kubeNodes = pool.mode === "cattle" ? [...recorded, ...(pending ? [pending.resource] : [])].map((r) => r.outputs.privateDns).filter((d): d is string => typeof d === "string") : [node];
      for (const kubeNode of kubeNodes.length ? kubeNodes : [undefined]) {
        views.push({ node, kubeNode, kubeletVersion, pending: pending?.type, recorded: recorded.length > 0, pool: pool.name, target: targets.get(node) });
      }
    }
  }
  return views;
}

export async function runRecover(o: RecoverOptions): Promise<0 | 1 | 2> {
  const loaded = loadStack(stackFilePath(o.dir, o.stack), o.dir, "skip");
  for (const p of loaded.problems) o.error(formatProblem(p));
  const config = loaded.config;
  if (!config || loaded.problems.some((p) => p.severity === "error")) return 2;
  const access = openCluster(o.kubeconfig, o.env, o.context, true);
  if ("error" in access) {
    o.error(access.error);
    return 2;
  }
  const { client } = access;
  let left = 0;

  const cancel = await o.run("pulumi", ["cancel", "--yes", "--stack", o.stack, "--non-interactive"]);
  if (cancel.code !== 0) {
    o.error(`pulumi cancel failed: ${lastLine(cancel)}`);
    return 1;
  }
  o.print("done: the stack's lock is removed (pulumi cancel): run this only when no pulumi up of the stack is running");

  const before = await exportState(o);
  if ("error" in before) {
    o.error(before.error);
    return 1;
  }

  try {
    // Instances launched for this stack that the state does not hold: the create the kill interrupted.
    const cattle = config.pools.some(createsInstances);
    let cloudClean = !cattle;
    let cloudProblem: string | undefined;
    if (cattle) {
      const region = loaded.region ?? "";
      const instances = await cloudInstances(o, region, config.cluster.name);
      if ("error" in instances) {
        cloudProblem = instances.error;
        o.print(`not done: the search for orphaned instances: ${instances.error}`);
        left++;
      } else {
        const { orphans, unsure } = findOrphans({ stack: o.stack, cluster: config.cluster.name, state: before.state.resources, pending: before.state.pending, instances });
        let all = true;
        for (const orphan of orphans) all = (await terminateOrphan(o, client, config, region, orphan)) && all;
        for (const i of unsure) {
          o.print(`not touched: instance ${i.id} carries kubeherd:cluster=${config.cluster.name} but no kubeherd:stack tag: if it is this stack's node ${i.tags["kubeherd:node"] ?? "?"} and the state does not hold it, terminate it`);
        }
        if (orphans.length === 0) o.print(`checked: no instance of this stack outside the state (${instances.length} of the cluster's instances are live)`);
        cloudClean = all;
        if (!all) {
          cloudProblem = "an orphaned instance could not be terminated";
          left++;
        }
        left += unsure.length;
      }
    }

    // The pending operations: clear what is proven safe, keep the rest.
    const secrets = new Set<string>();
    const core = access.kubeConfig.makeApiClient(CoreV1Api);
    for (const op of before.state.pending.filter((p) => p.resource.type === "kubernetes:core/v1:Secret")) {
      const m = op.resource.inputs.metadata as { name?: string; namespace?: string } | undefined;
      if (!m?.name) continue;
      const namespace = m.namespace ?? "default";
      const found = await core.readNamespacedSecret({ name: m.name, namespace }).then(() => true, (e: unknown) => ((e as { code?: number }).code === 404 ? false : Promise.reject(e)));
      if (found) secrets.add(`${namespace}/${m.name}`);
    }
    const decisions = decidePending(before.state.pending, { cloudClean, cloudProblem, secrets });
    for (const d of decisions) o.print(d.line);
    if (decisions.length === 0) o.print("checked: no pending operations in the state");
    const kept = decisions.filter((d) => !d.clear).length;
    left += kept;
    if (decisions.some((d) => d.clear)) {
      const dir = mkdtempSync(join(tmpdir(), "kubeherd-recover-"));
      try {
        const file = join(dir, "state.json");
        writeFileSync(file, JSON.stringify(withPending(before.raw, (_, i) => !decisions[i].clear)), { mode: 0o600 });
        const imported = await o.run("pulumi", ["stack", "import", "--stack", o.stack, "--file", file, "--non-interactive"]);
        if (imported.code !== 0) {
          o.error(`pulumi stack import failed: ${lastLine(imported)}`);
          return 1;
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    // The state against what there is now; then the Nodes of instances the refresh found gone.
    const refresh = await o.run("pulumi", ["refresh", "--yes", "--skip-preview", "--stack", o.stack, "--non-interactive", ...(kept ? ["--skip-pending-creates"] : [])]);
    if (refresh.code !== 0) {
      o.error(`pulumi refresh failed: ${lastLine(refresh)}`);
      return 1;
    }
    const after = await exportState(o);
    if ("error" in after) {
      o.error(after.error);
      return 1;
    }
    o.print("done: the state is refreshed (pulumi refresh)");
    const still = new Set(after.state.resources.filter((r) => r.type === INSTANCE && r.id).map((r) => r.id));
    for (const gone of before.state.resources.filter((r) => r.type === INSTANCE && r.id && !still.has(r.id))) {
      const id: NodeIdentity = { instanceId: gone.id, privateDns: gone.outputs.privateDns as string | undefined, privateIp: gone.outputs.privateIp as string | undefined };
      // What the forget hook after a terminate does, which the kill cut short: the cloud says the instance is gone.
      const name = await forgetNode(client, id);
      o.print(`dropped: instance ${gone.id} (${urnName(gone.urn)}): the refresh found it gone${name ? `; its Node ${name} deleted` : ""}`);
    }

    // kubeherd's own cordons the kill left.
    const nodes: NodeView[] = (await client.list("nodes")).items.map((n) => {
      const r = reportOf(n);
      return { name: n.metadata?.name ?? "", ready: r.ready, kubeletVersion: r.kubeletVersion, cordonedByKubeherd: r.cordonedByKubeherd };
    });
    for (const d of decideCordons(planViews(config, loaded.region ?? "", after.state, before.state.pending), nodes)) {
      if (d.uncordon) {
        // What the ready hook that did not finish does once the node is back: uncordon, the rollout's taint off, the
        // node marked with what it converged to (else the next up's start finds it due and taints it again, and no
        // hook of its recorded change takes that taint off).
        await uncordon(client, d.node);
        await setRolloutTaint(client, d.node, false);
        await markManaged(client, d.node, d.plan?.pool && d.plan.target ? { pool: d.plan.pool, node: d.plan.node, target: d.plan.target } : undefined);
        await client.recordNodeEvent(d.node, { type: "Normal", reason: "KubeherdUncordoned", message: "uncordoned by npm run recover: its change was recorded and it is back on its pins" }).catch(() => undefined);
      }
      if (d.left) left++;
      o.print(d.line);
    }
  } catch (err) {
    o.error(describeFailure(err, access.server));
    return 1;
  }
  o.print(left === 0 ? "next: pulumi up" : `next: ${left} thing(s) above are left for you; then run npm run recover -- --stack ${o.stack} again, then pulumi up`);
  return left === 0 ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(RECOVER_COMMAND, argv);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values as { stack: string; kubeconfig?: string; context?: string };
  const dir = process.cwd();
  return runRecover({
    stack: v.stack, dir, kubeconfig: v.kubeconfig, context: v.context, run: processRunner(dir),
    print: (line) => console.log(line),
    error: (line) => console.error(line),
  });
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
