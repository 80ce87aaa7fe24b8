/**
 * Stand-in for @pulumi/command's provider (its Go module is refused by the module proxy, FACTS.md §8), for the one
 * resource kubeherd declares: `command:remote:Command`. It keeps the real provider's interface: the same inputs
 * (`connection`, `create`, `update`, `delete`, `triggers`), `triggers` forcing a replacement, `stdout`/`stderr`
 * outputs, and a failed command failing the step with its exit status. The command runs over REAL SSH with the
 * OpenSSH client, against the pinned host key when one is given (as the real provider checks `hostKey`), with the
 * dial bounded by `perDialTimeout` × `dialErrorLimit`.
 *
 * Its one backend switch, for the engine tier: with `$KUBEHERD_STANDIN_HOSTS` set (a loopback URL the engine
 * harness serves, test/support/local-stack/engine-world.ts), nothing is run on any machine: each create, update and
 * delete the engine asks for is posted there instead (`{ host, op, command }`), where the harness logs it and plays
 * the host's kubelet. Everything else (inputs, replacement, outputs, a failure failing the step) stays as above.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResourceType, StandInProvider } from "./server";
import { reveal, stringProp, type PropertyMap } from "./values";

interface Connection {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKey?: string;
  perDialTimeout: number;
  dialErrorLimit: number;
}

function connectionOf(props: PropertyMap): Connection {
  const c = reveal(props.connection) as Record<string, unknown> | undefined;
  if (!c) throw new Error('command:remote:Command: "connection" is required');
  const where = "command:remote:Command connection";
  return {
    host: stringProp(c, "host", where),
    port: Number(c.port ?? 22),
    user: String(c.user ?? "root"),
    privateKey: stringProp(c, "privateKey", where),
    hostKey: typeof c.hostKey === "string" ? c.hostKey : undefined,
    perDialTimeout: Number(c.perDialTimeout ?? 15),
    dialErrorLimit: Number(c.dialErrorLimit ?? 10),
  };
}

/** The OpenSSH arguments for one command: no user or system config, the pinned key only, bounded dialing. */
export function sshArgs(c: Connection, files: { identity: string; knownHosts: string }, command: string): string[] {
  const hostCheck = c.hostKey
    ? ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${files.knownHosts}`]
    : ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
  return [
    "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", files.identity,
    ...hostCheck, "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", `ConnectTimeout=${c.perDialTimeout}`, "-o", `ConnectionAttempts=${c.dialErrorLimit}`,
    "-o", "ServerAliveInterval=15", "-o", "LogLevel=ERROR",
    "-p", String(c.port), `${c.user}@${c.host}`, "--", command,
  ];
}

/** known_hosts names a host on a port other than 22 as `[host]:port`. */
export function knownHostsLine(host: string, port: number, hostKey: string): string {
  return `${port === 22 ? host : `[${host}]:${port}`} ${hostKey.trim()}\n`;
}

/** Runs `command` over SSH; `stdin` (the provider's `stdin` input) is written to the session's stdin, as the real provider does. */
async function runRemote(c: Connection, command: string, stdin?: string): Promise<{ stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "kubeherd-ssh-"));
  try {
    const identity = join(dir, "id");
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(identity, c.privateKey.endsWith("\n") ? c.privateKey : `${c.privateKey}\n`, { mode: 0o600 });
    writeFileSync(knownHosts, c.hostKey ? knownHostsLine(c.host, c.port, c.hostKey) : "");
    return await new Promise((resolve, reject) => {
      const child = execFile("ssh", sshArgs(c, { identity, knownHosts }, command), { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const code = (err as { code?: number }).code;
        const tail = stderr.trim().split("\n").slice(-15).join("\n");
        // 255: OpenSSH could not connect or authenticate (the real provider's "dial" errors).
        reject(new Error(code === 255
          ? `ssh ${c.user}@${c.host}:${c.port}: could not connect within ${c.dialErrorLimit} attempt(s) of ${c.perDialTimeout}s: ${tail}`
          : `ssh ${c.user}@${c.host}:${c.port}: Process exited with status ${code ?? "?"}:\n${tail}`));
      });
      child.stdin?.end(stdin ?? "");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the engine tier's harness is told of one command (see the header); it answers `{ stdout, stderr }` or `{ error }`. */
export interface HostCall {
  host: string;
  op: "create" | "update" | "delete";
  /** The command the real provider would run; undefined where it would run nothing (no `delete` script). */
  command?: string;
}

async function postToHosts(url: string, c: Connection, op: HostCall["op"], command: string | undefined): Promise<{ stdout: string; stderr: string }> {
  const call: HostCall = { host: c.host, op, command };
  const res = await fetch(`${url}/command`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(call) });
  const answer = (await res.json()) as { stdout?: string; stderr?: string; error?: string };
  if (!res.ok || answer.error) throw new Error(`ssh ${c.user}@${c.host}:${c.port}: ${answer.error ?? `HTTP ${res.status}`}`);
  return { stdout: answer.stdout ?? "", stderr: answer.stderr ?? "" };
}

/** Runs the step's command (undefined: none) over SSH, or hands it to the engine harness's hosts. */
async function perform(props: PropertyMap, op: HostCall["op"], command: unknown, stdin?: string): Promise<{ stdout: string; stderr: string } | undefined> {
  const hosts = process.env.KUBEHERD_STANDIN_HOSTS;
  const script = typeof command === "string" ? command : undefined;
  if (hosts) return postToHosts(hosts, connectionOf(props), op, script);
  return script === undefined ? undefined : runRemote(connectionOf(props), script, stdin);
}

const remoteCommand: ResourceType = {
  replaceOn: ["triggers"],
  async create(inputs) {
    const stdin = reveal(inputs.stdin);
    const out = (await perform(inputs, "create", reveal(inputs.create), typeof stdin === "string" ? stdin : undefined)) ?? { stdout: "", stderr: "" };
    return { id: `cmd-${process.hrtime.bigint()}`, outs: { ...inputs, ...out } };
  },
  async update(_id, olds, news) {
    const out = (await perform(news, "update", reveal(news.update))) ?? { stdout: olds.stdout, stderr: olds.stderr };
    return { ...news, ...out };
  },
  async delete(_id, props) {
    await perform(props, "delete", reveal(props.delete));
  },
};

export function commandProvider(version: string): StandInProvider {
  return { name: "command", version, types: { "command:remote:Command": remoteCommand } };
}
