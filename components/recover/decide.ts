/**
 * What `npm run recover` may do after an interrupted `pulumi up`, decided from plain data: the stack's state, the
 * cloud's instances and the cluster's Nodes. Each decision carries the one line the command prints for it. The
 * rule throughout: clear or undo only what is proven safe; name everything else with what to do about it.
 */
import { COMMAND, INSTANCE, tagOf, urnName, type PendingOperation, type StateResource } from "./state";

/** An instance as the cloud lists it (EC2 DescribeInstances). */
export interface CloudInstance {
  id: string;
  /** EC2's state name: pending, running, stopping, stopped, shutting-down, terminated. */
  state: string;
  tags: Record<string, string>;
  privateDns?: string;
  privateIp?: string;
}

/** An instance kubeherd launched for this stack that the stack's state does not hold. */
export interface Orphan {
  instance: CloudInstance;
  /** Its plan node (`workers-0`) and pool, from its tags. */
  node?: string;
  pool?: string;
  /** The pending create the interrupted `up` left for that node, if there is one: the create that launched it. */
  pendingUrn?: string;
}

export interface OrphanSearch {
  orphans: Orphan[];
  /** Instances that may be this cluster's but carry no stack tag (launched before kubeherd tagged the stack): listed, never touched. */
  unsure: CloudInstance[];
}

const GONE = new Set(["shutting-down", "terminated"]);

/**
 * The orphans among `instances` (the cloud's instances tagged for this cluster or stack): live, tagged with this
 * stack, and not among the instances the state holds. An instance with the cluster's tag but no stack tag could
 * be another stack's of a cluster with the same name: unsure.
 */
export function findOrphans(args: { stack: string; cluster: string; state: readonly StateResource[]; pending: readonly PendingOperation[]; instances: readonly CloudInstance[] }): OrphanSearch {
  const managed = new Set(args.state.filter((r) => r.type === INSTANCE && r.id).map((r) => r.id as string));
  const orphans: Orphan[] = [];
  const unsure: CloudInstance[] = [];
  for (const instance of args.instances) {
    if (GONE.has(instance.state) || managed.has(instance.id)) continue;
    const stack = instance.tags["kubeherd:stack"];
    if (stack === undefined) {
      if (instance.tags["kubeherd:cluster"] === args.cluster) unsure.push(instance);
      continue;
    }
    if (stack !== args.stack) continue;
    const node = instance.tags["kubeherd:node"];
    const pending = args.pending.find((op) => op.type === "creating" && op.resource.type === INSTANCE && node !== undefined && tagOf(op.resource, "kubeherd:node") === node);
    orphans.push({ instance, node, pool: instance.tags["kubeherd:pool"], pendingUrn: pending?.resource.urn });
  }
  return { orphans, unsure };
}

/** What recover knows beyond the state when it judges the pending operations. */
export interface PendingFacts {
  /** The cloud was searched for orphans and each found was terminated; false when the search failed or was skipped. */
  cloudClean: boolean;
  /** Why the cloud could not be searched, for the line. */
  cloudProblem?: string;
  /** `namespace/name` of the Secrets that exist in the cluster now. */
  secrets: ReadonlySet<string>;
}

export interface PendingDecision {
  op: PendingOperation;
  clear: boolean;
  line: string;
}

const SAFE_CREATES: Record<string, string> = {
  "pulumi:pulumi:Stash": "a batch gate: nothing outside the state",
  "random:index/randomString:RandomString": "a random value: nothing outside the state (the next up draws another)",
};

/** Names a resource for a line: its type's last part and its name. */
export function describeResource(r: StateResource): string {
  const kind = r.type.split(":").pop()?.split("/").pop() ?? r.type;
  return `${kind} ${urnName(r.urn)}`;
}

function metadataOf(r: StateResource): { namespace: string; name: string } | undefined {
  const m = r.inputs.metadata as { name?: unknown; namespace?: unknown } | undefined;
  return typeof m?.name === "string" ? { namespace: typeof m.namespace === "string" ? m.namespace : "default", name: m.name } : undefined;
}

const VERB: Record<string, string> = { creating: "create", updating: "update", deleting: "delete", reading: "read", importing: "import" };

/** Which pending operations are safe to clear, and why (one line each). */
export function decidePending(pending: readonly PendingOperation[], facts: PendingFacts): PendingDecision[] {
  return pending.map((op) => {
    const what = describeResource(op.resource);
    const decide = (clear: boolean, why: string): PendingDecision => ({ op, clear, line: `${clear ? "cleared" : "not cleared"}: pending ${VERB[op.type] ?? op.type} of ${what}: ${why}` });
    if (op.type !== "creating") {
      // The resource stays in the state as it was recorded; the refresh reads what it is now and the next up does the change again.
      return decide(true, op.type === "deleting"
        ? "it stays in the state until the next up deletes it (its drain runs again first; the refresh drops it if it is already gone)"
        : "the state keeps what was recorded; the refresh reads it as it is now");
    }
    if (SAFE_CREATES[op.resource.type]) return decide(true, SAFE_CREATES[op.resource.type]);
    if (op.resource.type === COMMAND) {
      return decide(true, "the converge runs again on the next up, after its drain (it is idempotent; a run the kill left going on the node finishes first)");
    }
    if (op.resource.type === INSTANCE) {
      const node = tagOf(op.resource, "kubeherd:node") ?? urnName(op.resource.urn);
      return facts.cloudClean
        ? decide(true, `no instance of node ${node} is left that the state does not hold (the next up launches it again)`)
        : decide(false, `the cloud could not be searched for the instance it may have launched (${facts.cloudProblem ?? "no search"}): find the instance tagged kubeherd:node=${node}, terminate it (drain its Node first), then run npm run recover again`);
    }
    if (op.resource.type === "kubernetes:core/v1:Secret") {
      const m = metadataOf(op.resource);
      if (m && !facts.secrets.has(`${m.namespace}/${m.name}`)) return decide(true, `Secret ${m.namespace}/${m.name} was never created (the next up creates it)`);
      return decide(false, m
        ? `Secret ${m.namespace}/${m.name} exists but the state does not hold it: delete it (kubectl -n ${m.namespace} delete secret ${m.name}), then run npm run recover again`
        : "its name is not known: find it, delete it, then run npm run recover again");
    }
    return decide(false, `it may exist without the state knowing: find it and pulumi import it or delete it, then pulumi refresh --clear-pending-creates`);
  });
}

/** A Node as recover sees it (from components/kube/nodes.ts's report). */
export interface NodeView {
  name: string;
  ready: boolean;
  /** `v1.30.2`. */
  kubeletVersion?: string;
  cordonedByKubeherd: boolean;
}

/** A node of the stack's plan, with what it must run and the state of its resource. */
export interface PlanNodeView {
  /** The plan node (`w-2`, `workers-0`). */
  node: string;
  /** Its Kubernetes node, when known (pets: the name; cattle: from the instance the state holds). */
  kubeNode?: string;
  /** Without the `v`. */
  kubeletVersion: string;
  /** The pending operation on its resource, if the interrupted `up` left one. */
  pending?: PendingOperation["type"];
  /** Its resource is in the state. */
  recorded: boolean;
  /** Its pool, and the digest of what it converges to in this program (`nodeTarget`), which the ready hook writes on the node. */
  pool?: string;
  target?: string;
}

export interface CordonDecision {
  node: string;
  uncordon: boolean;
  line: string;
  /** The user must act before the next `up` (the line says what): recover counts it as left. */
  left?: true;
  /** The plan node of a node to uncordon: what the ready hook would have marked it with. */
  plan?: PlanNodeView;
}

/**
 * Nodes kubeherd cordoned that the interrupted `up` left so. Uncordoned: only a node whose change the state has
 * recorded as done and that is back on its pins (Ready, the pinned kubelet), which is what the ready hook the kill
 * cut short would have checked before uncordoning it; no later `up` would, as the engine never runs that hook again.
 * Every other cordon stays, with what happens to it.
 */
export function decideCordons(plan: readonly PlanNodeView[], nodes: readonly NodeView[]): CordonDecision[] {
  const out: CordonDecision[] = [];
  for (const n of nodes) {
    if (!n.cordonedByKubeherd) continue;
    const p = plan.find((x) => x.kubeNode === n.name);
    const keep = (why: string, left?: true) => out.push({ node: n.name, uncordon: false, line: `left cordoned: node ${n.name}: ${why}`, ...(left ? { left } : {}) });
    if (!p) {
      keep("no node of this stack's plan (another stack's, or an instance the state no longer holds)");
      continue;
    }
    if (p.pending) {
      keep(p.pending === "deleting"
        ? "it was being replaced: the next up drains it again and terminates it"
        : "its change may have started: the next up drains it again (nothing left to evict) and finishes the change");
      continue;
    }
    if (!p.recorded) {
      keep("the state does not hold its resource: the next up changes it");
      continue;
    }
    const pinned = `v${p.kubeletVersion.replace(/^v/, "")}`;
    // No later up runs this node's ready hook again, and the next batch's drain refuses while it is not back: the user's.
    if (!n.ready) keep(`its change is recorded but it is not Ready: bring it back (kubectl describe node ${n.name}), then run npm run recover again`, true);
    else if (n.kubeletVersion !== pinned) keep(`its change is recorded but it runs kubelet ${n.kubeletVersion ?? "unknown"}, not ${pinned}: look at the node before uncordoning it`, true);
    else out.push({ node: n.name, uncordon: true, line: `uncordoned: node ${n.name}: its change is recorded and it is Ready on kubelet ${pinned} (the ready hook the kill cut short)`, plan: p });
  }
  return out;
}
