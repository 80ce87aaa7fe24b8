/**
 * `apt-get update && apt-get install -y PACKAGES` as root, one apt at a time across test processes (util-linux's
 * flock on a lock in the test cache: CI builds toolchains beside the tests), output appended to a log in the cache.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { testCacheDir } from "../node-root/base-root";

/** Installs `packages` or throws naming the failed apt-get and its log; returns the log's path. */
export function aptInstall(packages: readonly string[]): string {
  mkdirSync(testCacheDir(), { recursive: true });
  const log = join(testCacheDir(), "apt-install.log");
  const fd = openSync(log, "a");
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const lock = join(testCacheDir(), "apt.lock");
    for (const args of [["update"], ["install", "-y", ...packages]]) {
      const r = spawnSync("flock", ["-w", "900", lock, "apt-get", ...args], { stdio: ["ignore", fd, fd], env });
      if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (exit ${r.status ?? r.signal}); its output is in ${log}`);
    }
  } finally {
    closeSync(fd);
  }
  return log;
}
