/**
 * Killing a `pulumi up` outright, as a cancelled CI runner or a lost machine does: every process of it (the program's
 * Node process, the CLI, and the provider plugins, which the CLI starts in process groups of their own, with their
 * children such as `ssh`) gets SIGKILL, and none of them may clean up. To be sure of that, every process of the tree
 * is stopped (SIGSTOP) first, so that none forks, notices its parent's death or answers a call in between; then each
 * process group and each process is killed.
 */
import { readdirSync, readFileSync } from "node:fs";

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
}

function procs(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (2nd field) may hold spaces and parentheses: read the fields after its last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.push({ pid: Number(entry), ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** `root` and every process descended from it, now. */
export function processTree(root: number): Proc[] {
  const all = procs();
  const tree = all.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((p) => p.ppid === tree[i].pid));
  return tree;
}

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
};

/** SIGKILL of the whole tree under `root` (see above); returns the pids it killed once all are gone (bounded). */
export async function killTree(root: number): Promise<number[]> {
  const stopped = new Map<number, Proc>();
  // Stop until a pass finds no process it had not stopped: a process forked just before its parent stopped is caught by the next pass.
  for (let pass = 0; pass < 20; pass++) {
    const fresh = processTree(root).filter((p) => !stopped.has(p.pid));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      signal(p.pid, "SIGSTOP");
      stopped.set(p.pid, p);
    }
  }
  for (const pgid of new Set([...stopped.values()].map((p) => p.pgid))) signal(-pgid, "SIGKILL");
  for (const pid of stopped.keys()) signal(pid, "SIGKILL");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const alive = [...stopped.keys()].filter((pid) => {
      try {
        const state = readFileSync(`/proc/${pid}/stat`, "utf8");
        return !/\) Z /.test(state);
      } catch {
        return false;
      }
    });
    if (alive.length === 0) return [...stopped.keys()];
    if (Date.now() > deadline) throw new Error(`killTree(${root}): still alive after SIGKILL: ${alive.join(", ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
