/**
 * A real Kubernetes node on this machine: a node root of the Debian harness (NodeRoot: created and verified by the
 * harness, never the host's /) run as its own little machine: its own pid, mount and UTS namespaces and the network
 * namespace network.ts made for it, with the static pause program as its pid 1, its own containerd (config, root,
 * state and socket inside the node; root and state on the node's own tmpfs, since containerd's overlayfs snapshotter
 * cannot sit on the root's overlay), and a real kubelet under the cgroupfs driver in its own cgroup root.
 *
 * Stopping is pulling the plug: pid 1 dies (it also dies with the test process, `setpriv --pdeathsig KILL` and
 * `unshare --kill-child`), the kernel kills everything in the node's pid namespace, containers included (theirs are
 * nested in it), and the node's mounts go with its mount namespace. What outlives them is removed here: the node's
 * cgroups, its network namespace, the root.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NodeRoot } from "../node-root/node-root";
import { ensureEtcdctl } from "../../toolchain/etcd-release";
import { STANDIN_DIR } from "../node-root/host-standins";
import { run, runOrThrow, type Outcome } from "../node-root/process";
import { standinCommand } from "../node-root/standin-shell";
import { canConnect, sshdConfig, type ClientKey } from "../ssh-nodes/ssh-node";
import type { KubernetesNodeBinaries } from "../../toolchain/kubernetes-node";
import type { NodeNetwork } from "./network";
import { cniConfig, containerdConfig, kubeletService, realSystemctl, superviseScript } from "./node-config";
import type { NodeImages } from "./node-images";
import { REAL_REPO_IN_NODE } from "./real-packages";

const SSHD_CONFIG = "/etc/ssh/kubeherd-sshd_config";
const SSH_HOST_KEY = "/etc/ssh/ssh_host_ed25519_key";
const SUPERVISE = "/usr/local/lib/kubeherd/supervise";

const NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const CGROUP_V1 = "/sys/fs/cgroup";

/** Host programs a node gets, from Debian's packages on the host (same release as the root). */
const HOST_PROGRAMS: readonly [string, string][] = [
  ["/usr/bin/containerd", "/usr/bin/containerd"],
  ["/usr/bin/containerd-shim-runc-v2", "/usr/bin/containerd-shim-runc-v2"],
  ["/usr/bin/ctr", "/usr/bin/ctr"],
  ["/usr/sbin/runc", "/usr/sbin/runc"],
];

/**
 * The kernel settings the kubelet insists on (container_manager_linux.go `setupKernelTunables`), shown to the node
 * by files bound over its /proc/sys entries: with `protectKernelDefaults: true` the kubelet then only checks them
 * and never writes the host's (a kubelet would set kernel.panic and friends on the whole machine).
 */
const KERNEL_TUNABLES: Record<string, string> = {
  "vm/overcommit_memory": "1",
  "vm/panic_on_oom": "0",
  "kernel/panic": "10",
  "kernel/panic_on_oops": "1",
  "kernel/keys/root_maxkeys": "1000000",
  "kernel/keys/root_maxbytes": "25000000",
};

export interface RealNodeOptions {
  name: string;
  /** Pod range index (10.244.<index>.0/24). */
  index: number;
  network: NodeNetwork;
  binaries: KubernetesNodeBinaries;
  images: NodeImages;
  /** The images to import into this node's containerd. */
  imageNames: readonly string[];
  /** The kubelet's cgroup root (`/khr<id>-<name>`), made under each v1 controller. */
  cgroupRoot: string;
  /** Where the node's host-side log goes. */
  logDir: string;
  /**
   * Install the node's programs from the real packages (real-packages.ts) with apt, as a user's node gets them,
   * instead of copying them in: the repositories' host directory (bound read-only at REAL_REPO_IN_NODE), the apt
   * source lines, and the exact versions installed and held.
   */
  packages?: NodePackages;
  /** Images of other releases to import too (their archives on the host), as a registry would have them. */
  moreImages?: readonly NodeImages[];
  /** Serve the node over SSH: its own sshd on its address, port 22, this client key authorized for `ubuntu`. */
  sshKey?: ClientKey;
  /**
   * The node's programs come from its user data (a cattle instance, whose boot script installs the packages from
   * `packages.sources`' repository and joins; `packages.pins` is then empty and nothing is seeded). What the node
   * image gives besides: containerd's unit runs from boot and starts once the package has put containerd there, with
   * the node's own config (USER_DATA_CONTAINERD: cgroupfs, as this machine has no systemd) and the images imported
   * once it answers (pre-pulled, as a node image has them); `/etc/default/kubelet` gives the kubelet the node's
   * address and cgroup root (KUBELET_EXTRA_ARGS, which 10-kubeadm.conf reads).
   */
  fromUserData?: boolean;
}

/** Where a user-data node's containerd unit reads its config (the boot script writes /etc/containerd/config.toml). */
export const USER_DATA_CONTAINERD = "/etc/kubeherd/containerd.toml";

export interface NodePackages {
  repository: string;
  sources: readonly string[];
  pins: Readonly<Record<string, string>>;
}

function cgroupControllers(): string[] {
  return readdirSync(CGROUP_V1).filter((d) => {
    try {
      return readdirSync(join(CGROUP_V1, d)).includes("cgroup.procs");
    } catch {
      return false;
    }
  });
}

/** Removes a cgroup tree deepest first (rmdir of an empty cgroup); names what could not go. */
function removeCgroupTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const left: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) left.push(...removeCgroupTree(join(dir, e.name)));
  try {
    rmdirSync(dir);
  } catch {
    left.push(dir);
  }
  return left;
}


/**
 * A user-data node's containerd unit: nothing until the containerd.io package is installed (the service manager
 * tries again every second), then containerd on the node's own config, and once it answers, the node image's
 * images imported into its CRI namespace (once per boot).
 */
function userDataContainerd(archives: readonly string[]): string {
  return `#!/bin/sh
[ -x /usr/bin/containerd ] || exit 1
if [ ! -e /run/kubeherd-images-imported ]; then
  (
    i=0
    while [ $i -lt 600 ]; do
      if ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then
${archives.map((a) => `        ctr -n k8s.io images import --no-unpack=false '${a}' || exit 1`).join("\n")}
        touch /run/kubeherd-images-imported
        exit 0
      fi
      sleep 0.2
      i=$((i + 1))
    done
  ) >>/var/log/kubeherd-images.log 2>&1 &
fi
exec /usr/bin/containerd --config ${USER_DATA_CONTAINERD}
`;
}

export class RealNode {
  /** The node's pinned SSH host key (`ssh-ed25519 AAAA…`) once its sshd runs. */
  hostKey?: string;
  private pid1?: number;
  private readonly services: ChildProcess[] = [];
  private stopped = false;

  private constructor(
    readonly options: RealNodeOptions,
    readonly root: NodeRoot,
  ) {}

  get name(): string {
    return this.options.name;
  }

  get address(): string {
    return this.options.network.address;
  }

  /** Makes the root, installs the node's programs and configuration, boots it, starts containerd and imports images. */
  static async start(options: RealNodeOptions): Promise<RealNode> {
    const root = await NodeRoot.create();
    const node = new RealNode(options, root);
    try {
      await node.install();
      node.makeCgroups();
      await node.boot();
      if (options.fromUserData) {
        node.unit("containerd", "/usr/local/lib/kubeherd/containerd-service");
        node.startKubelet();
        return node;
      }
      if (options.packages) await node.installPackages(options.packages);
      await node.startContainerd();
      await node.importImages();
      node.startKubelet();
      if (options.sshKey) await node.startSshd(options.sshKey);
      return node;
    } catch (e) {
      await node.stop();
      throw e;
    }
  }

  private async install(): Promise<void> {
    const { root, options } = this;
    root.verify();
    const copy = async (from: string, to: string) => {
      mkdirSync(join(root.path(to), ".."), { recursive: true });
      await runOrThrow("cp", ["--reflink=auto", from, root.path(to)]);
    };
    if (!options.packages) {
      for (const c of ["kubelet", "kubeadm", "kubectl"] as const) await copy(options.binaries.paths[c], `/usr/bin/${c}`);
      for (const [from, to] of HOST_PROGRAMS) await copy(from, to);
      mkdirSync(root.path("/opt/cni/bin"), { recursive: true });
      for (const plugin of ["bridge", "host-local", "loopback"]) await copy(`/usr/lib/cni/${plugin}`, `/opt/cni/bin/${plugin}`);
    }
    await copy(options.images.pauseBinary, "/usr/local/lib/kubeherd/pause");
    if (options.fromUserData) {
      root.write(USER_DATA_CONTAINERD, containerdConfig(options.images.pause));
      root.write("/usr/local/lib/kubeherd/containerd-service", userDataContainerd(options.imageNames.map((n) => `/var/lib/kubeherd-images/${(options.images.archives[n] ?? "").split("/").pop()}`)), 0o755);
      root.write("/etc/default/kubelet", `KUBELET_EXTRA_ARGS="--node-ip=${options.network.address} --cgroup-root=${options.cgroupRoot}"\n`);
    } else root.write("/etc/containerd/config.toml", containerdConfig(options.images.pause));
    root.write("/etc/cni/net.d/10-kubeherd.conflist", cniConfig(options.index));
    root.write("/usr/local/lib/kubeherd/kubelet-service", kubeletService(), 0o755);
    root.write(SUPERVISE, superviseScript(), 0o755);
    // the node's systemctl acts on the units its service manager runs (the harness's stand-in only records)
    root.write(`${STANDIN_DIR}/systemctl`, standinCommand("systemctl", "-", realSystemctl()), 0o755);
    // the real etcdctl on the host (as Ubuntu's etcd-client installs it), not the Debian harness's stand-in, which
    // answered kubeherd's etcd health check and wrote a 37-byte "snapshot"; the path without a host etcdctl
    // (`crictl exec` into the etcd container) cannot run here: exec on these nodes lands in the host's root
    rmSync(root.path(`${STANDIN_DIR}/etcdctl`), { force: true });
    await copy((await ensureEtcdctl()).path, "/usr/bin/etcdctl");
    root.write("/etc/hosts", `127.0.0.1 localhost\n${options.network.address} ${options.name}\n`);
    root.write("/etc/resolv.conf", "search kubeherd.test\n");
    root.write("/etc/hostname", `${options.name}\n`);
    for (const [path, value] of Object.entries(KERNEL_TUNABLES)) root.write(`/usr/local/lib/kubeherd/sysctl/${path}`, `${value}\n`);
    for (const d of ["/var/lib/containerd", "/var/lib/etcd", "/var/lib/kubelet", "/var/lib/kubeherd-images", "/var/log", REAL_REPO_IN_NODE]) {
      mkdirSync(root.path(d), { recursive: true });
    }
  }

  private makeCgroups(): void {
    for (const c of cgroupControllers()) {
      const dir = join(CGROUP_V1, c, this.options.cgroupRoot);
      mkdirSync(dir, { recursive: true });
      if (c.includes("cpuset")) {
        for (const f of ["cpuset.cpus", "cpuset.mems"]) writeFileSync(join(dir, f), readFileSync(join(CGROUP_V1, c, f)));
      }
    }
  }

  /** The node's pid 1, after the mounts a booted Debian has (host paths: this runs before the chroot). */
  private async boot(): Promise<void> {
    const { root, options } = this;
    root.verify();
    const R = realpathSync(root.dir);
    const sysctlBinds = Object.keys(KERNEL_TUNABLES)
      .map((p) => `mount --bind '${R}/usr/local/lib/kubeherd/sysctl/${p}' '${R}/proc/sys/${p}'`)
      .join("\n");
    const script = `set -e
mount -t proc proc '${R}/proc'
${sysctlBinds}
mount -t sysfs sysfs '${R}/sys'
mount --rbind /sys/fs/cgroup '${R}/sys/fs/cgroup'
mount --rbind /dev '${R}/dev'
mount -t tmpfs -o mode=1777 shm '${R}/dev/shm'
mount -t devpts -o newinstance,ptmxmode=0666 devpts '${R}/dev/pts'
mount -t tmpfs -o mode=755 run '${R}/run'
# Ubuntu's systemd-resolved file, which kubeadm hands the kubelet when systemd-resolved is active
mkdir -p '${R}/run/systemd/resolve'
cp '${R}/etc/resolv.conf' '${R}/run/systemd/resolve/resolv.conf'
mount -t tmpfs containerd '${R}/var/lib/containerd'
mount -t tmpfs etcd '${R}/var/lib/etcd'
mount --bind '${options.images.dir}' '${R}/var/lib/kubeherd-images'
mount -o remount,bind,ro '${R}/var/lib/kubeherd-images'
${options.packages ? `mount --bind '${options.packages.repository}' '${R}${REAL_REPO_IN_NODE}'\nmount -o remount,bind,ro '${R}${REAL_REPO_IN_NODE}'\n` : ""}mount --make-rshared '${R}'
hostname '${options.name}'
exec chroot '${R}' /usr/local/lib/kubeherd/pause`;
    mkdirSync(options.logDir, { recursive: true });
    const log = openSync(join(options.logDir, `${options.name}-boot.log`), "a");
    const child = spawn(
      "setpriv",
      ["--pdeathsig", "KILL", "--", "nsenter", `--net=/run/netns/${options.network.ns}`, "--", "unshare", "--pid", "--fork", "--kill-child=SIGKILL", "--mount", "--uts", "--propagation", "private", "--", "/bin/sh", "-c", script],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    this.services.push(child);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`node ${options.name} did not boot: see ${join(options.logDir, `${options.name}-boot.log`)}`);
      const pid = child.pid === undefined ? undefined : this.childOf(child.pid);
      if (pid !== undefined && this.rootOf(pid) === R) {
        this.pid1 = pid;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`node ${options.name} did not boot within 20 s`);
  }

  private childOf(pid: number): number | undefined {
    try {
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
      return kids.length > 0 ? Number(kids[0]) : undefined;
    } catch {
      return undefined;
    }
  }

  private rootOf(pid: number): string | undefined {
    try {
      return readlinkSync(`/proc/${pid}/root`);
    } catch {
      return undefined;
    }
  }

  private enterArgs(): string[] {
    if (this.pid1 === undefined || this.stopped) throw new Error(`node ${this.name} is not running`);
    this.root.verify();
    return ["-t", String(this.pid1), "--mount", "--net", "--pid", "--uts", "--root", "--wd", "--", "/usr/bin/env", "-i", `PATH=${NODE_PATH}`, "HOME=/root", "LANG=C.UTF-8"];
  }

  /** Runs `command` with bash in the node (its namespaces, its root), as a root shell on the node would. */
  async sh(command: string, timeoutMs = 300_000): Promise<Outcome> {
    return run("nsenter", [...this.enterArgs(), "/bin/bash", "-c", command], { timeoutMs });
  }

  async shOrThrow(command: string, timeoutMs = 300_000): Promise<Outcome> {
    const r = await this.sh(command, timeoutMs);
    if (r.code !== 0) throw new Error(`on node ${this.name}, \`${command}\` exited ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
    return r;
  }

  /** A long-running program of the node (its log in the node's /var/log/<name>.log); it dies with the node. */
  private service(name: string, command: string): void {
    const child = spawn("nsenter", [...this.enterArgs(), "/bin/sh", "-c", `exec >>/var/log/${name}.log 2>&1; exec ${command}`], { stdio: "ignore" });
    this.services.push(child);
  }

  /**
   * The node's programs from the real packages: apt installs the exact versions from the given lines (and what they
   * depend on) and holds them, as an operator set up the node; the lines are removed again after, so only what
   * kubeherd's scripts write configures apt.
   */
  private async installPackages(p: NodePackages): Promise<void> {
    const list = "/etc/apt/sources.list.d/kubeherd-test-seed.list";
    this.root.write(list, `${p.sources.join("\n")}\n`);
    const specs = Object.entries(p.pins).map(([name, v]) => `${name}=${v}`);
    try {
      await this.shOrThrow(
        `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${specs.join(" ")} >/var/log/kubeherd-seed.log 2>&1 && apt-mark hold ${Object.keys(p.pins).join(" ")} >/dev/null`,
        600_000,
      );
    } finally {
      this.root.remove(list);
      await this.shOrThrow("apt-get update -qq");
    }
  }

  /** A unit under the node's service manager (Restart=always, 1 s), its log in /var/log/<unit>.log. */
  private unit(name: string, command: string): void {
    this.service(name, `${SUPERVISE} ${name} 1 ${command}`);
  }

  private async startContainerd(): Promise<void> {
    this.unit("containerd", "/usr/bin/containerd --config /etc/containerd/config.toml");
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await this.sh("ctr --address /run/containerd/containerd.sock version");
      if (r.code === 0) return;
      if (Date.now() > deadline) throw new Error(`containerd on node ${this.name} did not answer within 30 s: ${r.stderr}\n${this.log("containerd")}`);
      await new Promise((res) => setTimeout(res, 300));
    }
  }

  private async importImages(): Promise<void> {
    for (const name of this.options.imageNames) {
      const archive = this.options.images.archives[name];
      if (archive === undefined) throw new Error(`no archive for image ${name}`);
      await this.shOrThrow(`ctr -n k8s.io images import --no-unpack=false '/var/lib/kubeherd-images/${archive.split("/").pop()}'`);
    }
    for (const more of this.options.moreImages ?? []) {
      for (const archive of Object.values(more.archives)) await this.importImage(archive);
    }
  }

  private startKubelet(): void {
    this.unit("kubelet", "/usr/local/lib/kubeherd/kubelet-service");
  }

  /**
   * The node's own sshd (the SSH harness's configuration: public keys only, the `ubuntu` user reaching root with
   * `sudo -n`), in the node's namespaces, listening on the node's address only: a session runs on this node, sees
   * its processes and drives its real kubelet. The test reaches it through the cluster's network.
   */
  private async startSshd(key: ClientKey): Promise<void> {
    const { root } = this;
    root.verify();
    await this.shOrThrow(`rm -f /etc/ssh/ssh_host_* && ssh-keygen -q -t ed25519 -N '' -C '' -f ${SSH_HOST_KEY}`);
    const [type, body] = root.read(`${SSH_HOST_KEY}.pub`).trim().split(/\s+/);
    this.hostKey = `${type} ${body}`;
    root.write("/home/ubuntu/.ssh/authorized_keys", `${key.publicKey}\n`, 0o600);
    root.write(SSHD_CONFIG, sshdConfig(this.address, 22, "ubuntu"));
    await this.shOrThrow(`chmod 0700 /home/ubuntu/.ssh && chown -R ubuntu:ubuntu /home/ubuntu/.ssh && mkdir -p -m 0755 /run/sshd && /usr/sbin/sshd -t -f ${SSHD_CONFIG}`);
    this.service("sshd", `/usr/sbin/sshd -D -e -f ${SSHD_CONFIG}`);
    const deadline = Date.now() + 20_000;
    while (!(await canConnect(this.address, 22))) {
      if (Date.now() > deadline) throw new Error(`node ${this.name}: sshd did not listen on ${this.address}:22 within 20 s:\n${this.log("sshd")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const listening = (await this.shOrThrow("ss -Hltn")).stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)[3]);
    if (!listening.includes(`${this.address}:22`) || listening.some((a) => a?.endsWith(":22") && a !== `${this.address}:22`)) {
      throw new Error(`node ${this.name}: sshd should listen on ${this.address}:22 only; the node listens on ${listening.join(", ")}`);
    }
  }

  /** Puts a host file into the node (a new kubeadm or kubelet, as a package's install would). */
  async installFile(from: string, to: string): Promise<void> {
    this.root.verify();
    // copy beside it, then rename: a running program's file is replaced, never written into
    await runOrThrow("cp", ["--reflink=auto", from, this.root.path(`${to}.kubeherd-new`)]);
    await this.shOrThrow(`mv -f '${to}.kubeherd-new' '${to}'`);
  }

  /** Imports an image archive from the host into the node's containerd. */
  async importImage(archive: string): Promise<void> {
    const inNode = "/var/tmp/kubeherd-image.tar";
    await runOrThrow("cp", ["--reflink=auto", archive, this.root.path(inNode)]);
    try {
      await this.shOrThrow(`ctr -n k8s.io images import '${inNode}'`);
    } finally {
      this.root.remove(inNode);
    }
  }

  /** `systemctl restart kubelet` on the node: the kubelet exits and its service manager starts it again. */
  async restartKubelet(): Promise<void> {
    await this.shOrThrow("systemctl restart kubelet");
  }

  /** The tail of a log the node keeps in /var/log. */
  log(name: string, lines = 60): string {
    try {
      return readFileSync(this.root.path(`/var/log/${name}.log`), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  /** Image names in the node's containerd (CRI namespace). */
  async images(): Promise<string[]> {
    const r = await this.shOrThrow("ctr -n k8s.io images list -q");
    return r.stdout.split("\n").filter((l) => l && !l.startsWith("sha256:"));
  }

  /** Kills the node's pid 1 (so every process of the node), then removes its cgroups and root. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pid1 !== undefined) {
      try {
        process.kill(this.pid1, "SIGKILL");
      } catch {
        /* gone already */
      }
    }
    for (const s of this.services) if (s.exitCode === null && s.signalCode === null) s.kill("SIGKILL");
    const deadline = Date.now() + 20_000;
    while (this.pid1 !== undefined && existsSync(`/proc/${this.pid1}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    let left: string[] = [];
    while (Date.now() < deadline) {
      left = cgroupControllers().flatMap((c) => removeCgroupTree(join(CGROUP_V1, c, this.options.cgroupRoot)));
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await this.root.destroy();
    if (left.length > 0) throw new Error(`node ${this.name}: cgroups left after its processes died: ${left.slice(0, 5).join(", ")}`);
  }
}

