/**
 * What the real nodes take from Debian's packages on the host, installed on first use as the tiers install their
 * tools (one apt at a time across processes, under the cache's apt.lock): containerd 1.6.20 and runc 1.1.5 (copied
 * into each node root, which is the same Debian release), the CNI plugins (bridge, host-local, loopback), and gcc with
 * a static libc for the pause and workload programs.
 */
import { existsSync } from "node:fs";
import { aptInstall } from "../debian/apt-install";

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
  const log = aptInstall(missing);
  const still = missingHostPackages();
  if (still.length > 0) throw new Error(`installed ${missing.join(" ")} but still missing files of: ${still.join(", ")}; see ${log}`);
}
