/**
 * Host paths of paths inside a root, resolving symlinks the way the chroot would. Debian's /var/run is a symlink
 * to the absolute /run: joined naively onto the root's directory it would lead to the host's /run, and a test
 * writing /var/run/reboot-required would write it on the host.
 */
import { lstatSync, readlinkSync } from "node:fs";
import { join, posix } from "node:path";

/**
 * The host path of `inRoot` inside `rootDir`; never outside `rootDir`, whatever the symlinks say. With
 * `followLast: false` a symlink in the last component is the answer itself (to remove or replace the link).
 */
export function resolveInRoot(rootDir: string, inRoot: string, followLast = true): string {
  const pending = posix.normalize(`/${inRoot}`).split("/").filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === ".") continue;
    if (part === "..") {
      resolved.pop(); // `..` at the root stays at the root, as in a chroot
      continue;
    }
    const host = join(rootDir, ...resolved, part);
    if (!followLast && pending.length === 0) {
      resolved.push(part);
      continue;
    }
    let target: string | undefined;
    try {
      target = lstatSync(host).isSymbolicLink() ? readlinkSync(host) : undefined;
    } catch {
      target = undefined; // a missing component: the rest is taken literally (a file about to be written)
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++hops > 40) throw new Error(`too many symlinks resolving ${inRoot} in ${rootDir}`);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...target.split("/").filter(Boolean));
  }
  return join(rootDir, ...resolved);
}
