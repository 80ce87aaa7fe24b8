/**
 * Runs a host command and collects its output. Asynchronous on purpose: a test may serve a fake metadata
 * endpoint from its own event loop while a script in the root calls it, which a synchronous spawn would block.
 */
import { spawn } from "node:child_process";

export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** The whole environment of the child (nothing is inherited when given). */
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly cwd?: string;
  /** Kill the command after this long. @default 300_000 */
  readonly timeoutMs?: number;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      // no input: stdin is /dev/null, as for a command run over SSH without a terminal
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (child.stdin) {
      // a child that exits before reading its input must not crash the test process with EPIPE
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** Like `run`, but a non-zero exit is an error that shows the command and what it printed. */
export async function runOrThrow(command: string, args: readonly string[], options: RunOptions = {}): Promise<Outcome> {
  const outcome = await run(command, args, options);
  if (outcome.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited ${outcome.code}\n--- stdout\n${tail(outcome.stdout)}\n--- stderr\n${tail(outcome.stderr)}`,
    );
  }
  return outcome;
}

function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}
