/**
 * The OpenSSH client, pointed at an SshNode the way the pets component connects (its user, its key, the pinned
 * host key and nothing else): for tests that check a node over real SSH.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, type Outcome } from "../node-root/process";

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
  /** The host key the client pins (`ssh-ed25519 AAAA…`). */
  readonly hostKey: string;
}

/** A known_hosts line for the target: `host` on port 22, `[host]:port` elsewhere. */
export function knownHostsLine(host: string, port: number, hostKey: string): string {
  return `${port === 22 ? host : `[${host}]:${port}`} ${hostKey}`;
}

/** Runs `command` on the target with strict host key checking against its pinned key only; `input` goes to its stdin. */
export async function sshRun(target: SshTarget, command: string, timeoutMs = 60_000, input?: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), "kubeherd-ssh-"));
  try {
    writeFileSync(join(dir, "id"), target.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, "known_hosts"), `${knownHostsLine(target.host, target.port, target.hostKey)}\n`);
    return await run(
      "ssh",
      [
        "-F", "/dev/null",
        "-i", join(dir, "id"),
        "-o", "IdentitiesOnly=yes",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "ConnectTimeout=5",
        "-p", String(target.port),
        "--", `${target.user}@${target.host}`, command,
      ],
      { timeoutMs, ...(input !== undefined ? { input } : {}) },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
