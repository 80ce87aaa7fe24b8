/**
 * What every tool this project builds from the Go module proxy shares: the cache directory, the Go toolchain, a
 * `go` run whose failure says what was being built, a lock so that two test runs never build the same tool at once,
 * and publishing a build whole (a reader never sees a half-written binary).
 */
import { execFile } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** `${KUBEHERD_TEST_CACHE:-/var/cache/kubeherd-test}`: where the test tiers keep what they build. */
export function testCache(): string {
  return process.env.KUBEHERD_TEST_CACHE ?? "/var/cache/kubeherd-test";
}

/** The Go toolchain: `$GO`, else the machine's /usr/local/go, else `go` on PATH. */
export function goBinary(): string {
  if (process.env.GO) return process.env.GO;
  return existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";
}

/** Runs `go ARGS` in `cwd`; a failure names what was being built and carries go's stderr. */
export async function runGo(what: string, cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(goBinary(), args, { cwd, env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    const stderr = (e.stderr ?? e.message).trim().split("\n").slice(-60).join("\n");
    throw new Error(`building ${what}: \`go ${args.join(" ")}\` failed in ${cwd}:\n${stderr}`, { cause: err });
  }
}

/** Runs a binary and returns its trimmed stdout, or undefined when it is missing or fails. */
export async function outputOf(binary: string, args: string[], env: Record<string, string> = {}): Promise<string | undefined> {
  if (!existsSync(binary)) return undefined;
  try {
    const { stdout } = await run(binary, args, { env: { ...process.env, ...env }, timeout: 30_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Creates the lock file holding our pid; false when it exists already. */
function takeLock(lock: string): boolean {
  try {
    const fd = openSync(lock, "wx");
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

function lockHolder(lock: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(lock, "utf8"), 10);
  } catch {
    return undefined;
  }
}

/**
 * Takes `lock` (a file holding our pid) without waiting: false while a live process holds it; a lock whose holder is
 * gone (killed) is taken over.
 */
export function tryLock(lock: string): boolean {
  while (!takeLock(lock)) {
    const holder = lockHolder(lock);
    if (holder === undefined) continue; // released between our attempt and the read
    if (Number.isFinite(holder) && alive(holder)) return false;
    rmSync(lock, { force: true });
  }
  return true;
}

/**
 * Runs `build` holding `<root>/build.lock` (a file holding the builder's pid). A second run waits for the first and
 * then, usually, finds the tool built; a lock left by a killed build (its pid gone) is taken over.
 */
export async function withBuildLock<T>(root: string, build: () => Promise<T>, waitMs = 60 * 60_000): Promise<T> {
  mkdirSync(root, { recursive: true });
  const lock = join(root, "build.lock");
  const deadline = Date.now() + waitMs;
  while (!tryLock(lock)) {
    if (Date.now() > deadline) throw new Error(`${lock}: process ${lockHolder(lock) ?? "?"} has been building for over ${waitMs / 60_000} min; giving up`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
  try {
    return await build();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Moves each built file from `staging` into `<root>/bin` (one rename each: atomic), then removes `staging`. */
export function publish(staging: string, root: string, files: readonly string[]): void {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  for (const f of files) {
    if (!existsSync(join(staging, f))) throw new Error(`the build left no ${f} in ${staging}`);
    renameSync(join(staging, f), join(bin, f));
  }
  rmSync(staging, { recursive: true, force: true });
}

/** Records how long a build took, beside its binaries. */
export function recordBuild(root: string, version: string, buildSeconds: number): void {
  writeFileSync(join(root, "build.json"), `${JSON.stringify({ version, buildSeconds, builtAt: new Date().toISOString() })}\n`);
}

/** The seconds the last build of the tool in `root` took (build.json), when known. */
export function recordedBuildSeconds(root: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(root, "build.json"), "utf8")) as { buildSeconds?: number }).buildSeconds;
  } catch {
    return undefined;
  }
}
