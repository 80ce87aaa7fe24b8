/**
 * A pets node you can SSH into: a node root of the Debian harness (test/support/node-root/node-root.ts, verified as the
 * harness's own) served by the root's own real OpenSSH sshd on one loopback address. sshd runs chrooted into the
 * root, in its own PID and mount namespaces: every session and everything a session starts (sudo, apt, dpkg, the
 * converge script) runs inside the root, sees only the root's processes, and dies with the sshd. The host key is
 * fresh per node and pinned by the caller; the login user reaches root with `sudo -n`, as in production.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UbuntuRelease } from "../../../components/versions/ubuntu";
import { KUBELET_BROKEN, KUBELET_NOT_READY_YET } from "../node-root/host-standins";
import { NODE_USERS, NodeRoot } from "../node-root/node-root";
import { runOrThrow } from "../node-root/process";
import { listeningAddresses } from "./listening";

/** An SSH client key pair: what the stack's `kubeherd:sshPrivateKey` holds, and the line for authorized_keys. */
export interface ClientKey {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), as @pulumi/command's `privateKey` takes it. */
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA… comment` */
  readonly publicKey: string;
}

export interface SshNodeOptions {
  /** The Kubernetes node name (the stack's `nodes[].name`), used in messages. */
  readonly name: string;
  /** The node's own loopback address, distinct per node: `127.0.0.X`. */
  readonly address: string;
  /** @default 22 */
  readonly port?: number;
  /** @default "22.04" */
  readonly release?: UbuntuRelease;
  /** The SSH login user: `ubuntu` (reaches root with `sudo -n`) or `root`. @default "ubuntu" */
  readonly user?: "ubuntu" | "root";
  /** The client key to authorize: one per pool, as in a stack. @default a fresh key for this node */
  readonly clientKey?: ClientKey;
  /** A root of the harness to serve instead of a new one; it is verified and is destroyed by `stop`. */
  readonly root?: NodeRoot;
}

export interface SshNode {
  readonly name: string;
  /** The harness's node root: its call log, dpkg state, held packages, files. */
  readonly root: NodeRoot;
  readonly host: string;
  readonly port: number;
  readonly user: "ubuntu" | "root";
  /** The client private key that logs in (OpenSSH format). */
  readonly privateKey: string;
  /** The pinned host key, as the stack's `nodes[].hostKey` takes it: `ssh-ed25519 AAAA…` (no comment). */
  readonly hostKey: string;
  /** The host's sshd pid (inside its namespace it is pid 1); undefined while sshd is down. */
  sshdPid(): number | undefined;
  /** Takes sshd down (the "sshd is down" scenario): connections are refused until `startSshd`. */
  stopSshd(): Promise<void>;
  startSshd(): Promise<void>;
  /**
   * Fault switch: from now on every kubelet (re)start in the root fails (the stand-in systemctl exits 1), so the
   * kubelet agent takes the Node away from KWOK and sets it NotReady, and it stays so until `fixKubelet`.
   */
  breakKubelet(): void;
  fixKubelet(): void;
  /**
   * Delay switch: from now on a kubelet that (re)starts fine comes up NotReady (its new versions reported, reason
   * `KubeletNotReady`) and turns Ready only at `endReadyDelay`: the test sets how long a node takes to be Ready.
   */
  delayReady(): void;
  endReadyDelay(): void;
  /** Kills sshd and everything it started, unmounts and removes the root, whatever happened. Idempotent. */
  stop(): Promise<void>;
}

const SSHD_CONFIG = "/etc/ssh/kubeherd-sshd_config";
const HOST_KEY = "/etc/ssh/ssh_host_ed25519_key";
const READY_TIMEOUT_MS = 15_000;

/** Loopback only: a node's sshd must never listen where anything but this machine can reach it. */
export function checkLoopbackAddress(address: string): void {
  const m = /^127\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/.exec(address);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new Error(`an SSH node listens on a 127.0.0.0/8 address only, not ${address}`);
}

/** A fresh ed25519 client key pair in OpenSSH format. */
export async function makeClientKey(comment = "kubeherd-e2e"): Promise<ClientKey> {
  const dir = mkdtempSync(join(tmpdir(), "kubeherd-key-"));
  try {
    await runOrThrow("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", join(dir, "id")]);
    return { privateKey: readFileSync(join(dir, "id"), "utf8"), publicKey: readFileSync(join(dir, "id.pub"), "utf8").trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sshd configuration: public keys only, the one login user, no forwarding, this address only. */
export function sshdConfig(address: string, port: number, user: "ubuntu" | "root"): string {
  return [
    `ListenAddress ${address}:${port}`,
    `HostKey ${HOST_KEY}`,
    "PidFile none",
    // as on Ubuntu: PAM accounts and sessions (the image's users have locked passwords, which PAM allows for keys)
    "UsePAM yes",
    "AuthenticationMethods publickey",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    `PermitRootLogin ${user === "root" ? "prohibit-password" : "no"}`,
    `AllowUsers ${user}`,
    "AuthorizedKeysFile .ssh/authorized_keys",
    "StrictModes yes",
    "AllowTcpForwarding no",
    "AllowAgentForwarding no",
    "AllowStreamLocalForwarding no",
    "X11Forwarding no",
    "PermitTunnel no",
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

const live = new Set<LiveNode>();
let exitHookInstalled = false;

/** Whatever a test leaves running dies with the test process: sshd and the root, synchronously at exit. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const node of live) node.stopSync();
  });
}

export async function startSshNode(opts: SshNodeOptions): Promise<SshNode> {
  checkLoopbackAddress(opts.address);
  const port = opts.port ?? 22;
  const user = opts.user ?? "ubuntu";
  if (user !== "root" && NODE_USERS[user] === undefined) throw new Error(`no user ${user} in the node root`);
  const root = opts.root ?? (await NodeRoot.create({ release: opts.release }));
  const node = new LiveNode(opts.name, root, opts.address, port, user);
  live.add(node);
  installExitHook();
  try {
    root.verify();
    const key = opts.clientKey ?? (await makeClientKey(`kubeherd-e2e-${opts.name}`));
    await node.configure(key);
    await node.startSshd();
    return node;
  } catch (e) {
    await node.stop();
    throw e;
  }
}

class LiveNode implements SshNode {
  privateKey = "";
  hostKey = "";
  private sshd?: ChildProcess;
  private sshdLog: string[] = [];
  private stopped = false;

  constructor(
    readonly name: string,
    readonly root: NodeRoot,
    readonly host: string,
    readonly port: number,
    readonly user: "ubuntu" | "root",
  ) {}

  /** A fresh host key (the base root's shared ones removed), the client key authorized, the sshd config. */
  async configure(key: ClientKey): Promise<void> {
    await this.root.shOrThrow("rm -f /etc/ssh/ssh_host_*");
    await runOrThrow("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", this.root.path(HOST_KEY)]);
    const [type, body] = readFileSync(this.root.path(`${HOST_KEY}.pub`), "utf8").trim().split(/\s+/);
    this.hostKey = `${type} ${body}`;
    this.privateKey = key.privateKey;
    const home = this.user === "root" ? "/root" : `/home/${this.user}`;
    this.root.write(`${home}/.ssh/authorized_keys`, `${key.publicKey}\n`, 0o600);
    const owner = this.user === "root" ? "0:0" : `${NODE_USERS[this.user]}:${NODE_USERS[this.user]}`;
    await this.root.shOrThrow(`chmod 0700 ${home}/.ssh && chown -R ${owner} ${home}/.ssh`);
    this.root.write(SSHD_CONFIG, sshdConfig(this.host, this.port, this.user));
    await this.root.shOrThrow(`mkdir -p -m 0755 /run/sshd && /usr/sbin/sshd -t -f ${SSHD_CONFIG}`);
  }

  sshdPid(): number | undefined {
    const unshare = this.sshd?.pid;
    if (unshare === undefined || this.sshd?.exitCode !== null) return undefined;
    try {
      const children = readFileSync(`/proc/${unshare}/task/${unshare}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
      return children.length === 1 ? Number(children[0]) : undefined;
    } catch {
      return undefined;
    }
  }

  async startSshd(): Promise<void> {
    if (this.stopped) throw new Error(`node ${this.name} was stopped`);
    if (this.sshd && this.sshd.exitCode === null) return;
    this.root.verify();
    this.sshdLog = [];
    // setpriv: if this process dies, so does unshare; --kill-child: if unshare dies, so does the namespace's pid 1
    // (sshd), and with it every process of the namespace. /proc and /dev/pts are mounted in the namespace only.
    const child = spawn(
      "setpriv",
      [
        "--pdeathsig", "KILL", "--",
        "unshare", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private", "--",
        "chroot", this.root.dir, "/bin/sh", "-c",
        "mount -t proc proc /proc && mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts && " +
          `mkdir -p -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f ${SSHD_CONFIG}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" } },
    );
    const keep = (b: Buffer) => {
      this.sshdLog.push(b.toString("utf8"));
      if (this.sshdLog.length > 200) this.sshdLog.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.sshd = child;
    await this.waitUntilListening(child);
    const pid = this.sshdPid();
    const listening = pid === undefined ? [] : listeningAddresses(pid);
    if (listening.join(" ") !== `${this.host}:${this.port}`) {
      await this.stopSshd();
      throw new Error(`node ${this.name}: sshd listens on ${listening.join(", ") || "nothing"}, not only ${this.host}:${this.port}`);
    }
  }

  private async waitUntilListening(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`node ${this.name}: sshd exited (${child.exitCode ?? child.signalCode}):\n${this.log()}`);
      }
      if (this.sshdPid() !== undefined && (await canConnect(this.host, this.port))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stopSshd();
    throw new Error(`node ${this.name}: sshd did not listen on ${this.host}:${this.port} within ${READY_TIMEOUT_MS / 1000} s:\n${this.log()}`);
  }

  /** What sshd printed (its -e log), for failure messages. */
  log(): string {
    return this.sshdLog.join("").slice(-4000);
  }

  async stopSshd(): Promise<void> {
    const child = this.sshd;
    this.sshd = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const inner = child.pid === undefined ? undefined : pidNamespaceOf(child.pid);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGKILL");
    await exited;
    // The kernel kills the namespace's processes once its pid 1 is gone, but tears it down some time after, not at
    // once: wait (bounded) until no process is left in it and the port is free.
    const deadline = Date.now() + NAMESPACE_GONE_TIMEOUT_MS;
    for (;;) {
      const left = inner === undefined ? [] : pidsInNamespace(inner);
      if (left.length === 0 && !(await canConnect(this.host, this.port))) return;
      if (Date.now() >= deadline) {
        throw new Error(`node ${this.name}: ${left.length > 0 ? `pids ${left.join(", ")} of its namespace` : `${this.host}:${this.port}`} still there ${NAMESPACE_GONE_TIMEOUT_MS / 1000} s after sshd was killed`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  breakKubelet(): void {
    this.root.write(KUBELET_BROKEN, "kubelet.service fails to start (SshNode.breakKubelet)\n");
  }

  fixKubelet(): void {
    this.root.remove(KUBELET_BROKEN);
  }

  delayReady(): void {
    this.root.write(KUBELET_NOT_READY_YET, "a kubelet that started is not Ready yet (SshNode.delayReady)\n");
  }

  endReadyDelay(): void {
    this.root.remove(KUBELET_NOT_READY_YET);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.stopSshd();
    } finally {
      live.delete(this);
      await this.root.destroy();
    }
  }

  /** `stop` at process exit, when nothing asynchronous runs any more. */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    const pid = this.sshd?.pid;
    if (pid !== undefined && this.sshd?.exitCode === null) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
      // give the kernel a moment to tear the namespace down before unmounting
      spawnSync("sleep", ["0.2"]);
    }
    live.delete(this);
    this.root.destroySync();
  }
}

const NAMESPACE_GONE_TIMEOUT_MS = 10_000;

/**
 * The pid namespace of the only child of `unshare` (the namespace's pid 1), as /proc names it (`pid:[4026532…]`);
 * undefined once it is gone.
 */
function pidNamespaceOf(unsharePid: number): string | undefined {
  try {
    const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    return children.length === 1 ? readlinkSync(`/proc/${children[0]}/ns/pid`) : undefined;
  } catch {
    return undefined;
  }
}

/** Host pids of the processes still in pid namespace `ns` (zombies included, until reaped). */
function pidsInNamespace(ns: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/pid`) === ns) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Whether a TCP connection to host:port is accepted (closed again at once). */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
