/**
 * Scenarios for the script tests: stacks pointed at the local repository, the scripts the real planner puts in
 * a plan for them, and running a pets script in a test root exactly as the pets component runs it over SSH.
 */
import { readdirSync } from "node:fs";
import { expect } from "vitest";
import type { KubeherdConfig } from "../../../components/config/schema";
import { planRollout, type Plan } from "../../../components/rollout/plan";
import { rootCommand } from "../../../components/rollout/nodes";
import { pinList } from "../../../components/versions/pins";
import { checkTransition, checkVersions } from "../../../components/versions/rules";
import { articleConfig, currentConfig, patched } from "../fixtures/config";
import { describeCall, type Call } from "./call-log";
import { CONTROL_PLANE_NODES } from "./host-standins";
import { NodeRoot } from "./node-root";
import type { Outcome } from "./process";
import { LOCAL_SOURCES } from "../debian/repository";

type Patch = Record<string, unknown>;

/** The article's cluster (kubeadm 1.13, docker-ce 18.06, Ubuntu 18.04) with its mirrors replaced by the local repository. */
export const articleStack = (patch: Patch = {}): KubeherdConfig =>
  articleConfig(patched({ repositories: { kubernetes: LOCAL_SOURCES.legacyKubernetes, docker: LOCAL_SOURCES.docker } }, patch));

/** A current cluster (pkgs.k8s.io 1.30, containerd, Ubuntu 22.04) on the local repository, one line per minor. */
export const currentStack = (patch: Patch = {}): KubeherdConfig =>
  currentConfig(patched({ repositories: { kubernetes: LOCAL_SOURCES.kubernetes, docker: LOCAL_SOURCES.docker } }, patch));

/** The article's bump: kubelet, kubeadm, kubectl 1.13.2-00 → 1.13.3-00 and docker-ce 18.06.1 → 18.06.2. */
export const ARTICLE_BUMP: Patch = {
  versions: { kubernetes: "1.13.3", kubeadm: "1.13.3-00", kubelet: "1.13.3-00", kubectl: "1.13.3-00", "docker-ce": "18.06.2~ce~3-0~ubuntu" },
};

export const REGION = "eu-west-1";

/** The real planner's plan from `base` (undefined: a first deployment) to `target`, after checking both are valid. */
export function plan(base: KubeherdConfig | undefined, target: KubeherdConfig): Plan {
  const problems = [...checkVersions(target), ...(base ? checkTransition(base, target) : [])].filter((p) => p.severity === "error");
  expect(problems, "the scenario's configs must pass the version rules").toEqual([]);
  return planRollout({ stack: "test", base, target, region: REGION });
}

/** The script of `node`'s `run` step; fails the test when the plan has none. */
export function runScript(p: Plan, node: string): string {
  const step = p.steps.find((s) => s.node === node && s.action === "run");
  expect(step?.script, `the plan has no run step for ${node}: ${p.steps.map((s) => `${s.node}:${s.action}`).join(", ")}`).toBeDefined();
  return step?.script ?? "";
}

/** The SSH user the pets component logs in to `node` as (the pool's `ssh.user`, `ubuntu` by default). */
export function sshUserOf(config: KubeherdConfig, node: string): string {
  const pool = config.pools.find((p) => p.mode === "pets" && p.nodes?.some((n) => n.name === node));
  return (pool?.mode === "pets" ? pool.ssh?.user : undefined) ?? "ubuntu";
}

/** The user data of `node`'s `launch` step. */
export function launchUserData(p: Plan, node: string): string {
  const step = p.steps.find((s) => s.node === node && s.action === "launch");
  expect(step?.userData, `the plan has no launch step for ${node}`).toBeDefined();
  return step?.userData ?? "";
}

/**
 * Runs a pets script as the pets component does over SSH: the remote command `rootCommand` makes for the pool's
 * SSH user (`sudo -n bash -c '<script>' kubeherd-converge` for `ubuntu`), in that user's login shell.
 */
export function runPets(root: NodeRoot, script: string, user = "ubuntu"): Promise<Outcome> {
  // a pending reboot fires at once instead of after the usual few seconds, so the test can see it
  return root.sh(rootCommand(script, user), { user: user === "root" ? undefined : user, env: { KUBEHERD_REBOOT_DELAY: "0" } });
}

/** Like `runPets`, failing the test with the script's output when it exits non-zero. */
export async function convergeOrFail(root: NodeRoot, script: string, user = "ubuntu"): Promise<Outcome> {
  const outcome = await runPets(root, script, user);
  expect(outcome.code, `the script failed:\n${outcome.stdout.slice(-4000)}\n${outcome.stderr.slice(-4000)}`).toBe(0);
  return outcome;
}

/**
 * Makes the root a node that has joined a cluster (kubeadm's kubelet.conf), and for a control-plane node one
 * whose API server runs `apiServer` (its static pod manifest, which `kubeadm upgrade apply` rewrites) with kubeadm's
 * admin.conf (the pre-flight before `kubeadm upgrade apply` lists the control-plane nodes with it).
 */
export function makeJoined(root: NodeRoot, apiServer?: string): void {
  root.write("/etc/kubernetes/kubelet.conf", "apiVersion: v1\nkind: Config\n");
  if (apiServer) {
    root.write("/etc/kubernetes/admin.conf", "apiVersion: v1\nkind: Config\n# kubeadm's admin kubeconfig (test root)\n");
    root.write(
      "/etc/kubernetes/manifests/kube-apiserver.yaml",
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\nspec:\n  containers:\n  - name: kube-apiserver\n    image: k8s.gcr.io/kube-apiserver:${apiServer}\n`,
    );
  }
}

/** The pins a config gives a node, as `{ package: version }`. */
export function pinsOf(config: KubeherdConfig): Record<string, string> {
  return Object.fromEntries(pinList(config.versions));
}

/**
 * A worker root on the 22.04 release seeded with a config's pins (1.30 sources) and adopted by the real first
 * deployment's script, its call log cleared: the starting point of the maintenance scenarios.
 */
export async function adoptedWorker(config: KubeherdConfig): Promise<NodeRoot> {
  const root = await NodeRoot.create({ release: "22.04" });
  await root.seed(pinsOf(config), [LOCAL_SOURCES.kubernetes.replace("{minor}", "1.30"), LOCAL_SOURCES.docker]);
  makeJoined(root);
  await convergeOrFail(root, runScript(plan(undefined, config), "storage-1"));
  root.clearCalls();
  return root;
}

/** What a second run must leave exactly as it was: dpkg's view of every package and the apt sources. */
export function nodeState(root: NodeRoot): { packages: Record<string, string>; held: string[]; sources: string } {
  const packages = Object.fromEntries([...root.packages()].map(([name, s]) => [name, `${s.version} ${s.state}`]));
  const sources = ["/etc/apt/sources.list", ...listDir(root, "/etc/apt/sources.list.d").map((f) => `/etc/apt/sources.list.d/${f}`)]
    .map((f) => `${f}:\n${root.read(f)}`)
    .join("\n");
  return { packages, held: root.held(), sources };
}

function listDir(root: NodeRoot, dir: string): string[] {
  return readdirSync(root.path(dir)).sort();
}

/** Calls as short lines (`install kubelet=1.13.3-00`, `systemctl restart kubelet`), the form assertions read best in. */
export const story = (calls: readonly Call[]): string[] => calls.map(describeCall);

/** The position of the first line of `lines` starting with `prefix`; fails the test naming the story when absent. */
export function position(lines: readonly string[], prefix: string): number {
  const i = lines.findIndex((l) => l.startsWith(prefix));
  expect(i, `"${prefix}" is not in the calls:\n${lines.join("\n")}`).toBeGreaterThanOrEqual(0);
  return i;
}

/** Waits (bounded) until a recorded call satisfies `predicate`: for what a script leaves running, like its delayed reboot. */
export async function waitForCall(root: NodeRoot, predicate: (c: Call) => boolean, timeoutMs = 10_000): Promise<Call | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = root.calls().find(predicate);
    if (found || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Makes a control-plane root run stacked etcd as kubeadm lays it out: the etcd static pod manifest (with its data
 * directory), that directory, and the etcd CA and health-check client certificate etcdctl is given.
 */
export function makeStackedEtcd(root: NodeRoot): void {
  root.write(
    "/etc/kubernetes/manifests/etcd.yaml",
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n    - --data-dir=/var/lib/etcd\n    - --listen-client-urls=https://127.0.0.1:2379\n    image: registry.k8s.io/etcd:3.5.15-0\n    name: etcd\n",
  );
  for (const f of ["ca.crt", "healthcheck-client.crt", "healthcheck-client.key"]) root.write(`/etc/kubernetes/pki/etcd/${f}`, `test ${f}\n`);
  root.write("/var/lib/etcd/member/snap/db", "test etcd data\n", 0o600);
}

/** The control-plane nodes `kubectl get nodes` shows: `[name, status, kubelet version]` rows of kubectl's default table. */
export function setControlPlane(root: NodeRoot, nodes: readonly (readonly [string, string, string])[]): void {
  root.write(CONTROL_PLANE_NODES, nodes.map(([name, status, version]) => `${name}   ${status}   control-plane   12d   ${version}\n`).join(""));
}
