/**
 * The control plane's processes: each started in its own process group (so a stop reaches whatever it forked), with
 * its output in `<dir>/logs/<name>.log`, its pid in `<dir>/pids/<name>.pid`, and the kernel told to kill it when
 * the test process dies (`setpriv --pdeathsig KILL`, util-linux): a test worker killed with SIGKILL takes its
 * apiserver with it. The pid files let the next run's global setup sweep whatever still escaped (see sweep.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Component {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Set once the process has exited: its exit code, or the signal that ended it. */
  exit?: string;
}

const STOP_GRACE_MS = 5_000;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** The last `lines` lines of a component's log, for an error message. */
export function logTail(path: string, lines = 40): string {
  if (!existsSync(path)) return "(no log)";
  const text = readFileSync(path, "utf8").trimEnd().split("\n");
  return text.slice(-lines).join("\n");
}

/** A set of processes that live and die together; `dir` holds their logs and pid files. */
export class Processes {
  private readonly children: { component: Component; closed: Promise<void> }[] = [];

  constructor(readonly dir: string) {
    mkdirSync(join(dir, "logs"), { recursive: true });
    mkdirSync(join(dir, "pids"), { recursive: true });
    // Whoever finds this directory with its owner dead may kill what the pid files name and remove it.
    writeFileSync(join(dir, "owner.pid"), `${process.pid}\n`);
  }

  start(name: string, binary: string, args: string[], env: NodeJS.ProcessEnv = process.env): Component {
    const logPath = join(this.dir, "logs", `${name}.log`);
    const fd = openSync(logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn("setpriv", ["--pdeathsig", "KILL", "--", binary, ...args], { detached: true, stdio: ["ignore", fd, fd], env });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${name} (${binary})`);
    const component: Component = { name, pid: child.pid, logPath };
    writeFileSync(join(this.dir, "pids", `${name}.pid`), `${child.pid}\n`);
    const closed = new Promise<void>((resolve) => {
      child.on("exit", (code, signal) => {
        component.exit = signal ? `killed by ${signal}` : `exit code ${code}`;
        resolve();
      });
      child.on("error", (err) => {
        component.exit = `failed to start: ${err.message}`;
        resolve();
      });
    });
    this.children.push({ component, closed });
    return component;
  }

  /** Throws, with the log tail, when `c` has exited. */
  assertRunning(c: Component): void {
    if (c.exit !== undefined) throw new Error(`${c.name} stopped (${c.exit}); the end of ${c.logPath}:\n${logTail(c.logPath)}`);
  }

  /** SIGTERM to every group at once (nothing here needs an orderly shutdown), SIGKILL to any still up after a grace. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async ({ component, closed }) => {
        if (component.exit !== undefined) return;
        signalGroup(component.pid, "SIGTERM");
        const timer = new Promise<"late">((r) => setTimeout(() => r("late"), STOP_GRACE_MS).unref());
        if ((await Promise.race([closed, timer])) === "late") {
          signalGroup(component.pid, "SIGKILL");
          await closed;
        }
      }),
    );
  }

  /** For process exit, where nothing asynchronous runs: SIGKILL to every group still alive. */
  killSync(): void {
    for (const { component } of this.children) if (component.exit === undefined) signalGroup(component.pid, "SIGKILL");
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Control planes of this process still running: stopped on exit and on the signals that end a test run. */
const live = new Set<Processes>();
let hooked = false;

function killAllSync(): void {
  for (const p of live) {
    p.killSync();
    p.remove();
  }
  live.clear();
}

export function track(p: Processes): void {
  live.add(p);
  if (hooked) return;
  hooked = true;
  process.on("exit", killAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      killAllSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal); // as if we had not been listening
    };
    process.on(signal, onSignal);
  }
}

export function untrack(p: Processes): void {
  live.delete(p);
}
