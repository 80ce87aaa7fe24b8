/**
 * One throwaway Pulumi stack on a local file backend, for a sequence of real `pulumi up`s (and previews), each in
 * its own Node process as a Pulumi program runs (up.ts). Used by the engine and the end-to-end tiers alike.
 *
 * The CLI finds the stand-in provider plugins first on its PATH (providers/plugins.ts; the aws one talks to the
 * fake cloud at `cloudUrl`), then the dynamic provider's plugin script that @pulumi/pulumi ships. Whatever the
 * engine tier's harness appends to the stack's log (`logPath`, `<node>:<event>` lines, see engine-world.ts and
 * engine-log.ts) is returned per `up` as `lines`.
 */
import { execFile, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { installStandInPlugins } from "../providers/plugins";
import { killTree } from "./kill";
import type { UpReport, UpRequest, WallClock } from "./up";

const ROOT = resolve(__dirname, "../../..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
/** Where @pulumi/pulumi ships `pulumi-resource-pulumi-nodejs`, the dynamic provider's plugin script. */
const SDK_DIR = join(ROOT, "node_modules", "@pulumi", "pulumi");

export interface LocalStackOptions {
  cliRoot: string;
  stack: string;
  /** The tier, in the stack directory's name (`/tmp/kubeherd-<tier>-<stack>-*`). */
  tier: "engine" | "e2e";
  /** Secret config values by full key (`kubeherd:kubeconfig`, `kubeherd:sshPrivateKey`), set as secrets. */
  secrets?: Record<string, string>;
  /** The fake cloud the aws stand-in calls (cattle pools). */
  cloudUrl?: string;
  /** More environment for the stand-in plugins (the engine tier's backend switches, providers/command.ts and kubernetes.ts). */
  pluginEnv?: Record<string, string>;
}

export interface UpOutcome extends UpReport {
  /** What this `up` appended to the stack's log, in order. */
  lines: string[];
}

export interface RunOptions {
  /** `pulumi up --parallel`; the CLI's default when undefined. */
  parallel?: number;
  /** The program's wall clock (see up.ts); the system's when undefined. */
  clock?: WallClock;
  /** A copy of the project to run the index.ts of (see up.ts). */
  programDir?: string;
}

/** What a killed `up` left to read: what the CLI had printed, and what it had appended to the stack's log. */
export interface KilledUp {
  output: string;
  lines: string[];
  /** The pids SIGKILL took (the program, the CLI, the plugins and their children). */
  killed: number[];
}

export class LocalStack {
  readonly dir: string;
  readonly logPath: string;
  private ups = 0;

  constructor(private readonly options: LocalStackOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `kubeherd-${options.tier}-${options.stack}-`));
    this.logPath = join(this.dir, "engine.log");
    const workDir = join(this.dir, "project");
    mkdirSync(workDir);
    mkdirSync(join(this.dir, "state"));
    copyFileSync(join(__dirname, "Pulumi.yaml"), join(workDir, "Pulumi.yaml"));
    // The dynamic provider's process resolves @pulumi/pulumi from the project directory.
    symlinkSync(join(ROOT, "node_modules"), join(workDir, "node_modules"), "dir");
    installStandInPlugins(join(this.dir, "plugins"), { ...(options.cloudUrl ? { KUBEHERD_E2E_CLOUD: options.cloudUrl } : {}), ...options.pluginEnv });
    writeFileSync(this.logPath, "");
  }

  /** A real `pulumi up` of the stack file's `config:` map; a failed update is returned, not thrown. */
  up(config: Record<string, unknown>, options: RunOptions = {}): Promise<UpOutcome> {
    return this.run("up", config, options);
  }

  preview(config: Record<string, unknown>): Promise<UpOutcome> {
    return this.run("preview", config, {});
  }

  /** What a user's shell has for the `pulumi` commands of this stack (backend, home, passphrase, the plugins on PATH). */
  get env(): Record<string, string> {
    return {
      PULUMI_HOME: join(this.dir, "home"),
      PULUMI_BACKEND_URL: `file://${join(this.dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "kubeherd-test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      // The CLI finds the plugins, and `node` for them, on PATH.
      PATH: [join(this.options.cliRoot, "bin"), join(this.dir, "plugins"), SDK_DIR, dirname(process.execPath), process.env.PATH ?? ""].join(":"),
    };
  }

  /** The project directory (Pulumi.yaml, and the Pulumi.<stack>.yaml the `up`s write). */
  get projectDir(): string {
    return join(this.dir, "project");
  }

  /**
   * A real `pulumi up` started in its own process group and killed outright (kill.ts) once `moment` resolves. If the
   * `up` ends before the moment comes, that is an error: the scenario never reached what it meant to interrupt.
   */
  async upKilled(config: Record<string, unknown>, moment: (signal: AbortSignal) => Promise<void>): Promise<KilledUp> {
    const n = ++this.ups;
    const requestFile = join(this.dir, `up-${n}.json`);
    writeFileSync(requestFile, JSON.stringify(this.request("up", config, {})), { mode: 0o600 });
    const before = this.lines().length;
    const child = spawn(TSX, [join(__dirname, "up.ts"), requestFile], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const closed = new Promise<number | null>((res) => child.on("close", (code) => res(code)));
    const stop = new AbortController();
    try {
      const first = await Promise.race([moment(stop.signal).then(() => "moment" as const), closed.then(() => "ended" as const)]);
      if (first === "ended") throw new Error(`pulumi up #${n} of stack ${this.options.stack} ended before the moment it was to be killed at:\n${output.slice(-5000)}`);
      const killed = await killTree(child.pid ?? -1);
      await closed;
      writeFileSync(join(this.dir, `up-${n}.log`), `${output}\n(killed: SIGKILL of ${killed.length} processes)\n`);
      return { output, lines: this.lines().slice(before), killed };
    } finally {
      stop.abort();
      if (child.exitCode === null && child.signalCode === null && child.pid) await killTree(child.pid);
      rmSync(requestFile, { force: true });
    }
  }

  private request(action: UpRequest["action"], config: Record<string, unknown>, options: RunOptions): UpRequest {
    return {
      cliRoot: this.options.cliRoot,
      workDir: join(this.dir, "project"),
      stack: this.options.stack,
      config,
      secrets: this.options.secrets ?? {},
      action,
      parallel: options.parallel,
      logPath: this.logPath,
      clock: options.clock,
      programDir: options.programDir,
      env: {
        PULUMI_HOME: join(this.dir, "home"),
        PULUMI_BACKEND_URL: `file://${join(this.dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "kubeherd-test",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        // The CLI finds the plugins, and `node` for them, on PATH.
        PATH: [join(this.dir, "plugins"), SDK_DIR, dirname(process.execPath), process.env.PATH ?? ""].join(":"),
      },
    };
  }

  private async run(action: UpRequest["action"], config: Record<string, unknown>, options: RunOptions): Promise<UpOutcome> {
    const n = ++this.ups;
    const request = this.request(action, config, options);
    const requestFile = join(this.dir, `${action}-${n}.json`);
    writeFileSync(requestFile, JSON.stringify(request), { mode: 0o600 });
    const before = this.lines().length;
    try {
      const { stdout } = await new Promise<{ stdout: string }>((res, rej) =>
        execFile(TSX, [join(__dirname, "up.ts"), requestFile], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
          err ? rej(Object.assign(err, { stdout, stderr })) : res({ stdout })));
      const report = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as UpReport;
      // Kept for the post-mortem of a failed scenario (KUBEHERD_E2E_KEEP=1 keeps the whole directory).
      writeFileSync(join(this.dir, `${action}-${n}.log`), `${report.output}\n${report.error ?? ""}\n`);
      return { ...report, lines: this.lines().slice(before) };
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`pulumi ${action} #${n} of stack ${this.options.stack} crashed:\n${(e.stderr ?? "").slice(-5000)}\n${e.stdout ?? e.message}\nlog so far:\n${this.lines().join("\n")}`, { cause: err });
    } finally {
      rmSync(requestFile, { force: true });
    }
  }

  private lines(): string[] {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "utf8").split("\n").filter((l) => l !== "") : [];
  }

  /**
   * The file backend's checkpoint file of this stack (under `state/.pulumi/stacks/`, in its project's folder), once
   * an `up` has written it.
   */
  checkpointFile(): string | undefined {
    const find = (dir: string): string | undefined => {
      if (!existsSync(dir)) return undefined;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) {
          const found = find(path);
          if (found) return found;
        } else if (e.name === `${this.options.stack}.json`) return path;
      }
      return undefined;
    };
    return find(join(this.dir, "state", ".pulumi", "stacks"));
  }

  /** The number of the last update run. */
  get count(): number {
    return this.ups;
  }

  remove(): void {
    if (process.env.KUBEHERD_E2E_KEEP) {
      process.stderr.write(`kept ${this.dir}\n`);
      return;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
