/**
 * What the real nodes take from Debian's packages on the host, installed on first use as the tiers install their
 * tools (one apt at a time across processes, under the cache's apt.lock): containerd 1.6.20 and runc 1.1.5 (copied
 * into each node root, which is the same Debian release), the CNI plugins (bridge, host-local, loopback), and gcc with
 * a static libc for the pause and workload programs.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { testCache } from "../../toolchain/go-build";

/** Each file the nodes need from the host, with the Debian package that brings it. */
export const HOST_FILES: readonly { readonly path: string; readonly pkg: string }[] = [
  { path: "/usr/bin/containerd", pkg: "containerd" },
  { path: "/usr/bin/containerd-shim-runc-v2", pkg: "containerd" },
  { path: "/usr/bin/ctr", pkg: "containerd" },
  { path: "/usr/sbin/runc", pkg: "runc" },
  { path: "/usr/lib/cni/bridge", pkg: "containernetworking-plugins" },
  { path: "/usr/lib/cni/host-local", pkg: "containernetworking-plugins" },
  { path: "/usr/lib/cni/loopback", pkg: "containernetworking-plugins" },
  { path: "/usr/bin/gcc", pkg: "gcc" },
  { path: "/usr/lib/x86_64-linux-gnu/libc.a", pkg: "libc6-dev" },
];

export function missingHostPackages(): string[] {
  return [...new Set(HOST_FILES.filter((f) => !existsSync(f.path)).map((f) => f.pkg))];
}

/** Installs the missing packages (as root), or throws saying what to install. Quick when all is there. */
export function ensureHostPackages(): void {
  const missing = missingHostPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`the real nodes need ${missing.join(", ")}; as root: apt-get update && apt-get install -y ${missing.join(" ")}`);
  mkdirSync(testCache(), { recursive: true });
  const log = join(testCache(), "apt-install.log");
  const fd = openSync(log, "a");
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const lock = join(testCache(), "apt.lock");
    for (const args of [["update"], ["install", "-y", ...missing]]) {
      const r = spawnSync("flock", ["-w", "900", lock, "apt-get", ...args], { stdio: ["ignore", fd, fd], env });
      if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (exit ${r.status ?? r.signal}); its output is in ${log}`);
    }
  } finally {
    closeSync(fd);
  }
  const still = missingHostPackages();
  if (still.length > 0) throw new Error(`installed ${missing.join(" ")} but still missing files of: ${still.join(", ")}; see ${log}`);
}
