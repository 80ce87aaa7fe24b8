/**
 * Test roots that outlive their test: a run killed half way, or a test that failed before its cleanup, leaves a
 * mounted overlay in the temp directory. The global setup sweeps them before and after a run.
 */
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeTree } from "./mounts";

/** Test roots live in `<tmpdir>/kubeherd-root-<pid>-XXXXXX`: the pid tells a sweep whose run left them. */
export const ROOT_PREFIX = "kubeherd-root-";

/**
 * Removes the roots that a test process which is gone left behind (killed, or a crash before its cleanup), and
 * with `includeOwn` those of this process too (for the end of a run). Returns the directories removed.
 */
export async function sweepAbandonedRoots(includeOwn = false): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of readdirSync(tmpdir())) {
    const m = new RegExp(`^${ROOT_PREFIX}([0-9]+)-`).exec(entry);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid ? !includeOwn : isAlive(pid)) continue;
    await removeTree(join(tmpdir(), entry));
    removed.push(entry);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
