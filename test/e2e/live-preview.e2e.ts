/**
 * `npm run plan -- --live` and `npm run status` against the real control plane (issue 12): each disruption
 * scenario of test/support/scenarios is built through the real API on KWOK nodes, with the real disruption, deployment,
 * replicaset, statefulset and daemonset controllers and the scheduler running, then previewed read-only. The
 * verdicts must be the scenario's, naming its exact pods and PDBs; the real CLI must say the same (exit 0 or 3,
 * text, JSON and markdown); the real drain of the node must then do what the verdict said. One control plane for
 * the file: each scenario's objects are removed before the next is built.
 *
 * Bad input: an API nobody listens on, and a ServiceAccount with no RoleBinding, each give exit 2 and one line;
 * bound to rbac/kubeherd-preview.yaml, the same ServiceAccount previews and reads the status, and can write nothing.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppsV1Api, BatchV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ApiClient } from "../../components/kube/api-client";
import type { KubeClient } from "../../components/kube/client";
import { systemClock } from "../../components/kube/clock";
import type { NodeLive } from "../../components/disruption/drain-preview";
import { drainNode } from "../../components/kube/drain";
import { controllerOf } from "../../components/disruption/drain-filters";
import { livePreview, type LivePreview } from "../../components/kube/live";
import { readOnly } from "../../components/kube/read-only";
import { readRemovedApiFindings } from "../../components/kube/removed-api-scan";
import { REMOVED_APIS, removalsCrossed, removedApiUses, requestedRemovedApis } from "../../components/versions/removed-apis";
import { REPO_DIR, tempProject } from "../support/fixtures/stackfiles";
import { workloadPods } from "../support/scenarios/build";
import { SCENARIOS, scenarioStack, scenarioStackInput, type Scenario } from "../support/scenarios/disruption";
import { expectVerdicts } from "../support/scenarios/verdicts";
import { freePort, startControlPlane, type ControlPlane } from "../support/control-plane/control-plane";
import { eventually } from "../support/control-plane/eventually";
import {
  buildOnKwok,
  clearScenario,
  createFromManifest,
  kubeConfigOf,
  kubeconfigFor,
  runCli,
  followPods,
  serviceAccountToken,
  type CliRun,
} from "../support/world/live-world";

/** Long enough for a drain that waits on a PDB until replacements are Ready (measured: see the drains' log lines),
 *  short enough that a drain a PDB never allows fails soon. */
const DRAIN_SECONDS = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const READ_KINDS = "nodes, pods, poddisruptionbudgets, replicasets, deployments and statefulsets";

function pick(what: string, test: (s: Scenario) => boolean): Scenario {
  const found = SCENARIOS.find(test);
  if (!found) throw new Error(`test/support/scenarios/disruption.ts has no scenario where ${what}`);
  return found;
}
/** Every node ok, and a DaemonSet pod to leave: the exit-0 scenario of the CLI, the identities and the status. */
const ALL_OK = pick("every node is ok and a DaemonSet runs", (s) => s.expect.every((e) => e.verdict === "ok") && (s.daemonSets ?? []).length > 0);
/** The first node waits on a PDB that never allows it: the exit-3 scenario of the text and markdown. */
const NEVER = pick("the first node waits forever", (s) => s.expect[0].verdict === "waits" && s.expect[0].blocking);

let cp: ControlPlane;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let admin: KubeClient;
const project = tempProject();
const secrets = { kubeconfig: { secure: "v1:k" }, sshPrivateKey: { secure: "v1:s" } };
const stackOf = new Map<Scenario, { stack: string; base: string }>();
SCENARIOS.forEach((s, i) => {
  const input = scenarioStackInput(s);
  const stack = `scenario-${i + 1}`;
  stackOf.set(s, { stack, base: project.write(`${stack}-base`, { ...input.base, ...secrets }) });
  project.write(stack, { ...input.target, ...secrets });
});

const planArgs = (s: Scenario, kubeconfig: string, format: "text" | "json" | "markdown") => {
  const { stack, base } = stackOf.get(s)!;
  return ["--stack", stack, "--base", base, "--live", "--kubeconfig", kubeconfig, "--format", format];
};
const plan = (s: Scenario, kubeconfig: string, format: "text" | "json" | "markdown") => runCli("plan.ts", planArgs(s, kubeconfig, format), project.dir);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
/** One line on stderr and no stack trace. */
function oneLine(run: CliRun): string {
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.errors).toHaveLength(1);
  return run.errors[0];
}

interface JsonPlan {
  steps: { action: string; pool: string; node: string; live?: Omit<NodeLive, "pool" | "node"> }[];
  live: { blocking: boolean; summary: string };
}

beforeAll(async () => {
  cp = await startControlPlane({ tools: inject("toolchain"), log });
  kc = kubeConfigOf(cp.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  admin = new ApiClient(kc);
});
afterAll(async () => {
  try {
    await cp?.stop();
  } finally {
    project.remove();
  }
});

const podsOn = async (node: string): Promise<V1Pod[]> => (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items;
const isDaemonSetPod = (p: V1Pod) => p.metadata?.ownerReferences?.some((o) => o.kind === "DaemonSet") ?? false;
const nameOf = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/** The scenario's own pods on `node` (its workloads' and bare ones), as `namespace/name`. */
function scenarioPodsOn(s: Scenario, node: string): string[] {
  const workloads = (s.workloads ?? []).flatMap((w) => workloadPods(w).filter((_, i) => w.on[i] === node).map((name) => `${w.namespace}/${name}`));
  return [...workloads, ...(s.bare ?? []).filter((b) => b.on === node).map((b) => `${b.namespace}/${b.name}`)].sort();
}

/** Drains the node with the project's drain, as the hook would, and checks that it went as `n` said. */
async function bearsOut(s: Scenario, n: NodeLive): Promise<void> {
  const lines: string[] = [];
  const started = Date.now();
  const { result: outcome, record } = await followPods(admin, () =>
    drainNode(admin, systemClock, n.kubeNode!, {
      policy: { deleteEmptyDirData: true, deleteUnmanagedPods: false, ...s.rollout },
      timeoutSeconds: DRAIN_SECONDS,
      log: (l) => lines.push(l),
    }).then(
      () => "drained",
      (e: unknown) => (e as Error).message,
    ),
  );
  log(`drain of ${n.kubeNode} (${n.verdict}${n.blocking ? ", blocking" : ""}): ${outcome.split("\n")[0]} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (record.events.length) log(`  pods meanwhile: ${record.events.join(", ")}`);
  const left = (await podsOn(n.kubeNode!)).filter((p) => !isDaemonSetPod(p));
  // Whatever the verdict, no budget went below what it promises.
  for (const b of n.budgets) {
    const pdb = (s.pdbs ?? []).find((p) => `${p.namespace}/${p.name}` === b.name)!;
    expect(record.fewestReady.get(`${pdb.namespace}/app=${pdb.selects}`), b.name).toBeGreaterThanOrEqual(b.healthy.desired);
  }
  if (n.verdict === "ok") {
    expect(outcome).toBe("drained");
    expect(lines.join("\n")).not.toContain("waiting on PDB");
    expect(left.map(nameOf)).toEqual([]);
  } else if (n.verdict === "waits" && !n.blocking) {
    expect(outcome).toBe("drained");
    // What the budget allowed went at once; each eviction after that only once a replacement was Ready (the
    // drain may see a 429 and retry, or the API server may hold the eviction while it retries a conflict).
    const allowed = Math.min(...n.budgets.map((b) => b.allowedNow));
    const evicted = n.evict.flatMap((e) => e.pods);
    const order = record.events.filter((e) => e.startsWith("ready ") || evicted.includes(e.replace(/^evicted /, "")));
    const evictions = order.map((e, i) => ({ e, readyBefore: order.slice(0, i).filter((x) => x.startsWith("ready ")).length })).filter((x) => x.e.startsWith("evicted "));
    expect(evictions.map((x) => x.e).sort()).toEqual(evicted.map((p) => `evicted ${p}`).sort());
    evictions.forEach((x, i) => expect(x.readyBefore, `${x.e}, eviction ${i + 1} of ${evictions.length}, in ${order.join(", ")}`).toBeGreaterThanOrEqual(Math.max(0, i + 1 - allowed)));
    expect(left.map(nameOf)).toEqual([]);
  } else if (n.verdict === "waits") {
    expect(outcome).toContain(`drain timed out after ${DRAIN_SECONDS}s; the node stays cordoned and running.`);
    for (const b of n.budgets.filter((x) => x.never)) expect(outcome).toContain(`blocked by PDB ${b.name}`);
    expect(left.filter((p) => !p.metadata?.deletionTimestamp).map(nameOf).sort()).toEqual(n.evict.flatMap((e) => e.pods).sort());
  } else if (n.verdict === "refused") {
    const underTwo = n.refuse.filter((r) => r.reason.includes("PDBs ("));
    if (underTwo.length > 0) {
      // The eviction API's own refusal: 500 for a pod two budgets select.
      expect(underTwo.some((r) => outcome.includes(`eviction of ${r.pod} failed: This pod has more than one PodDisruptionBudget`))).toBe(true);
      expect(outcome).toContain("(HTTP 500)");
    } else {
      expect(outcome).toMatch(/refusing to drain/);
      for (const r of n.refuse) expect(outcome).toContain(r.pod);
      // Nothing was evicted: the node is put back as it was.
      expect((await core.readNode({ name: n.kubeNode! })).spec?.unschedulable ?? false).toBe(false);
      expect(left.map(nameOf).sort()).toEqual(scenarioPodsOn(s, n.kubeNode!));
    }
  } else if (n.verdict === "no-room") {
    // Nothing stops the eviction; the replacement then finds no node for its requests, as the scheduler says.
    expect(outcome).toBe("drained");
    const owners = n.evict.map((e) => e.owner.split(" ")[1]);
    const pending = await eventually("the replacement Unschedulable", 30, async () => {
      const pods = (await core.listPodForAllNamespaces()).items.filter((p) => owners.some((o) => nameOf(p).startsWith(`${o}-`)) && !p.metadata?.deletionTimestamp);
      return pods.find((p) => p.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable"));
    });
    expect(pending.status?.phase).toBe("Pending");
    expect(pending.status?.conditions?.find((c) => c.type === "PodScheduled")?.message).toMatch(/Insufficient cpu/);
  } else {
    throw new Error(`no way to bear out the verdict ${n.verdict}`);
  }
}

for (const scenario of SCENARIOS) {
  describe(`on the real API: ${scenario.name}`, () => {
    let preview: LivePreview;
    const { plan: stackPlan, config } = scenarioStack(scenario);
    const blocking = scenario.expect.some((e) => e.blocking);

    beforeAll(async () => {
      const started = Date.now();
      await buildOnKwok(kc, scenario);
      log(`scenario built and settled in ${((Date.now() - started) / 1000).toFixed(1)} s: ${scenario.name}`);
      preview = await livePreview(readOnly(admin), stackPlan, config, systemClock);
    });
    afterAll(async () => {
      if (cp) await clearScenario(kc, scenario);
    });

    it("keeps the scenario's own ReplicaSets and pods where it put them: the controllers adopted them and made none of their own", async () => {
      for (const w of scenario.workloads ?? []) {
        const owner = w.kind === "Deployment" ? `ReplicaSet ${w.name}-rs` : `StatefulSet ${w.name}`;
        const pods = (await core.listNamespacedPod({ namespace: w.namespace, labelSelector: `app=${w.name}` })).items;
        const seen = pods.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName}, ${controllerOf(p)?.kind} ${controllerOf(p)?.name}`);
        expect(seen.sort()).toEqual(workloadPods(w).map((name, i) => `${name} on ${w.on[i]}, ${owner}`).sort());
        if (w.kind === "Deployment") {
          const sets = (await apps.listNamespacedReplicaSet({ namespace: w.namespace, labelSelector: `app=${w.name}` })).items;
          expect(sets.map((rs) => `${rs.metadata?.name} of ${rs.metadata?.ownerReferences?.find((o) => o.controller)?.name}`)).toEqual([`${w.name}-rs of ${w.name}`]);
        }
      }
    });

    it("gives each node the scenario's verdict, naming its exact pods and PDBs", () => {
      expectVerdicts(preview, scenario);
      for (const got of preview.nodes) {
        // Every pod the scenario put on the node, by name, is evicted or refused; its DaemonSets' pods are left.
        const moving = [...got.evict.flatMap((e) => e.pods), ...got.refuse.map((r) => r.pod)];
        expect([...new Set(moving)].sort()).toEqual(scenarioPodsOn(scenario, got.node));
        expect(got.leave.map((l) => l.owner).sort()).toEqual((scenario.daemonSets ?? []).map((d) => `DaemonSet ${d.namespace}/${d.name}`).sort());
      }
      expect(preview.blocking).toBe(blocking);
    });

    it(`npm run plan -- --live --format json exits ${blocking ? 3 : 0}, with a live object on each drain step as the preview found`, async () => {
      const run = await plan(scenario, cp.kubeconfigPath, "json");
      expect(run.code).toBe(blocking ? 3 : 0);
      const doc = JSON.parse(run.stdout) as JsonPlan;
      // A blocked plan says why on stderr too, one line per reason (the workflow accepts each by its own label).
      expect(run.errors).toEqual(blocking ? [`blocked (disruption): ${doc.live.summary}`] : []);
      expect(doc.live.blocking).toBe(blocking);
      const drains = doc.steps.filter((s) => s.action === "drain");
      expect(drains.map((s) => `${s.pool}/${s.node}`)).toEqual(["control-plane/cp-1", "control-plane/cp-2", ...scenario.nodes.map((n) => `workers/${n.name}`)]);
      for (const cpNode of ["cp-1", "cp-2"]) {
        expect(drains.find((s) => s.node === cpNode)?.live).toMatchObject({ verdict: "ok", blocking: false, why: [`no Node ${cpNode} in the cluster: the drain has nothing to do`] });
      }
      for (const n of preview.nodes) {
        const live = drains.find((s) => s.pool === "workers" && s.node === n.node)?.live;
        expect(live).toMatchObject({ kubeNode: n.kubeNode, verdict: n.verdict, blocking: n.blocking, why: n.why, evict: n.evict, refuse: n.refuse, leave: n.leave });
      }
    });

    if (scenario === ALL_OK) okScenarioExtras(scenario);
    if (scenario === NEVER) neverScenarioExtras(scenario);

    it("is borne out by the real drain of the first node (and of the first blocked one, when that is another)", async () => {
      const first = preview.nodes[0];
      const blocked = preview.nodes.find((n) => n.blocking && n !== first);
      for (const n of first.blocking || !blocked ? [first] : [first, blocked]) await bearsOut(scenario, n);
    });

    if (scenario === ALL_OK) statusExtras(scenario);
  });
}

let serviceAccountKubeconfig = "";
const serviceAccountUser = "system:serviceaccount:kube-system:kubeherd-preview";

/** Before the drain of the all-ok scenario: the text and markdown of exit 0, and the preview's identity. */
function okScenarioExtras(s: Scenario): void {
  it("npm run plan -- --live as text and markdown exits 0: every node ok, the DaemonSet pod left", async () => {
    const [text, md] = await Promise.all([plan(s, cp.kubeconfigPath, "text"), plan(s, cp.kubeconfigPath, "markdown")]);
    for (const run of [text, md]) {
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
    }
    expect(text.stdout).toContain(`Live disruption preview (read from ${cp.server} in `);
    expect(text.stdout).toMatch(
      /^ {4}3\. workers\/w-1: ok\n {7}evicts: Deployment shop\/web: shop\/web-rs-0\n {7}leaves: kube-system\/agent-[a-z0-9]{5} \(DaemonSet pod\)\n {7}PDB shop\/web-pdb allows 1 now, this node needs 1; maxUnavailable 1 of 3 expected pods\n {7}room: /m,
    );
    expect(text.stdout.trimEnd().split("\n").at(-1)).toBe("Every drain would go through (5 ok).");
    expect(md.stdout).toContain("### Live disruption preview\n\nEvery drain would go through (5 ok).");
    expect(md.stdout).toMatch(/#### 3\. `workers\/w-1`: \*\*ok\*\*\n\n\| pod \| owner \| drain \|\n\|---\|---\|---\|\n\| `shop\/web-rs-0` \| Deployment shop\/web \| evicted \|\n\| `kube-system\/agent-[a-z0-9]{5}` \| DaemonSet kube-system\/agent \| left: DaemonSet pod \|\n/);
    expect(md.stdout).toContain("| `shop/web-pdb` | 1 | 1 | maxUnavailable 1 of 3 expected pods |");
  });

  it("a ServiceAccount with no RoleBinding: plan --live and status exit 2 with one line naming what it may not list", async () => {
    const token = await serviceAccountToken(kc, "kube-system", "kubeherd-preview");
    serviceAccountKubeconfig = join(project.dir, "kubeherd-preview.kubeconfig");
    writeFileSync(serviceAccountKubeconfig, kubeconfigFor(cp.server, cp.caCertPem, { token }));
    const [preview, status] = await Promise.all([
      plan(s, serviceAccountKubeconfig, "text"),
      runCli("status.ts", ["--stack", stackOf.get(s)!.stack, "--kubeconfig", serviceAccountKubeconfig], project.dir),
    ]);
    expect(preview.code).toBe(2);
    expect(preview.stdout).toBe("");
    // The preview lists six kinds at once: the first refusal to come back is the one named.
    const forbidden = new RegExp(
      `^${escape(cp.server)}: list (nodes|pods|poddisruptionbudgets|replicasets|deployments|statefulsets): \\1(\\.apps|\\.policy)? is forbidden: User "${escape(serviceAccountUser)}" cannot list resource "\\1" in API group "(|apps|policy)" at the cluster scope \\(HTTP 403\\); the kubeconfig needs get, list and watch on ${READ_KINDS} \\(README: the kubeherd-preview ClusterRole\\)$`,
    );
    expect(oneLine(preview)).toMatch(forbidden);
    expect(status.code).toBe(2);
    expect(status.stdout).toBe("");
    expect(oneLine(status)).toBe(
      `${cp.server}: list nodes: nodes is forbidden: User "${serviceAccountUser}" cannot list resource "nodes" in API group "" at the cluster scope (HTTP 403); the kubeconfig needs get, list and watch on ${READ_KINDS} (README: the kubeherd-preview ClusterRole)`,
    );
  });

  it("bound to rbac/kubeherd-preview.yaml, the same ServiceAccount previews as the admin does, and can write nothing", async () => {
    expect(await createFromManifest(kc, join(REPO_DIR, "rbac/kubeherd-preview.yaml"))).toEqual([
      "ServiceAccount/kubeherd-preview",
      "ClusterRole/kubeherd-preview",
      "ClusterRoleBinding/kubeherd-preview",
    ]);
    const account = new ApiClient(kubeConfigOf(readFileSync(serviceAccountKubeconfig, "utf8")));
    // RBAC reads its bindings through informers: in force a moment after they are made.
    await eventually("the ClusterRoleBinding in force", 30, async () => (await account.list("pods")).items.length > 0);
    const [asAdmin, asAccount] = await Promise.all([plan(s, cp.kubeconfigPath, "json"), plan(s, serviceAccountKubeconfig, "json")]);
    expect(asAccount.errors).toEqual([]);
    expect(asAccount.code).toBe(0);
    const verdicts = (run: CliRun) => (JSON.parse(run.stdout) as JsonPlan).steps.filter((st) => st.live).map((st) => ({ node: st.node, ...st.live }));
    expect(verdicts(asAccount)).toEqual(verdicts(asAdmin));

    // Even without the CLI's read-only client, the API refuses it every write a drain makes.
    const forbidden = { status: 403, apiMessage: expect.stringContaining(`User "${serviceAccountUser}" cannot`) as unknown };
    await expect(account.patchNode("w-1", { spec: { unschedulable: true } })).rejects.toMatchObject(forbidden);
    await expect(account.deleteNode("w-3")).rejects.toMatchObject(forbidden);
    expect(await account.evictPod("shop", "web-rs-0")).toMatchObject({ result: "failed", status: 403 });
    expect((await core.readNode({ name: "w-1" })).spec?.unschedulable ?? false).toBe(false);
    expect((await core.readNode({ name: "w-3" })).metadata?.name).toBe("w-3");
    expect((await core.readNamespacedPod({ namespace: "shop", name: "web-rs-0" })).metadata?.deletionTimestamp).toBeUndefined();
  });
}

/** Before the drain of the scenario whose first node waits forever: the text and markdown of exit 3. */
function neverScenarioExtras(s: Scenario): void {
  it("npm run plan -- --live as text and markdown exits 3, naming the PDB that never allows it and the pods it holds", async () => {
    const [text, md] = await Promise.all([plan(s, cp.kubeconfigPath, "text"), plan(s, cp.kubeconfigPath, "markdown")]);
    for (const run of [text, md]) {
      expect(run.errors).toEqual([expect.stringMatching(/^blocked \(disruption\): \d+ of \d+ drains would not finish: /)]);
      expect(run.code).toBe(3);
    }
    const never = "waits until the drain times out on PDB data/pg-pdb: maxUnavailable 0 of 3 expected pods, so it can never allow a disruption, and this node needs 1";
    expect(text.stdout).toContain(
      `    3. workers/w-1: waits\n       ${never}\n       evicts: StatefulSet data/pg: data/pg-0\n       PDB data/pg-pdb allows 0 now, this node needs 1; maxUnavailable 0 of 3 expected pods: never allows one\n`,
    );
    expect(text.stdout).toContain("    4. workers/w-2: waits\n");
    const summary = "3 of 5 drains would not finish: workers/w-1 waits, workers/w-2 waits, workers/w-3 waits (2 ok, 3 waits)";
    expect(text.stdout.trimEnd().split("\n").at(-1)).toBe(summary);
    expect(md.stdout).toContain(`### Live disruption preview\n\n**${summary}**`);
    expect(md.stdout).toContain(`#### 3. \`workers/w-1\`: **waits**\n\n- ${never}\n\n| pod | owner | drain |\n|---|---|---|\n| \`data/pg-0\` | StatefulSet data/pg | evicted |\n`);
    expect(md.stdout).toContain("| `data/pg-pdb` | 0 | 1 | maxUnavailable 0 of 3 expected pods — **never allows one** |");
  });
}

/** After the drain of the all-ok scenario (w-1 cordoned by kubeherd): `npm run status`, once and --watch. */
function statusExtras(s: Scenario): void {
  const { stack } = stackOf.get(s)!;
  const setKubelet = (name: string, kubeletVersion: string) => core.patchNodeStatus({ name, body: { status: { nodeInfo: { kubeletVersion } } } }, mergePatch);

  it("npm run status: the real Nodes against the pins, a cordon by kubeherd told from someone else's", async () => {
    await setKubelet("w-2", "v1.30.2");
    await core.patchNode({ name: "w-3", body: { spec: { unschedulable: true } } }, mergePatch);
    const run = await runCli("status.ts", ["--stack", stack, "--kubeconfig", serviceAccountKubeconfig], project.dir);
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const out = run.stdout.trimEnd();
    expect(out.split("\n")[0]).toBe(`kubeherd status of stack ${stack}: pins kubelet v1.30.2, containerd 1.7.19, Ubuntu 22.04`);
    expect(out).toMatch(/^control-plane\/cp-1 +not found +- /m);
    expect(out).toMatch(/^workers\/w-1 +w-1 +yes +v1\.30\.1 \(want v1\.30\.2\) +containerd 1\.7\.19 +Ubuntu 22\.04\.4 LTS +yes, by kubeherd +no$/m);
    expect(out).toMatch(/^workers\/w-2 +w-2 +yes +v1\.30\.2 +containerd 1\.7\.19 +Ubuntu 22\.04\.4 LTS +no +yes$/m);
    expect(out).toMatch(/^workers\/w-3 +w-3 +yes +v1\.30\.1 \(want v1\.30\.2\) +containerd 1\.7\.19 +Ubuntu 22\.04\.4 LTS +yes, not by kubeherd +no$/m);
    expect(out.split("\n").at(-1)).toBe("1/5 nodes on the pins; 1 cordoned by kubeherd: w-1; 1 cordoned by someone else: w-3; 2 not found: cp-1, cp-2");
  });

  it("npm run status --watch redraws when a Node changes, and stops on SIGINT", async () => {
    const child = spawn(join(REPO_DIR, "node_modules/.bin/tsx"), [join(REPO_DIR, "cli/status.ts"), "--stack", stack, "--kubeconfig", serviceAccountKubeconfig, "--watch"], {
      cwd: project.dir,
      env: { ...process.env, KUBECONFIG: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const frames = () => stdout.split("kubeherd status of stack").length - 1;
    try {
      const first = "[######........................] 1/5 on the pins\n1/5 nodes on the pins; 1 cordoned by kubeherd: w-1; 1 cordoned by someone else: w-3; 2 not found: cp-1, cp-2";
      await eventually("the first frame", 60, async () => stdout.includes(first));
      expect(frames()).toBe(1);
      await setKubelet("w-3", "v1.30.2");
      await core.patchNode({ name: "w-3", body: { spec: { unschedulable: false } } }, mergePatch);
      await eventually("a frame with w-3 on the pins and uncordoned", 30, async () =>
        stdout.includes("[############..................] 2/5 on the pins\n2/5 nodes on the pins; 1 cordoned by kubeherd: w-1; 2 not found: cp-1, cp-2"),
      );
      expect(frames()).toBeGreaterThanOrEqual(2);
      child.kill("SIGINT");
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("still running 15 s after SIGINT"), 15_000))]);
      expect(code).toBe(0);
      expect(stderr).toBe("");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
}

/**
 * The removed-API pre-flight's reads against the real API server (v1.34.2). The table has no removal after 1.32
 * through the newest minor it knows, so nothing this server serves is removed by a later minor, and no object here can
 * be written through a version a bump from 1.34 removes: what the real server shows is the reading itself (discovery,
 * the kinds listed through the preferred version, managedFields as the server records them, /metrics through TLS
 * and a token, 403 for an identity without it); the verdicts on removed versions are tested in-process.
 */
describe("the removed-API pre-flight's reads on the real API", () => {
  it("nothing a 1.34 API server serves is removed by a later minor of the table", () => {
    expect(removalsCrossed("1.34", "1.40")).toEqual([]);
  });

  it("lists the kinds through the served preferred version, with the managedFields the server recorded, and reads /metrics", async () => {
    const batch = kc.makeApiClient(BatchV1Api);
    await core.createNamespace({ body: { metadata: { name: "ops" } } }).catch(() => undefined);
    await batch.createNamespacedCronJob({
      namespace: "ops",
      body: { metadata: { name: "backup" }, spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "b", image: "busybox" }] } } } } } },
    });
    // A synthetic transition across 1.25 makes the scan read what 1.25 removed (CronJob, HPA, PDB, …) on this server.
    const findings = await readRemovedApiFindings(admin, { from: "1.24", to: "1.25" });
    expect(findings.scanned).toEqual(expect.arrayContaining(["CronJob (batch/v1)", "HorizontalPodAutoscaler (autoscaling/v2)", "PodDisruptionBudget (policy/v1)", "EndpointSlice (discovery.k8s.io/v1)"]));
    expect(findings.scanned.some((k) => k.startsWith("PodSecurityPolicy"))).toBe(false);
    expect(findings.objects).toEqual([]);
    expect(findings.metrics).toBe("read");
    const listed = await admin.listResource("batch/v1", "cronjobs");
    const backup = listed.items.find((o) => o.metadata?.name === "backup")!;
    expect(backup.metadata?.managedFields?.map((f) => f.apiVersion)).toEqual(["batch/v1"]);
    // Were batch/v1 a removed version, the object would be named, written by this client's field manager.
    const asIfRemoved = removedApiUses([{ ...backup, kind: "CronJob" }], [{ removedIn: "1.99", apiVersion: "batch/v1", kinds: ["CronJob"], use: "-" }]);
    expect(asIfRemoved).toEqual([expect.objectContaining({ object: "CronJob ops/backup", apiVersion: "batch/v1", removedIn: "1.99" })]);
    const metrics = await admin.readMetrics();
    expect(metrics).toContain("# TYPE apiserver_request_total counter");
    expect(requestedRemovedApis(metrics, REMOVED_APIS)).toEqual([]);
  });

  it("an identity without get on /metrics gets a line saying so, not an error; bound to rbac/kubeherd-preview.yaml it reads it", async () => {
    const token = await serviceAccountToken(kc, "kube-system", "kubeherd-no-metrics");
    const nobody = new ApiClient(kubeConfigOf(kubeconfigFor(cp.server, cp.caCertPem, { token })));
    await expect(nobody.readMetrics()).rejects.toMatchObject({ status: 403 });
    await createFromManifest(kc, join(REPO_DIR, "rbac/kubeherd-preview.yaml"));
    const previewToken = await serviceAccountToken(kc, "kube-system", "kubeherd-preview");
    const preview = readOnly(new ApiClient(kubeConfigOf(kubeconfigFor(cp.server, cp.caCertPem, { token: previewToken }))));
    await eventually("the preview ClusterRoleBinding in force", 30, async () => (await preview.readMetrics().then(() => true, () => false)));
    const findings = await readRemovedApiFindings(preview, { from: "1.24", to: "1.25" });
    expect(findings.metrics).toBe("read");
    expect(findings.scanned).toContain("CronJob (batch/v1)");
  });
});

describe("bad input", () => {
  it("an API nobody listens on: plan --live and status exit 2 with one line, no stack trace", async () => {
    // A loopback port just found free: nothing listens there, and nothing leaves this machine.
    const server = `https://127.0.0.1:${await freePort()}`;
    const file = join(project.dir, "unreachable.kubeconfig");
    writeFileSync(file, kubeconfigFor(server, cp.caCertPem, { token: "unused" }));
    const [preview, status] = await Promise.all([
      plan(ALL_OK, file, "text"),
      runCli("status.ts", ["--stack", stackOf.get(ALL_OK)!.stack, "--kubeconfig", file], project.dir),
    ]);
    for (const run of [preview, status]) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(oneLine(run)).toMatch(new RegExp(`^cannot reach the Kubernetes API at ${escape(server)}: .*ECONNREFUSED`));
    }
  });
});
