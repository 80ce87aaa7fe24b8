/**
 * Stand-in for @pulumi/command's provider (its Go module is refused by the module proxy, FACTS.md §8), for the one
 * resource kubeherd declares: `command:remote:Command`. It keeps the real provider's interface: the same inputs
 * (`connection`, `create`, `update`, `delete`, `triggers`), `triggers` forcing a replacement, `stdout`/`stderr`
 * outputs, and a failed command failing the step with its exit status. The command runs over REAL SSH with the
 * OpenSSH client, against the pinned host key when one is given (as the real provider checks `hostKey`), with the
 * dial bounded by `perDialTimeout` × `dialErrorLimit`.
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

const remoteCommand: ResourceType = {
  replaceOn: ["triggers"],
  async create(inputs) {
    const create = reveal(inputs.create);
    const stdin = reveal(inputs.stdin);
    const out = typeof create === "string" ? await runRemote(connectionOf(inputs), create, typeof stdin === "string" ? stdin : undefined) : { stdout: "", stderr: "" };
    return { id: `cmd-${process.hrtime.bigint()}`, outs: { ...inputs, ...out } };
  },
  async update(_id, olds, news) {
    const update = reveal(news.update);
    const out = typeof update === "string" ? await runRemote(connectionOf(news), update) : { stdout: olds.stdout, stderr: olds.stderr };
    return { ...news, ...out };
  },
  async delete(_id, props) {
    const del = reveal(props.delete);
    if (typeof del === "string") await runRemote(connectionOf(props), del);
  },
};

export function commandProvider(version: string): StandInProvider {
  return { name: "command", version, types: { "command:remote:Command": remoteCommand } };
}
