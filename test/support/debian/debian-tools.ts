/**
 * vitest globalSetup for the script tests in a Debian root (test/debian): makes sure this machine has the tools
 * they need, installing them from Debian's packages when we are root, and builds (or finds cached) the Debian
 * root they start from, once, before any test file runs.
 *
 * Add to vitest.config.ts: `globalSetup: ["test/support/debian/debian-tools.ts"]`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureExtractedBaseRoot } from "../node-root/base-root";
import { sweepAbandonedRoots } from "../node-root/root-sweep";
import { aptInstall } from "./apt-install";

/** Each command the tests run on the host, with the Debian package that brings it. */
export const REQUIRED_TOOLS: readonly { readonly command: string; readonly pkg: string }[] = [
  { command: "debootstrap", pkg: "debootstrap" },
  { command: "dpkg-deb", pkg: "dpkg" },
  { command: "dpkg-scanpackages", pkg: "dpkg-dev" },
  { command: "shellcheck", pkg: "shellcheck" },
  { command: "cloud-init", pkg: "cloud-init" },
  { command: "chroot", pkg: "coreutils" },
  { command: "mount", pkg: "mount" },
  // the end-to-end tier's SSH nodes (test/support/ssh-nodes): keys, the client, sshd's namespaces
  { command: "ssh", pkg: "openssh-client" },
  { command: "ssh-keygen", pkg: "openssh-client" },
  { command: "unshare", pkg: "util-linux" },
  { command: "setpriv", pkg: "util-linux" },
];

/** The packages installed together when any tool is missing (one apt transaction: faster than one each). */
const INSTALL_SET = ["debootstrap", "dpkg-dev", "shellcheck", "cloud-init", "openssh-client"];

// sbin directories are not on a non-root PATH, but that is where debootstrap and chroot live.
const SEARCH_PATH = [...(process.env.PATH ?? "").split(":"), "/usr/local/sbin", "/usr/sbin", "/sbin"].filter(Boolean);

export function toolPath(command: string): string | undefined {
  return SEARCH_PATH.map((dir) => join(dir, command)).find((p) => existsSync(p));
}

export function missingTools(tools: readonly { readonly command: string; readonly pkg: string }[] = REQUIRED_TOOLS): string[] {
  return tools.filter((t) => toolPath(t.command) === undefined).map((t) => t.pkg);
}

/**
 * Installs what is missing of `tools` (as root), with `installSet` in the same apt transaction, or throws saying
 * exactly what to install. Idempotent and quick when all is there. `purpose` names who needs them.
 */
export function ensureDebianTools(
  tools: readonly { readonly command: string; readonly pkg: string }[] = REQUIRED_TOOLS,
  installSet: readonly string[] = INSTALL_SET,
  purpose = "The Debian-root script tests",
): void {
  const missing = missingTools(tools);
  if (missing.length === 0) return;
  const packages = [...new Set([...missing, ...installSet])];
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${purpose} need ${missing.join(", ")}, and only root can install them (the tests run as root anyway). ` +
        `As root: apt-get update && apt-get install -y ${packages.join(" ")}`,
    );
  }
  const log = aptInstall(packages);
  const still = missingTools(tools);
  if (still.length > 0) throw new Error(`installed ${packages.join(" ")} but still missing: ${still.join(", ")}; see ${log}`);
}

/** The script tests' tools. */
export function ensureTools(): void {
  ensureDebianTools();
}

export default async function setup(): Promise<() => Promise<void>> {
  ensureTools();
  await sweepAbandonedRoots();
  await ensureExtractedBaseRoot();
  // after the run: whatever a test left behind (its workers are gone by now)
  return async () => {
    const left = await sweepAbandonedRoots(true);
    if (left.length > 0) console.warn(`removed ${left.length} test root(s) a test did not clean up: ${left.join(", ")}`);
  };
}
