/**
 * One throwaway stack of kubeherd's own program on a local file backend, for a sequence of real `pulumi up`s
 * (program/up.ts, each in its own Node process as a Pulumi program runs). The CLI finds the stand-in provider
 * plugins first on its PATH (providers/plugins.ts); the aws one talks to the fake cloud at `cloudUrl`.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { installStandInPlugins } from "../providers/plugins";
import type { UpReport, UpRequest } from "./up";

const ROOT = resolve(__dirname, "../../..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

export interface E2eStackOptions {
  cliRoot: string;
  stack: string;
  /** The admin kubeconfig: `kubeherd:kubeconfig`, a secret. */
  kubeconfig: string;
  /** The pets nodes' SSH key: `kubeherd:sshPrivateKey`, a secret. */
  sshPrivateKey: string;
  /** The fake cloud the aws stand-in calls (cattle pools). */
  cloudUrl?: string;
}

export class E2eStack {
  readonly dir: string;
  private ups = 0;

  constructor(private readonly options: E2eStackOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `kubeherd-e2e-${options.stack}-`));
    const workDir = join(this.dir, "project");
    mkdirSync(workDir);
    mkdirSync(join(this.dir, "state"));
    copyFileSync(join(__dirname, "Pulumi.yaml"), join(workDir, "Pulumi.yaml"));
    symlinkSync(join(ROOT, "node_modules"), join(workDir, "node_modules"), "dir");
    installStandInPlugins(join(this.dir, "plugins"), options.cloudUrl ? { KUBEHERD_E2E_CLOUD: options.cloudUrl } : {});
  }

  /** A real `pulumi up` of the stack file's `config:` map; a failed update is returned, not thrown. */
  up(config: Record<string, unknown>, options: { parallel?: number } = {}): Promise<UpReport> {
    return this.run("up", config, options);
  }

  preview(config: Record<string, unknown>): Promise<UpReport> {
    return this.run("preview", config, {});
  }

  private async run(action: UpRequest["action"], config: Record<string, unknown>, options: { parallel?: number }): Promise<UpReport> {
    const n = ++this.ups;
    const request: UpRequest = {
      cliRoot: this.options.cliRoot,
      workDir: join(this.dir, "project"),
      stack: this.options.stack,
      config,
      secrets: { "kubeherd:kubeconfig": this.options.kubeconfig, "kubeherd:sshPrivateKey": this.options.sshPrivateKey },
      action,
      parallel: options.parallel,
      env: {
        PULUMI_HOME: join(this.dir, "home"),
        PULUMI_BACKEND_URL: `file://${join(this.dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "kubeherd-e2e",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PATH: [join(this.dir, "plugins"), dirname(process.execPath), process.env.PATH ?? ""].join(":"),
      },
    };
    const requestFile = join(this.dir, `${action}-${n}.json`);
    writeFileSync(requestFile, JSON.stringify(request), { mode: 0o600 });
    try {
      const { stdout } = await new Promise<{ stdout: string }>((res, rej) =>
        execFile(TSX, [join(__dirname, "up.ts"), requestFile], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
          err ? rej(Object.assign(err, { stdout, stderr })) : res({ stdout })));
      const report = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as UpReport;
      // Kept for the post-mortem of a failed scenario (KUBEHERD_E2E_KEEP=1 keeps the whole directory).
      writeFileSync(join(this.dir, `${action}-${n}.log`), `${report.output}\n${report.error ?? ""}\n`);
      return report;
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`pulumi ${action} #${n} of stack ${this.options.stack} crashed:\n${(e.stderr ?? "").slice(-5000)}\n${e.stdout ?? e.message}`, { cause: err });
    } finally {
      rmSync(requestFile, { force: true });
    }
  }

  /** The number of the last update run. */
  get count(): number {
    return this.ups;
  }

  remove(): void {
    if (process.env.KUBEHERD_E2E_KEEP) {
      process.stderr.write(`e2e: kept ${this.dir}\n`);
      return;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
