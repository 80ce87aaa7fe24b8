/**
 * Which TCP addresses a process listens on, read from /proc (the sockets among its open files, looked up in the
 * kernel's TCP tables): to prove that a node's sshd serves its own loopback address and nothing else.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** `"127.0.0.5:22"` for every listening TCP socket the process holds (IPv6 as `[addr]:port`). */
export function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[([0-9]+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // a descriptor closed while we looked
    }
  }
  const out: string[] = [];
  for (const [table, v6] of [["/proc/net/tcp", false], ["/proc/net/tcp6", true]] as const) {
    for (const line of safeRead(table).split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (!local || state !== "0A" || !inode || !inodes.has(inode)) continue; // 0A: LISTEN
      out.push(formatAddress(local, v6));
    }
  }
  return out.sort();
}

/** The kernel's `0500007F:0016` (little-endian words) as `127.0.0.5:22`. */
export function formatAddress(hex: string, v6: boolean): string {
  const [addr = "", port = ""] = hex.split(":");
  const p = parseInt(port, 16);
  if (!v6) {
    const bytes = (addr.match(/../g) ?? []).map((b) => parseInt(b, 16)).reverse();
    return `${bytes.join(".")}:${p}`;
  }
  const words = (addr.match(/.{8}/g) ?? []).map((w) => (w.match(/../g) ?? []).reverse().join(""));
  const groups = words.join("").match(/.{4}/g) ?? [];
  return `[${groups.map((g) => g.replace(/^0+(?=.)/, "")).join(":")}]:${p}`;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
