/**
 * What the named Pulumi resource hooks (components/hooks.ts) do, as plain functions of the hook's arguments and
 * an environment: the node resource's context, a client, a clock, a log. No Pulumi here, so tests call these
 * directly against the in-process API.
 */
import { rolloutSchema, type Rollout } from "../config/schema";
import { checkRolloutAccess } from "./access";
import type { KubeClient, NodeEvent } from "./client";
import type { Clock } from "./clock";
import { drainNode } from "./drain";
import { setRolloutTaint, taintDueNodes, ROLLOUT_PENDING, type PlannedNode } from "./due";
import { earlierNodesNotBack, removedApisRefusal, type EarlierNode } from "./preflight";
import type { ControlPlaneTransition } from "../versions/removed-api-gate";
import { describeIdentity, forgetNode, lookupNode, markManaged, MANAGED_BY, reportOf, runsRuntime, shortName, uncordon, type NodeIdentity } from "./nodes";
import { waitReady } from "./ready";
import { moveCriSocket } from "./runtime-endpoint";
import { windowRefusal } from "../rollout/window";
import { waitForWorkloads, type DrainRecord } from "./workloads";

/** What the hooks need to know about one node resource; the pool components register it under the Pulumi
 *  resource name (args.name in the hook callback) when they create the resource. */
export interface NodeHookContext {
  pool: string;
  node: string; // logical node name in the plan (pets: the Kubernetes node name; cattle: "workers-0")
  mode: "cattle" | "pets";
  kubeNodeName?: string; // pets: known Kubernetes node name; cattle: undefined -> found from instance outputs
  kubeletVersion: string; // expected kubelet version without v, e.g. "1.30.2" (from the kubelet pin)
  runtime: { name: "docker" | "containerd"; version: string }; // e.g. {name:"containerd", version:"1.7.19"}; for adoption
  rollout: Rollout;
  /** Pets: the Ubuntu release the node must run ("22.04"); a node on another one is not adopted undrained. */
  osRelease?: string;
  /** Pets: the converge script also runs maintenance (a system upgrade token is set), so never adopt undrained. */
  maintenance?: boolean;
  /** The node's batch across the cluster (components/rollout/batches.ts): the nodes of earlier batches must be back
   *  before this one is drained; the nodes of its own batch go with it. */
  batch?: number;
  /** Pets: the change from what the stack rolled out is the kubectl pin alone (rollout/client-only.ts): no drain. */
  clientOnly?: boolean;
  /** The digest of what the node converges to in this program (./due.ts `nodeTarget`): the ready hook writes it on
   *  the node; the first drain taints the nodes whose digest differs. */
  target?: string;
  /** The node that runs `kubeadm upgrade apply`: the control plane's minors from what the stack rolled out to the
   *  target. Its drain first runs the removed-API pre-flight, and refuses as `plan --live` would block. */
  controlPlaneTransition?: ControlPlaneTransition;
}

/** The part of Pulumi's ResourceHookArgs these actions read (ResourceHookArgs is assignable to it). */
export interface HookArgs {
  name: string;
  type: string;
  id?: string;
  newInputs?: Record<string, unknown>;
  oldInputs?: Record<string, unknown>;
  newOutputs?: Record<string, unknown>;
  oldOutputs?: Record<string, unknown>;
}

export interface HookEnv {
  /** The node resources' contexts, by Pulumi resource name. */
  contexts: ReadonlyMap<string, NodeHookContext>;
  /** Drains not yet followed by their gate, by Pulumi resource name (old and new copy share it). */
  records: Map<string, DrainRecord>;
  /** Cattle instances' node identities by Pulumi resource name, as their outputs resolve. */
  identities?: ReadonlyMap<string, NodeIdentity>;
  client(): Promise<KubeClient>;
  clock: Clock;
  /** The wall-clock time, for maintenance windows (the clock above only measures durations). @default the system's */
  wallClock?: () => Date;
  log: (message: string) => void;
  /** The stack's name, for the command a message tells the user to run. */
  stack?: string;
  /** The check of the identity's rights (./access.ts), made once per program run by the first drain. */
  access?: Promise<void>;
  /** The taint of the nodes due in this rollout (./due.ts), put on once per program run by the first drain. */
  due?: Promise<void>;
}

const INSTANCE_TYPE = "aws:ec2/instance:Instance";

interface Resolved {
  mode: "cattle" | "pets";
  rollout: Rollout;
  ctx?: NodeHookContext;
}

/** The node's context, or — for a resource no longer in the program — defaults and the mode its type implies. */
function resolve(args: HookArgs, env: HookEnv): Resolved {
  const ctx = env.contexts.get(args.name);
  if (ctx) return { mode: ctx.mode, rollout: ctx.rollout, ctx };
  return { mode: args.type === INSTANCE_TYPE ? "cattle" : "pets", rollout: rolloutSchema.parse({}) };
}

const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/** A cattle instance's node identity from its outputs (`id`, `privateDns`, `privateIp`). */
export function instanceIdentity(outputs: Record<string, unknown> | undefined, id?: string): NodeIdentity {
  return { instanceId: text(outputs?.id) ?? text(id), privateDns: text(outputs?.privateDns), privateIp: text(outputs?.privateIp) };
}

/**
 * A pets host kubeherd launched is known by its private DNS name; kubeadm names the node after the host name,
 * which is that name or (Ubuntu's default) its first label.
 */
function petsIdentity(name: string): NodeIdentity {
  return name.includes(".") ? { privateDns: name } : { nodeName: name };
}

function identityOf(r: Resolved, args: HookArgs, outputs: Record<string, unknown> | undefined): NodeIdentity | undefined {
  if (r.mode === "pets") {
    const name = r.ctx?.kubeNodeName ?? r.ctx?.node;
    return name ? petsIdentity(name) : undefined;
  }
  const id = instanceIdentity(outputs, args.id);
  return id.instanceId || id.privateDns || id.privateIp ? id : undefined;
}

/**
 * The drain hook: cattle `beforeDelete` (the instance is about to be terminated), pets `beforeCreate` (the
 * upgrade command is about to run). Pets nodes that already run the pins and that kubeherd has never rolled are
 * adopted without a drain.
 */
export async function drainBeforeChange(args: HookArgs, env: HookEnv): Promise<void> {
  const r = resolve(args, env);
  const id = identityOf(r, args, r.mode === "cattle" ? args.oldOutputs : undefined);
  if (!id) {
    env.log(`${args.name}: no node to drain (no context and no instance outputs to find it by)`);
    return;
  }
  // Before anything is cordoned: outside its window a node does not start, and the update stops here.
  const closed = windowRefusal(args.name, r.rollout.window, (env.wallClock ?? (() => new Date()))());
  const client = await env.client();
  if (closed) await refuse(client, env, id, closed);
  if (r.mode === "pets" && r.ctx?.clientOnly) {
    env.log(`${args.name}: only kubectl changes (a client; nothing restarts): not drained`);
    return;
  }
  // An identity that may not do all a rollout does is refused before the first cordon, not half-way through.
  env.access ??= checkRolloutAccess(client);
  await env.access;
  env.due ??= taintDue(client, env);
  await env.due;
  const notBack = await earlierNodesNotBack(client, earlierNodes(r.ctx, env));
  if (notBack.length > 0) {
    await refuse(
      client,
      env,
      id,
      `${args.name}: not taken out, as nodes of earlier batches are not back (the next batch starts once the whole batch before it is back):\n  ${notBack.join("\n  ")}\nBring them back, then run pulumi up again.${recoverHint(env)}`,
    );
  }
  // The node that runs kubeadm upgrade apply: not while the cluster uses API versions the new minor removes.
  if (r.ctx?.controlPlaneTransition) {
    const refusal = await removedApisRefusal(client, args.name, r.ctx.controlPlaneTransition, r.rollout.acceptRemovedApis, env.log);
    if (refusal) await refuse(client, env, id, refusal);
  }
  const node = await lookupNode(client, id);
  const name = node?.metadata?.name;
  if (!node || !name) {
    env.log(`${describeIdentity(id)}: no Kubernetes node registered, nothing to drain`);
    return;
  }
  if (r.mode === "pets" && r.ctx && adoptable(args, node, r.ctx)) {
    const message = `already runs kubelet v${r.ctx.kubeletVersion} and ${r.ctx.runtime.name} ${r.ctx.runtime.version}; adopting it without a drain`;
    env.log(`node ${shortName(name)}: ${message}`);
    await recordEvent(client, env, name, { type: "Normal", reason: "KubeherdAdopted", message });
    return;
  }
  let record: DrainRecord;
  try {
    record = await drainNode(client, env.clock, name, {
      policy: r.rollout,
      timeoutSeconds: r.rollout.drainTimeoutSeconds,
      log: env.log,
    });
  } catch (err) {
    await recordEvent(client, env, name, { type: "Warning", reason: "KubeherdDrainFailed", message: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  await recordEvent(client, env, name, {
    type: "Normal",
    reason: "KubeherdDrained",
    message: `cordoned and drained ${r.ctx ? `for kubelet v${r.ctx.kubeletVersion} and ${r.ctx.runtime.name} ${r.ctx.runtime.version}` : "for its change"}: evicted ${record.evicted ?? 0} pods`,
  });
  env.records.set(args.name, record);
}

/**
 * The start of the rollout: the nodes due in it (./due.ts) get the PreferNoSchedule taint, so pods evicted from
 * one do not land on the next. A failure here is logged, not fatal: the taint only steers the scheduler.
 */
async function taintDue(client: KubeClient, env: HookEnv): Promise<void> {
  const planned: PlannedNode[] = [];
  for (const ctx of env.contexts.values()) {
    if (ctx.target && !ctx.clientOnly) planned.push({ pool: ctx.pool, node: ctx.node, mode: ctx.mode, kubeNodeName: ctx.kubeNodeName, target: ctx.target });
  }
  if (planned.length === 0) return;
  try {
    const { due } = await taintDueNodes(client, planned, env.log);
    for (const name of due) {
      await recordEvent(client, env, name, { type: "Normal", reason: "KubeherdRolloutPending", message: `due in this rollout: tainted ${ROLLOUT_PENDING}:PreferNoSchedule until it is back` });
    }
  } catch (err) {
    env.log(`could not taint the nodes due in this rollout (${err instanceof Error ? err.message : String(err)}); going on without the taint`);
  }
}

/** What to run when a node is left out by a `pulumi up` that was killed (its ready hook never ran again). */
const recoverHint = (env: HookEnv) =>
  `\nAfter an interrupted pulumi up: npm run recover -- --stack ${env.stack ?? "NAME"} (it uncordons a node whose change is recorded and that is back on its pins, and says what else is left).`;

/** Records `event` on the node; an event that cannot be recorded is logged and the rollout goes on (as client-go's recorder does). */
async function recordEvent(client: KubeClient, env: HookEnv, node: string, event: NodeEvent): Promise<void> {
  try {
    await client.recordNodeEvent(node, event);
  } catch (err) {
    env.log(`node ${shortName(node)}: could not record event ${event.reason}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Throws `message`, after recording it on the node (when it is found) as a KubeherdRefused warning. */
async function refuse(client: KubeClient, env: HookEnv, id: NodeIdentity, message: string): Promise<never> {
  const name = await lookupNode(client, id).then(
    (n) => n?.metadata?.name,
    () => undefined,
  );
  if (name) await recordEvent(client, env, name, { type: "Warning", reason: "KubeherdRefused", message });
  throw new Error(message);
}

/** The nodes of the batches before `ctx`'s whose Kubernetes node can be found: pets by name, cattle by outputs. */
function earlierNodes(ctx: NodeHookContext | undefined, env: HookEnv): EarlierNode[] {
  if (ctx?.batch === undefined) return [];
  const batch = ctx.batch;
  const earlier: EarlierNode[] = [];
  for (const [name, other] of env.contexts) {
    if (other.batch === undefined || other.batch >= batch) continue;
    // On a journey the same node has a resource per stage (components/rollout/journey-plan.ts): its own earlier
    // stage is not a node before it, and after a failed stage it is the very node being taken out again.
    if (other.mode === ctx.mode && other.pool === ctx.pool && other.node === ctx.node) continue;
    const identity = other.mode === "pets" ? petsIdentity(other.kubeNodeName ?? other.node) : env.identities?.get(name);
    if (identity) earlier.push({ node: other.node, identity });
  }
  return earlier;
}

/**
 * Adoption: a create that is not a replacement, of a node kubeherd has not rolled before, that already runs the
 * pinned kubelet and runtime on the pinned Ubuntu release, with no maintenance token to apply. The engine passes no old inputs or outputs to any create hook (CreateStep.Apply in
 * pkg/resource/deploy/step.go passes nil even for a replacement), so the node's own mark tells a first
 * deployment from a replacement: kubeherd marks every node it brings back (MANAGED_BY).
 */
export function adoptable(args: HookArgs, node: Parameters<typeof reportOf>[0], ctx: NodeHookContext): boolean {
  if (args.oldInputs !== undefined || args.oldOutputs !== undefined) return false;
  if (node.metadata?.annotations?.[MANAGED_BY] !== undefined) return false;
  // A pending system or release upgrade restarts things even when the pins are in place.
  if (ctx.maintenance) return false;
  if (ctx.osRelease && !(node.status?.nodeInfo?.osImage ?? "").startsWith(`Ubuntu ${ctx.osRelease}`)) return false;
  const report = reportOf(node);
  return report.kubeletVersion === `v${ctx.kubeletVersion.replace(/^v/, "")}` && runsRuntime(report, ctx.runtime);
}

/**
 * The ready hook (`afterCreate`): the node is Ready with the pinned kubelet, then uncordoned if kubeherd cordoned
 * it, then the workloads its drain displaced are back. Holding this hook holds back the next node.
 */
export async function readyAfterChange(args: HookArgs, env: HookEnv): Promise<void> {
  const r = resolve(args, env);
  const id = identityOf(r, args, args.newOutputs);
  if (!id) {
    env.log(`${args.name}: no node to wait for (no context and no instance outputs to find it by)`);
    return;
  }
  if (!r.ctx) env.log(`${args.name}: no node context registered; waiting for Ready without a kubelet version check`);
  const client = await env.client();
  const node = await waitReady(client, env.clock, id, {
    kubeletVersion: r.ctx?.kubeletVersion,
    runtime: r.ctx?.runtime,
    timeoutSeconds: r.rollout.readyTimeoutSeconds,
    log: env.log,
  });
  const name = node.metadata?.name ?? "";
  if (r.mode === "pets") for (const line of snapshotLines(await outputText(args.newOutputs?.stdout, env.clock))) env.log(line);
  await moveCriSocket(client, name, r.ctx, env.log);
  const pins = r.ctx ? ` with kubelet v${r.ctx.kubeletVersion} and ${r.ctx.runtime.name} ${r.ctx.runtime.version}` : "";
  await recordEvent(
    client,
    env,
    name,
    r.mode === "pets"
      ? { type: "Normal", reason: "KubeherdConverged", message: `converged to its pins and Ready${pins}` }
      : { type: "Normal", reason: "KubeherdJoined", message: `joined from its launch template and Ready${pins}` },
  );
  if (await uncordon(client, name)) {
    env.log(`node ${shortName(name)}: uncordoned`);
    await recordEvent(client, env, name, { type: "Normal", reason: "KubeherdUncordoned", message: "uncordoned after its change" });
  }
  // The rollout's taint goes with the uncordon (a node somebody else cordoned loses it too: it is back on its pins).
  if (await setRolloutTaint(client, name, false)) env.log(`node ${shortName(name)}: took off ${ROLLOUT_PENDING}`);
  await markManaged(client, name, r.ctx ? { pool: r.ctx.pool, node: r.ctx.node, target: r.ctx.target } : undefined);
  await gate(args, env, r);
}

async function gate(args: HookArgs, env: HookEnv, r: Resolved) {
  const record = env.records.get(args.name);
  if (!record) return;
  await waitForWorkloads(await env.client(), env.clock, record, { timeoutSeconds: r.rollout.workloadTimeoutSeconds, log: env.log });
  env.records.delete(args.name);
}

/**
 * The forget hook (cattle `afterDelete`): deletes the Node object of the terminated instance. With the `surge`
 * strategy no create follows the delete, so the workload gate of its drain runs here.
 */
export async function forgetAfterDelete(args: HookArgs, env: HookEnv): Promise<void> {
  const r = resolve(args, env);
  const id = instanceIdentity(args.oldOutputs, args.id);
  if (!id.instanceId && !id.privateDns && !id.privateIp) return;
  const client = await env.client();
  const name = await forgetNode(client, id);
  env.log(name ? `node ${shortName(name)}: deleted the Node of terminated ${describeIdentity(id)}` : `${describeIdentity(id)}: no Node object left to delete`);
  if (r.rollout.strategy === "surge") await gate(args, env, r);
}

/**
 * The converge script's `etcd snapshot saved: PATH (N bytes)` lines (components/scripts/kubeadm.ts): the command's
 * output is secret and not logged, so the ready hook repeats these in the `up`'s output. Only lines of that exact
 * shape are taken, the rest of the output stays unseen.
 */
export function snapshotLines(stdout: string | undefined): string[] {
  return (stdout ?? "")
    .split("\n")
    .filter((l) => /^kubeherd\[[A-Za-z0-9.-]+\]: etcd snapshot saved: \/[A-Za-z0-9._/-]+ \([0-9]+ bytes\); README "The way back" says how to restore it$/.test(l));
}

/** A hook's output value as text: a plain string, or a (secret) Output the engine wrapped it in, bounded by 10 s. */
async function outputText(value: unknown, clock: Clock): Promise<string | undefined> {
  if (typeof value === "string") return value;
  if (typeof value !== "object" || value === null || !("apply" in value) || typeof value.apply !== "function") return undefined;
  const output = value as { apply(f: (v: unknown) => unknown): unknown };
  const stop = new AbortController();
  const text = await Promise.race([
    new Promise<string | undefined>((resolve) => {
      output.apply((v) => {
        resolve(typeof v === "string" ? v : undefined);
        return v;
      });
    }),
    clock.sleep(10_000, stop.signal).then(() => undefined, () => undefined),
  ]);
  stop.abort();
  return text;
}
