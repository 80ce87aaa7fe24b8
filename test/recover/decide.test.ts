/**
 * `npm run recover`'s pure decisions (components/recover/): which pending operations an interrupted `pulumi up` left
 * are safe to clear, which cloud instances are orphans, and which of kubeherd's cordons may be lifted.
 */
import { describe, expect, it } from "vitest";
import { decideCordons, decidePending, findOrphans, type CloudInstance, type NodeView, type PendingFacts, type PlanNodeView } from "../../components/recover/decide";
import { readDeployment, withPending, type PendingKind, type PendingOperation, type StateResource } from "../../components/recover/state";

const urn = (type: string, name: string, parent = "kubeherd:index:Cluster$kubeherd:index:CattlePool") => `urn:pulumi:dev::kubeherd::${parent}$${type}::${name}`;

function resource(type: string, name: string, extra: Partial<StateResource> = {}): StateResource {
  return { urn: urn(type, name), type, inputs: {}, outputs: {}, ...extra };
}

const instance = (name: string, id?: string, node = name) =>
  resource("aws:ec2/instance:Instance", name, { id, inputs: { tags: { "kubeherd:node": node, "kubeherd:stack": "dev", "kubeherd:cluster": "prod" } }, outputs: id ? { privateDns: `ip-${id}.internal` } : {} });

const op = (type: PendingKind, r: StateResource): PendingOperation => ({ type, resource: r });

const CLEAN: PendingFacts = { cloudClean: true, secrets: new Set() };

describe("decidePending: which pending operations are safe to clear", () => {
  it.each<[string, PendingOperation, PendingFacts, boolean, RegExp]>([
    ["a delete (the resource stays in the state; its drain runs again)", op("deleting", instance("workers-0", "i-1")), CLEAN, true, /^cleared: pending delete of Instance workers-0: it stays in the state/],
    ["an update", op("updating", instance("workers-0", "i-1")), CLEAN, true, /^cleared: pending update of Instance workers-0/],
    ["a read", op("reading", instance("workers-0", "i-1")), CLEAN, true, /^cleared: pending read of Instance workers-0/],
    ["an import", op("importing", instance("workers-0", "i-1")), CLEAN, true, /^cleared: pending import of Instance workers-0/],
    ["a delete even when the cloud could not be searched", op("deleting", instance("workers-0", "i-1")), { cloudClean: false, secrets: new Set() }, true, /^cleared/],
    ["a pets converge's create (idempotent, runs again)", op("creating", resource("command:remote:Command", "workers-w-2")), CLEAN, true, /^cleared: pending create of Command workers-w-2: the converge runs again on the next up/],
    ["a batch gate's create", op("creating", resource("pulumi:pulumi:Stash", "workers-batch-2")), CLEAN, true, /^cleared: pending create of Stash workers-batch-2: a batch gate/],
    ["a random value's create", op("creating", resource("random:index/randomString:RandomString", "workers-join-id")), CLEAN, true, /^cleared: pending create of RandomString/],
    ["an instance's create once the cloud holds no orphan of it", op("creating", instance("workers-0")), CLEAN, true, /^cleared: pending create of Instance workers-0: no instance of node workers-0 is left/],
    ["an instance's create when the cloud could not be searched", op("creating", instance("workers-0")), { cloudClean: false, cloudProblem: "aws: not found", secrets: new Set() }, false,
      /^not cleared: pending create of Instance workers-0: the cloud could not be searched .*\(aws: not found\): find the instance tagged kubeherd:node=workers-0, terminate it/],
    ["a join token Secret's create that never reached the API", op("creating", resource("kubernetes:core/v1:Secret", "workers-join-token", { inputs: { metadata: { name: "bootstrap-token-abc123", namespace: "kube-system" } } })), CLEAN, true,
      /^cleared: pending create of Secret workers-join-token: Secret kube-system\/bootstrap-token-abc123 was never created/],
    ["a join token Secret's create that did reach the API", op("creating", resource("kubernetes:core/v1:Secret", "workers-join-token", { inputs: { metadata: { name: "bootstrap-token-abc123", namespace: "kube-system" } } })),
      { cloudClean: true, secrets: new Set(["kube-system/bootstrap-token-abc123"]) }, false, /^not cleared: .*exists but the state does not hold it: delete it \(kubectl -n kube-system delete secret bootstrap-token-abc123\)/],
    ["a Secret without a name in its inputs", op("creating", resource("kubernetes:core/v1:Secret", "s")), { cloudClean: true, secrets: new Set(["default/x"]) }, false, /^not cleared: .*its name is not known/],
    ["a launch template's create (may exist in the cloud)", op("creating", resource("aws:ec2/launchTemplate:LaunchTemplate", "workers-template-lt")), CLEAN, false, /^not cleared: pending create of LaunchTemplate .*pulumi refresh --clear-pending-creates/],
    ["a KMS key's create", op("creating", resource("aws:kms/key:Key", "kubeherd-join")), CLEAN, false, /^not cleared/],
    ["an SSM parameter's create", op("creating", resource("aws:ssm/parameter:Parameter", "workers-join-parameter")), CLEAN, false, /^not cleared/],
    ["an IAM role's create", op("creating", resource("aws:iam/role:Role", "workers-template-role")), CLEAN, false, /^not cleared/],
  ])("%s", (_, pending, facts, clear, line) => {
    const [d] = decidePending([pending], facts);
    expect(d.clear).toBe(clear);
    expect(d.line).toMatch(line);
  });

  it("decides each operation on its own, in order", () => {
    const ds = decidePending([op("creating", resource("command:remote:Command", "a")), op("creating", resource("aws:kms/key:Key", "k")), op("deleting", instance("workers-1", "i-2"))], CLEAN);
    expect(ds.map((d) => d.clear)).toEqual([true, false, true]);
  });
});

describe("findOrphans: instances kubeherd launched for this stack that the state does not hold", () => {
  const cloud = (id: string, tags: Record<string, string>, state = "running"): CloudInstance => ({ id, state, tags, privateDns: `ip-${id}` });
  const mine = (node: string) => ({ "kubeherd:cluster": "prod", "kubeherd:stack": "dev", "kubeherd:pool": "workers", "kubeherd:node": node });
  const search = (instances: CloudInstance[], state: StateResource[] = [instance("workers-1", "i-held")], pending: PendingOperation[] = []) =>
    findOrphans({ stack: "dev", cluster: "prod", state, pending, instances });

  it("finds a running instance of this stack the state does not hold, and ties it to the pending create of its node", () => {
    const r = search([cloud("i-new", mine("workers-0")), cloud("i-held", mine("workers-1"))], [instance("workers-1", "i-held")], [op("creating", instance("workers-0"))]);
    expect(r.orphans).toEqual([{ instance: cloud("i-new", mine("workers-0")), node: "workers-0", pool: "workers", pendingUrn: instance("workers-0").urn }]);
    expect(r.unsure).toEqual([]);
  });

  it.each(["pending", "running", "stopping", "stopped"])("counts an instance that is %s", (state) => {
    expect(search([cloud("i-x", mine("workers-0"), state)]).orphans.map((o) => o.instance.id)).toEqual(["i-x"]);
  });

  it.each(["shutting-down", "terminated"])("ignores an instance that is %s", (state) => {
    expect(search([cloud("i-x", mine("workers-0"), state)]).orphans).toEqual([]);
  });

  it("never counts an instance the state holds", () => {
    expect(search([cloud("i-held", mine("workers-1"))]).orphans).toEqual([]);
  });

  it("leaves another stack's instance alone, even of a cluster of the same name", () => {
    expect(search([cloud("i-x", { ...mine("workers-0"), "kubeherd:stack": "prod" })])).toEqual({ orphans: [], unsure: [] });
  });

  it("lists, but never counts, an instance of the cluster without a stack tag (launched before kubeherd tagged stacks)", () => {
    const old = cloud("i-old", { "kubeherd:cluster": "prod", "kubeherd:node": "workers-0" });
    expect(search([old])).toEqual({ orphans: [], unsure: [old] });
  });

  it("ignores an instance of another cluster without a stack tag, and one without any kubeherd tag", () => {
    expect(search([cloud("i-a", { "kubeherd:cluster": "staging" }), cloud("i-b", { Name: "bastion" })])).toEqual({ orphans: [], unsure: [] });
  });

  it("finds an orphan with no pending create (its create was cleared before, or the state was edited)", () => {
    expect(search([cloud("i-x", mine("workers-0"))]).orphans).toEqual([{ instance: cloud("i-x", mine("workers-0")), node: "workers-0", pool: "workers", pendingUrn: undefined }]);
  });

  it("ties a pending create only to the orphan of the same node", () => {
    const r = search([cloud("i-x", mine("workers-2"))], [], [op("creating", instance("workers-0"))]);
    expect(r.orphans[0].pendingUrn).toBeUndefined();
  });
});

describe("decideCordons: which of kubeherd's cordons recover lifts", () => {
  const plan = (over: Partial<PlanNodeView> = {}): PlanNodeView => ({ node: "w-2", kubeNode: "w-2", kubeletVersion: "1.13.3", recorded: true, ...over });
  const node = (over: Partial<NodeView> = {}): NodeView => ({ name: "w-2", ready: true, kubeletVersion: "v1.13.3", cordonedByKubeherd: true, ...over });

  it.each<[string, PlanNodeView, NodeView, boolean, RegExp]>([
    ["a recorded change, Ready on the pinned kubelet: the ready hook's job, finished", plan(), node(), true, /^uncordoned: node w-2: its change is recorded and it is Ready on kubelet v1.13.3/],
    ["a change that may have started (pending create)", plan({ pending: "creating" }), node(), false, /^left cordoned: node w-2: its change may have started: the next up drains it again/],
    ["an instance being replaced (pending delete)", plan({ pending: "deleting" }), node(), false, /^left cordoned: node w-2: it was being replaced/],
    ["a recorded change that is not Ready", plan(), node({ ready: false }), false, /^left cordoned: node w-2: its change is recorded but it is not Ready/],
    ["a recorded change on another kubelet", plan(), node({ kubeletVersion: "v1.13.2" }), false, /runs kubelet v1.13.2, not v1.13.3/],
    ["a node whose resource the state does not hold", plan({ recorded: false }), node(), false, /the state does not hold its resource/],
    ["a node of no plan node", plan({ kubeNode: "w-9" }), node(), false, /no node of this stack's plan/],
  ])("%s", (_, p, n, uncordon, line) => {
    const [d] = decideCordons([p], [n]);
    expect(d.uncordon).toBe(uncordon);
    expect(d.line).toMatch(line);
  });

  it("counts as left for the user only a recorded change that is not back (no later up finishes it)", () => {
    const left = (p: PlanNodeView, n: NodeView) => decideCordons([p], [n])[0].left === true;
    expect(left(plan(), node({ ready: false }))).toBe(true);
    expect(left(plan(), node({ kubeletVersion: "v1.13.2" }))).toBe(true);
    expect(left(plan({ pending: "creating" }), node())).toBe(false);
    expect(left(plan(), node())).toBe(false);
    expect(decideCordons([plan({ pool: "workers", target: "sha256:t" })], [node()])[0].plan).toMatchObject({ pool: "workers", node: "w-2", target: "sha256:t" });
  });

  it("never touches a node someone else cordoned, nor a schedulable one", () => {
    expect(decideCordons([plan()], [node({ cordonedByKubeherd: false })])).toEqual([]);
  });

  it("accepts the kubelet pin with or without its v", () => {
    expect(decideCordons([plan({ kubeletVersion: "v1.13.3" })], [node()])[0].uncordon).toBe(true);
  });
});

describe("the state export", () => {
  const exported = {
    version: 3,
    deployment: {
      manifest: { time: "t" },
      resources: [{ urn: instance("workers-1").urn, type: "aws:ec2/instance:Instance", id: "i-1", inputs: { tags: { a: "b" } }, outputs: { privateDns: "x" }, custom: true }],
      pending_operations: [
        { resource: { urn: "u1", type: "command:remote:Command", inputs: {} }, type: "creating" },
        { resource: { urn: "u2", type: "aws:kms/key:Key", inputs: {} }, type: "creating" },
      ],
    },
  };

  it("reads resources and pending operations", () => {
    const d = readDeployment(exported);
    expect(d.resources).toEqual([{ urn: instance("workers-1").urn, type: "aws:ec2/instance:Instance", id: "i-1", inputs: { tags: { a: "b" } }, outputs: { privateDns: "x" } }]);
    expect(d.pending.map((p) => [p.type, p.resource.urn])).toEqual([["creating", "u1"], ["creating", "u2"]]);
  });

  it("reads a state without pending operations or resources", () => {
    expect(readDeployment({ version: 3, deployment: {} })).toEqual({ resources: [], pending: [] });
  });

  it("drops only the pending operations it is told to, keeping everything else as it was", () => {
    const out = withPending(exported, (op) => op.resource.urn !== "u1") as typeof exported;
    expect(out.deployment.pending_operations.map((p) => p.resource.urn)).toEqual(["u2"]);
    expect(out.deployment.resources).toEqual(exported.deployment.resources);
    expect(out.deployment.manifest).toEqual(exported.deployment.manifest);
    expect(exported.deployment.pending_operations).toHaveLength(2);
  });
});
