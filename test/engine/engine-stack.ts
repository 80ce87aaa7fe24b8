/**
 * One throwaway Pulumi stack on a local file backend, for a sequence of real `pulumi up`s of the engine test's
 * program (program/up.ts, run in its own Node process). Each `up` returns the `<node>:<event>` lines it logged.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import type { KubeherdConfig } from "../../components/config/schema";
import type { HookFaults, WallClock } from "./program/hooks";
import type { UpReport, UpRequest } from "./program/up";

const run = promisify(execFile);
const ROOT = resolve(__dirname, "../..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
/** Where @pulumi/pulumi ships `pulumi-resource-pulumi-nodejs`, the dynamic provider's plugin script. */
const SDK_DIR = join(ROOT, "node_modules", "@pulumi", "pulumi");

export interface UpOutcome extends UpReport {
  /** What this `up` logged, in order. */
  lines: string[];
}

export class EngineStack {
  readonly dir: string;
  private readonly logPath: string;
  private ups = 0;

  constructor(private readonly cliRoot: string, private readonly stack: string, private readonly region: string) {
    this.dir = mkdtempSync(join(tmpdir(), `kubeherd-engine-${stack}-`));
    this.logPath = join(this.dir, "engine.log");
    const workDir = join(this.dir, "project");
    mkdirSync(workDir);
    mkdirSync(join(this.dir, "state"));
    copyFileSync(join(__dirname, "program", "Pulumi.yaml"), join(workDir, "Pulumi.yaml"));
    // The dynamic provider's process resolves @pulumi/pulumi from the project directory.
    symlinkSync(join(ROOT, "node_modules"), join(workDir, "node_modules"), "dir");
    writeFileSync(this.logPath, "");
  }

  /** A failed update (`result: "failed"`, with its error) is returned; only a crash of the program process throws. */
  async up(config: KubeherdConfig, options: { faults?: HookFaults; clock?: WallClock; parallel?: number } = {}): Promise<UpOutcome> {
    const n = ++this.ups;
    const configFile = join(this.dir, `config-${n}.json`);
    writeFileSync(configFile, JSON.stringify(config));
    const request: UpRequest = {
      cliRoot: this.cliRoot,
      workDir: join(this.dir, "project"),
      stack: this.stack,
      configFile,
      region: this.region,
      logPath: this.logPath,
      faults: options.faults,
      clock: options.clock,
      parallel: options.parallel,
      env: {
        PULUMI_HOME: join(this.dir, "home"),
        PULUMI_BACKEND_URL: `file://${join(this.dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "test",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        // The CLI finds the dynamic provider's plugin script, and `node` for it, on PATH.
        PATH: [SDK_DIR, dirname(process.execPath), process.env.PATH ?? ""].join(":"),
      },
    };
    const requestFile = join(this.dir, `up-${n}.json`);
    writeFileSync(requestFile, JSON.stringify(request));
    const before = this.lines().length;
    let stdout: string;
    try {
      ({ stdout } = await run(TSX, [join(__dirname, "program", "up.ts"), requestFile], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }));
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`pulumi up #${n} of stack ${this.stack} failed:\n${e.stderr ?? ""}\n${e.stdout ?? e.message}\nlog so far:\n${this.lines().join("\n")}`, { cause: err });
    }
    const report = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as UpReport;
    return { ...report, lines: this.lines().slice(before) };
  }

  private lines(): string[] {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "utf8").split("\n").filter((l) => l !== "") : [];
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
