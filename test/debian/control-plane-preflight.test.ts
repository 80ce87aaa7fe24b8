/**
 * Before `kubeadm upgrade apply` the first control-plane node's script checks the control plane (every control-plane
 * node Ready and on one kubelet version, etcd healthy) and saves a snapshot of stacked etcd, keeping the newest
 * `rollout.etcdSnapshot.keep` (issue 18 item 4). GIVEN a joined control-plane root on 1.29.6, WHEN the pins go to
 * 1.30.2, THEN the calls, the snapshot files and the script's output show it, and an unhealthy control plane stops
 * the script before kubeadm upgrades anything.
 */
import { readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { NodeRoot } from "../support/node-root/node-root";
import { ETCD_UNHEALTHY, STANDIN_DIR } from "../support/node-root/host-standins";
import { standinCommand } from "../support/node-root/standin-shell";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { convergeOrFail, currentStack, makeJoined, makeStackedEtcd, pinsOf, plan, position, runPets, runScript, setControlPlane, story } from "../support/node-root/scenario";

const kube = (kubernetes: string, pin: string) => ({ versions: { kubernetes, kubeadm: pin, kubelet: pin, kubectl: pin } });
const v129 = currentStack(kube("1.29.6", "1.29.6-1.1"));
const v130 = currentStack(kube("1.30.2", "1.30.2-1.1"));

/** `config` with the control-plane pool's rollout.etcdSnapshot set. */
function withSnapshot(config: KubeherdConfig, etcdSnapshot: { dir: string; keep: number }): KubeherdConfig {
  return { ...config, pools: config.pools.map((p) => (p.role === "control-plane" ? { ...p, rollout: { ...p.rollout, etcdSnapshot } } : p)) };
}

const roots: NodeRoot[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => r.destroy()));
});

/** cp-1 on 1.29.6, joined and adopted, its API server on v1.29.6; stacked etcd unless `external`. */
async function controlPlaneRoot(external = false): Promise<NodeRoot> {
  const root = await NodeRoot.create({ release: "22.04" });
  roots.push(root);
  await root.seed(pinsOf(v129), [LOCAL_SOURCES.kubernetes.replace("{minor}", "1.29"), LOCAL_SOURCES.docker]);
  makeJoined(root, "v1.29.6");
  if (!external) makeStackedEtcd(root);
  await convergeOrFail(root, runScript(plan(undefined, v129), "cp-1"));
  root.clearCalls();
  return root;
}

const list = (root: NodeRoot, dir: string) => readdirSync(root.path(dir)).sort();

const SNAPSHOTS = "/var/lib/kubeherd/etcd-snapshots";
const snapshotName = /^kubeherd-etcd-[0-9]{8}T[0-9]{6}Z-v1\.29\.6-to-v1\.30\.2\.db$/;

describe("a minor bump on the first control-plane node, with stacked etcd", () => {
  it("checks the control-plane nodes and etcd, saves an etcd snapshot, then runs kubeadm upgrade apply, and says where the snapshot is", async () => {
    const root = await controlPlaneRoot();
    setControlPlane(root, [["cp-1", "Ready,SchedulingDisabled", "v1.29.6"], ["cp-2", "Ready", "v1.29.6"], ["cp-3", "Ready", "v1.29.6"]]);
    const out = await convergeOrFail(root, runScript(plan(v129, v130), "cp-1"));
    const lines = story(root.calls());
    const listed = position(lines, "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -l node-role.kubernetes.io/control-plane --no-headers");
    const health = position(lines, "etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key endpoint health");
    const saved = position(lines, "etcdctl --endpoints=https://127.0.0.1:2379");
    const snapshot = lines.findIndex((l) => l.startsWith("etcdctl ") && l.includes(" snapshot save "));
    const apply = position(lines, "kubeadm upgrade apply -y v1.30.2");
    expect(position(lines, "install kubeadm=1.30.2-1.1")).toBeLessThan(listed);
    expect(listed).toBeLessThan(health);
    expect(saved).toBe(health);
    expect(health).toBeLessThan(snapshot);
    expect(snapshot).toBeLessThan(apply);
    const files = list(root, SNAPSHOTS);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(snapshotName);
    expect(root.read(`${SNAPSHOTS}/${files[0]}`)).toBe("kubeherd test stand-in etcd snapshot\n");
    expect(out.stdout).toContain("kubeherd[cp-1]: control plane healthy before the upgrade: 3 control-plane node(s) Ready on v1.29.6, etcd healthy");
    expect(out.stdout).toContain(`kubeherd[cp-1]: etcd snapshot saved: ${SNAPSHOTS}/${files[0]} (37 bytes); README "The way back" says how to restore it`);
    expect(root.versions(["kubeadm", "kubelet", "kubectl"])).toEqual({ kubeadm: "1.30.2-1.1", kubelet: "1.30.2-1.1", kubectl: "1.30.2-1.1" });
  });

  it("gives kubeadm upgrade apply the checks of rollout.ignorePreflightErrors, and says so", async () => {
    const root = await controlPlaneRoot();
    setControlPlane(root, [["cp-1", "Ready,SchedulingDisabled", "v1.29.6"]]);
    const ignoring = (c: KubeherdConfig): KubeherdConfig => ({ ...c, pools: c.pools.map((p) => (p.role === "control-plane" ? { ...p, rollout: { ...p.rollout, ignorePreflightErrors: ["CoreDNSMigration", "CoreDNSUnsupportedPlugins"] } } : p)) });
    const out = await convergeOrFail(root, runScript(plan(ignoring(v129), ignoring(v130)), "cp-1"));
    const flag = "--ignore-preflight-errors=CoreDNSMigration,CoreDNSUnsupportedPlugins";
    expect(story(root.calls())).toContain(`kubeadm upgrade apply -y v1.30.2 ${flag}`);
    expect(out.stdout).toContain(`kubeherd[cp-1]: kubeadm upgrade apply -y v1.30.2 ${flag} (the API server runs v1.29.6)`);
  });

  it("keeps the newest rollout.etcdSnapshot.keep snapshots in rollout.etcdSnapshot.dir, and nothing else there is touched", async () => {
    const root = await controlPlaneRoot();
    const dir = "/srv/backups/etcd";
    for (const old of ["kubeherd-etcd-20250101T000000Z-v1.27.1-to-v1.28.4.db", "kubeherd-etcd-20250601T000000Z-v1.28.4-to-v1.29.6.db", "kubeherd-etcd-20240101T000000Z-v1.26.0-to-v1.27.1.db"]) root.write(`${dir}/${old}`, "old\n");
    root.write(`${dir}/notes.txt`, "mine\n");
    await convergeOrFail(root, runScript(plan(withSnapshot(v129, { dir, keep: 2 }), withSnapshot(v130, { dir, keep: 2 })), "cp-1"));
    const files = list(root, dir).sort();
    expect(files).toHaveLength(3);
    expect(files[0]).toBe("kubeherd-etcd-20250601T000000Z-v1.28.4-to-v1.29.6.db");
    expect(files[1]).toMatch(snapshotName);
    expect(files[2]).toBe("notes.txt");
  });

  it.each([
    { what: "a control-plane node that is NotReady", nodes: [["cp-1", "Ready", "v1.29.6"], ["cp-2", "NotReady", "v1.29.6"]] as const, unhealthy: false, says: "it is not healthy: node cp-2 is NotReady" },
    { what: "control-plane nodes on different kubelet versions", nodes: [["cp-1", "Ready", "v1.29.6"], ["cp-2", "Ready", "v1.29.5"]] as const, unhealthy: false, says: "it is not healthy: the control-plane nodes run different kubelet versions (v1.29.5 v1.29.6)" },
    { what: "an unhealthy etcd member", nodes: [["cp-1", "Ready", "v1.29.6"]] as const, unhealthy: true, says: "it is not healthy: etcd on this node is not healthy (etcdctl endpoint health)" },
  ])("stops before kubeadm upgrade apply and before any snapshot with $what, naming it", async ({ nodes, unhealthy, says }) => {
    const root = await controlPlaneRoot();
    setControlPlane(root, nodes);
    if (unhealthy) root.write(ETCD_UNHEALTHY, "");
    const r = await runPets(root, runScript(plan(v129, v130), "cp-1"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`kubeherd[cp-1]: error: not upgrading the control plane to v1.30.2: ${says}`);
    const lines = story(root.calls());
    expect(lines.filter((l) => l.startsWith("kubeadm upgrade"))).toEqual([]);
    expect(lines.filter((l) => l.includes("snapshot save"))).toEqual([]);
    expect(root.exists(SNAPSHOTS) ? list(root, SNAPSHOTS) : []).toEqual([]);
    // The API server and the kubelet stay where they were: nothing of the control plane moved.
    expect(root.read("/etc/kubernetes/manifests/kube-apiserver.yaml")).toContain("kube-apiserver:v1.29.6");
    expect(root.versions(["kubelet"])).toEqual({ kubelet: "1.29.6-1.1" });
  });

  it("refuses without kubeadm's admin.conf, as it cannot check the control plane", async () => {
    const root = await controlPlaneRoot();
    root.remove("/etc/kubernetes/admin.conf");
    const r = await runPets(root, runScript(plan(v129, v130), "cp-1"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("not upgrading the control plane to v1.30.2: no /etc/kubernetes/admin.conf on this node, so its health cannot be checked first");
    expect(story(root.calls()).filter((l) => l.startsWith("kubeadm upgrade"))).toEqual([]);
  });
});

describe("a node without etcdctl on the host (kubeadm's usual case)", () => {
  it("runs etcdctl in the etcd container through crictl, saving the snapshot through etcd's data directory and moving it into place", async () => {
    const root = await controlPlaneRoot();
    // The etcd container's etcdctl: the same stand-in, out of the host's PATH; crictl finds the container and execs it.
    const container = "/opt/kubeherd-test/etcd-container/etcdctl";
    root.write(container, root.read(`${STANDIN_DIR}/etcdctl`), 0o755);
    root.remove(`${STANDIN_DIR}/etcdctl`);
    root.write(
      `${STANDIN_DIR}/crictl`,
      standinCommand(
        "crictl",
        "-",
        `while [ $# -gt 0 ]; do case "$1" in --runtime-endpoint) shift 2 ;; *) break ;; esac; done
case "$1" in
  ps) echo 3f2a9c1d0b7e ;;
  exec)
    if [ "$2" != 3f2a9c1d0b7e ]; then echo "container $2 not found" >&2; exit 1; fi
    shift 3
    exec ${container} "$@" ;;
esac`,
      ),
      0o755,
    );
    const out = await convergeOrFail(root, runScript(plan(v129, v130), "cp-1"));
    const lines = story(root.calls());
    expect(lines).toContain("crictl --runtime-endpoint unix:///run/containerd/containerd.sock ps --quiet --name ^etcd$ --state running");
    expect(lines.some((l) => l.startsWith("crictl --runtime-endpoint unix:///run/containerd/containerd.sock exec 3f2a9c1d0b7e etcdctl --endpoints=https://127.0.0.1:2379") && l.endsWith(" endpoint health"))).toBe(true);
    expect(lines.some((l) => / exec 3f2a9c1d0b7e etcdctl .* snapshot save \/var\/lib\/etcd\/kubeherd-snapshot\.part$/.test(l))).toBe(true);
    const files = list(root, SNAPSHOTS);
    expect(files).toEqual([expect.stringMatching(snapshotName)]);
    expect(root.exists("/var/lib/etcd/kubeherd-snapshot.part")).toBe(false);
    expect(out.stdout).toContain(`etcd snapshot saved: ${SNAPSHOTS}/${files[0]}`);
    expect(position(lines, "kubeadm upgrade apply -y v1.30.2")).toBeGreaterThan(lines.findIndex((l) => l.includes("snapshot save")));
  });
});

describe("external etcd, and a run with nothing to upgrade", () => {
  it("checks the nodes, says it took no snapshot of an external etcd, and upgrades", async () => {
    const root = await controlPlaneRoot(true);
    const out = await convergeOrFail(root, runScript(plan(v129, v130), "cp-1"));
    const lines = story(root.calls());
    expect(lines.filter((l) => l.startsWith("etcdctl"))).toEqual([]);
    expect(out.stdout).toContain("kubeherd[cp-1]: control plane healthy before the upgrade: 1 control-plane node(s) Ready on v1.29.6\n");
    expect(out.stdout).toContain("etcd is not a static pod on this node (external etcd): no snapshot taken here; back it up before the upgrade");
    expect(position(lines, "kubeadm upgrade apply -y v1.30.2")).toBeGreaterThan(position(lines, "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes"));
  });

  it("neither checks nor snapshots when the API server already runs the target (a run again after the upgrade)", async () => {
    const root = await controlPlaneRoot();
    await convergeOrFail(root, runScript(plan(v129, v130), "cp-1"));
    root.clearCalls();
    await convergeOrFail(root, runScript(plan(v129, v130), "cp-1"));
    expect(story(root.calls()).filter((l) => l.startsWith("kubectl --kubeconfig") || l.startsWith("etcdctl") || l.startsWith("kubeadm upgrade"))).toEqual([]);
    expect(list(root, SNAPSHOTS)).toHaveLength(1);
  });
});
