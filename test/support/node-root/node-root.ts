/**
 * A fresh test node: an overlay of the cached Debian root in a temp directory, made to look like the Ubuntu node
 * the scripts expect (os-release of the release under test, the image's login users with sudo, host stand-ins,
 * the local repository at /srv/kubeherd-repo, a stand-in Ubuntu archive with one unpinned package installed).
 * Scripts run in it with chroot, with real apt and dpkg.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { codenameOf, type UbuntuRelease } from "../../../components/versions/ubuntu";
import { ensureTools } from "../debian/debian-tools";
import { baseRootTarball, ensureExtractedBaseRoot } from "./base-root";
import { parseCallLog, type Call } from "./call-log";
import { heldPackages, parseDpkgStatus, versionsOf, type PackageState } from "../debian/dpkg-status";
import { hostStandins, lsbRelease, osRelease, STANDIN_DIR } from "./host-standins";
import { removeTree, removeTreeSync, unmountAll } from "./mounts";
import { run, runOrThrow, type Outcome } from "./process";
import { CANARY, ensureRepository, exactDependencies, LOCAL_SOURCES, REPO_IN_ROOT } from "../debian/repository";
import { resolveInRoot } from "./root-path";
import { ROOT_PREFIX } from "./root-sweep";
import { CALL_LOG, FAIL_ONCE_DIR } from "./standin-shell";

/** The environment a root shell over SSH gets on Ubuntu; nothing of the test process leaks in. */
const NODE_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
  USER: "root",
  LOGNAME: "root",
  SHELL: "/bin/bash",
};

export interface NodeRootOptions {
  /** The Ubuntu release the root says it is. @default "22.04" */
  readonly release?: UbuntuRelease;
}

/**
 * The login users of the root, as on Ubuntu cloud images: `ubuntu` (the default image user) and `admin` (another
 * SSH user a pool may name), both with password-less sudo. Numeric ids, so chroot need not resolve names.
 */
export const NODE_USERS: Readonly<Record<string, number>> = { ubuntu: 1000, admin: 1001 };

export interface ShellOptions {
  /** Added to the node's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this login user (one of NODE_USERS) instead of root. */
  readonly user?: string;
  /** @default 300_000 */
  readonly timeoutMs?: number;
}

/** Inside every root: a token only the NodeRoot object that made the root knows (see `verify`). */
const ROOT_MARK = "/etc/kubeherd-test-root";

export class NodeRoot {
  private readonly token = randomBytes(16).toString("hex");
  private destroyed = false;

  private constructor(
    /** Everything of this root on the host: the root itself (`dir`) and, when overlaid, its upper layer. */
    private readonly home: string,
    /** The root's directory on the host. */
    readonly dir: string,
    readonly release: UbuntuRelease,
  ) {}

  static async create(options: NodeRootOptions = {}): Promise<NodeRoot> {
    ensureTools();
    const [base, repo] = await Promise.all([ensureExtractedBaseRoot(), ensureRepository()]);
    const home = mkdtempSync(join(tmpdir(), `${ROOT_PREFIX}${process.pid}-`));
    const root = new NodeRoot(home, join(home, "root"), options.release ?? "22.04");
    try {
      await root.populate(base);
      await root.prepare(repo);
      return root;
    } catch (e) {
      await root.destroy();
      throw e;
    }
  }

  /**
   * An overlay of the shared extracted root: instant, and the shared copy is never written. Where overlayfs is
   * not available, a copy of the cached tarball instead (a few seconds more per root).
   */
  private async populate(base: string): Promise<void> {
    const [upper, work] = [join(this.home, "upper"), join(this.home, "work")];
    for (const d of [this.dir, upper, work]) mkdirSync(d);
    const overlay = await run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${base},upperdir=${upper},workdir=${work}`, this.dir]);
    if (overlay.code !== 0) await runOrThrow("tar", ["-C", this.dir, "--numeric-owner", "-xf", baseRootTarball()]);
  }

  private async prepare(repo: string): Promise<void> {
    const codename = codenameOf(this.release);
    this.write(ROOT_MARK, `${this.token}\n`, 0o600);
    // Debian's os-release is a symlink into /usr/lib; Ubuntu's scripts only read /etc/os-release.
    this.remove("/etc/os-release");
    this.write("/etc/os-release", osRelease(this.release));
    this.write("/etc/lsb-release", lsbRelease(this.release));
    for (const [path, content] of Object.entries(hostStandins())) this.write(path, content, 0o755);
    await runOrThrow("cp", ["-a", repo, this.path(REPO_IN_ROOT)]);
    this.write("/etc/apt/sources.list", `${LOCAL_SOURCES.ubuntu.replace("{codename}", codename)}\n`);
    // fsync-free dpkg: the root is thrown away, and this halves install time
    this.write("/etc/dpkg/dpkg.cfg.d/kubeherd-test-unsafe-io", "force-unsafe-io\n");
    // sudo resolves the host name; the chroot shares the host's
    this.write("/etc/hosts", `127.0.0.1 localhost\n127.0.1.1 ${hostname()}\n`);
    const users = Object.entries(NODE_USERS);
    this.write(
      "/etc/sudoers.d/90-cloud-init-users",
      // the test's short reboot delay must survive sudo's env_reset to reach the script
      ['Defaults env_keep += "KUBEHERD_REBOOT_DELAY"', ...users.map(([u]) => `${u} ALL=(ALL) NOPASSWD:ALL`), ""].join("\n"),
      0o440,
    );
    for (const [user, id] of users) await this.shOrThrow(`useradd --uid ${id} --user-group --create-home --shell /bin/bash ${user}`);
    await this.shOrThrow(
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${CANARY.name}=${CANARY.installed} >/dev/null`,
    );
    this.clearCalls();
  }

  /** The host path of a path inside the root, its symlinks resolved inside the root (never onto the host's). */
  path(inRoot: string): string {
    return resolveInRoot(this.dir, inRoot);
  }

  exists(inRoot: string): boolean {
    return existsSync(this.path(inRoot));
  }

  read(inRoot: string): string {
    return readFileSync(this.path(inRoot), "utf8");
  }

  write(inRoot: string, content: string, mode = 0o644): void {
    const file = this.path(inRoot);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    chmodSync(file, mode);
  }

  /** Removes a file or tree; a symlink itself, not what it points to. */
  remove(inRoot: string): void {
    rmSync(resolveInRoot(this.dir, inRoot, false), { force: true, recursive: true });
  }

  /**
   * Runs `command` with `bash -c` in the root as root, as an SSH session would run it, with /proc mounted for the
   * duration (always unmounted after, even when the command fails or times out).
   */
  async sh(command: string, options: ShellOptions = {}): Promise<Outcome> {
    const [proc, pts] = [this.path("/proc"), this.path("/dev/pts")];
    mkdirSync(proc, { recursive: true });
    mkdirSync(pts, { recursive: true });
    try {
      await runOrThrow("mount", ["-t", "proc", "proc", proc]);
      // a private devpts instance: apt and dpkg want a pty for their logs, and the host's stay out of reach
      await runOrThrow("mount", ["-t", "devpts", "-o", "newinstance,ptmxmode=0666", "devpts", pts]);
      const id = options.user === undefined ? undefined : NODE_USERS[options.user];
      if (options.user !== undefined && id === undefined) throw new Error(`no user ${options.user} in the test root`);
      const as = id === undefined ? [] : [`--userspec=${id}:${id}`];
      const login = options.user === undefined ? {} : { HOME: `/home/${options.user}`, USER: options.user, LOGNAME: options.user };
      return await run("chroot", [...as, this.dir, "/bin/bash", "-c", command], {
        env: { ...NODE_ENV, ...login, ...options.env },
        timeoutMs: options.timeoutMs,
      });
    } finally {
      await unmountAll(pts);
      await unmountAll(proc);
    }
  }

  /** `sh`, throwing with the output when the command fails: for test setup, never for the script under test. */
  async shOrThrow(command: string, options: ShellOptions = {}): Promise<Outcome> {
    const outcome = await this.sh(command, options);
    if (outcome.code !== 0) {
      throw new Error(`in the test root, \`${command}\` exited ${outcome.code}\n${outcome.stdout.slice(-3000)}\n${outcome.stderr.slice(-3000)}`);
    }
    return outcome;
  }

  /** dpkg's state of every installed package. */
  packages(): Map<string, PackageState> {
    return parseDpkgStatus(this.read("/var/lib/dpkg/status"));
  }

  /** Installed versions of the named packages (absent ones left out). */
  versions(names: readonly string[]): Record<string, string> {
    return versionsOf(this.packages(), names);
  }

  held(): string[] {
    return heldPackages(this.packages());
  }

  /** Everything the stand-ins recorded since the root was made or the log was cleared. */
  calls(): Call[] {
    return this.exists(CALL_LOG) ? parseCallLog(this.read(CALL_LOG)) : [];
  }

  clearCalls(): void {
    this.remove(CALL_LOG);
  }

  /**
   * Makes the next call of stand-in `name` fail (exit 1) once: a command (`kubeadm`, `systemctl`) or
   * `postinst-<pkg>` for a package's install. With `whenArgsContain`, only a call whose arguments contain it fails.
   */
  failOnce(name: string, whenArgsContain = ""): void {
    this.write(`${FAIL_ONCE_DIR}/${name}`, whenArgsContain);
  }

  /**
   * Installs exact versions from the given source lines and holds them, the way a node that already runs these
   * pins looks; the lines are then removed again, so only what a script writes configures apt.
   */
  async seed(pins: Readonly<Record<string, string>>, sources: readonly string[]): Promise<void> {
    const list = "/etc/apt/sources.list.d/kubeherd-test-seed.list";
    const codename = codenameOf(this.release);
    this.write(list, sources.map((s) => s.replace("{codename}", codename)).join("\n") + "\n");
    const specs = Object.entries({ ...exactDependencies(pins), ...pins }).map(([p, v]) => `${p}=${v}`);
    try {
      await this.shOrThrow(
        `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades ${specs.join(" ")} >/dev/null && apt-mark hold ${Object.keys(pins).join(" ")} >/dev/null`,
      );
    } finally {
      this.remove(list);
      await this.shOrThrow("apt-get update -qq");
    }
  }

  /** Host paths of files in the root that contain `text` (a leaked secret, for instance). */
  async filesContaining(text: string): Promise<string[]> {
    const r = await run("grep", ["-rlF", "--exclude-dir=proc", "--", text, this.dir]);
    if (r.code > 1) throw new Error(`grep failed: ${r.stderr}`);
    return r.stdout.split("\n").filter(Boolean);
  }

  /**
   * Throws unless this is a live root this harness made: a directory `<tmpdir>/kubeherd-root-<pid>-…/root` of this
   * process, not the host's `/`, carrying the token that only this object knows, with the harness's stand-ins in
   * place of systemctl and reboot. Whatever runs a node script outside `sh` (an sshd serving the root) checks this
   * first, so a script can never land on the host.
   */
  verify(): void {
    const why = this.unverifiedBecause();
    if (why) throw new Error(`refusing to use ${this.dir} as a node root: ${why}`);
  }

  private unverifiedBecause(): string | undefined {
    if (this.destroyed) return "it was destroyed";
    let real: string;
    try {
      real = realpathSync(this.dir);
    } catch {
      return "it does not exist";
    }
    if (real === "/" || real !== join(realpathSync(tmpdir()), basename(this.home), "root")) return `it is not a test root under ${tmpdir()}`;
    if (!basename(this.home).startsWith(`${ROOT_PREFIX}${process.pid}-`)) return "another process made it";
    const mark = this.path(ROOT_MARK);
    if (!existsSync(mark) || readFileSync(mark, "utf8").trim() !== this.token) return "its harness token is missing or wrong";
    for (const standin of ["systemctl", "reboot", "shutdown"]) {
      const file = this.path(`${STANDIN_DIR}/${standin}`);
      if (!existsSync(file) || !readFileSync(file, "utf8").includes("kubeherd test stand-in")) return `${STANDIN_DIR}/${standin} is not the harness's stand-in`;
    }
    return undefined;
  }

  /** Unmounts whatever is left (the overlay last) and deletes the root and its layers. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await removeTree(this.home);
  }

  /** `destroy` for a process about to exit (no event loop left): the same checks, synchronously. */
  destroySync(): void {
    this.destroyed = true;
    removeTreeSync(this.home);
  }
}
