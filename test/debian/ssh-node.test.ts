/**
 * The end-to-end tier's SSH nodes (test/support/ssh-nodes/ssh-node.ts), checked offline: a real sshd serving a node root
 * on one loopback address, reached with the real OpenSSH client the way the pets component connects.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootCommand } from "../../components/rollout/nodes";
import { listeningAddresses } from "../support/ssh-nodes/listening";
import { sshRun } from "../support/ssh-nodes/ssh-client";
import { makeClientKey, startSshNode, type SshNode } from "../support/ssh-nodes/ssh-node";
import { NodeRoot } from "../support/node-root/node-root";
import { currentStack, pinsOf, plan, runScript } from "../support/node-root/scenario";

/** A loopback address of its own, so parallel runs on one machine do not meet. */
const loopback = () => `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;

/** Host pids whose command line is exactly `words`. */
function pidsRunning(words: string[]): number[] {
  return readdirSync("/proc")
    .filter((d) => /^[0-9]+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ") === words.join(" ");
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Polls `done` every 50 ms until it holds or `ms` pass. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe("an SSH node (ubuntu with sudo -n, as in production)", () => {
  let node: SshNode;
  beforeAll(async () => {
    node = await startSshNode({ name: "ssh-1", address: loopback() });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it("runs a command inside the node root, as root through sudo -n, for a client pinning its host key", async () => {
    const r = await sshRun(node, rootCommand('id -u; . /etc/os-release; echo "$VERSION_ID"; touch /root/kubeherd-ssh-proof', node.user));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n").slice(0, 2)).toEqual(["0", "22.04"]);
    expect(node.root.exists("/root/kubeherd-ssh-proof")).toBe(true);
    expect(existsSync("/root/kubeherd-ssh-proof")).toBe(false);
  });

  it("gives the login user no root without sudo, and sudo asks no password", async () => {
    const r = await sshRun(node, "id -un; id -u; sudo -n true && echo sudo-ok");
    expect(r.stdout.trim().split("\n")).toEqual(["ubuntu", "1000", "sudo-ok"]);
  });

  it("pins a host key in the form the stack's nodes[].hostKey takes, and a client pinning another key is refused", async () => {
    expect(node.hostKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+={0,3}$/);
    const other = await startSshNode({ name: "ssh-other", address: loopback() });
    try {
      expect(other.hostKey).not.toBe(node.hostKey);
      const r = await sshRun({ ...node, hostKey: other.hostKey }, "true");
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    } finally {
      await other.stop();
    }
  });

  it("refuses a key it was not given", async () => {
    const stranger = await makeClientKey("stranger");
    const r = await sshRun({ ...node, privateKey: stranger.privateKey }, "true");
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("Permission denied");
  });

  it("listens on its own loopback address and port only", async () => {
    const pid = node.sshdPid();
    expect(pid).toBeDefined();
    expect(listeningAddresses(pid as number)).toEqual([`${node.host}:22`]);
    const ss = execFileSync("ss", ["-Hltnp"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(`pid=${pid},`));
    expect(ss.map((l) => l.split(/\s+/)[3])).toEqual([`${node.host}:22`]);
  });

  it("converges a new node to its pins with the planner's script, sent as the pets component sends it", async () => {
    const config = currentStack();
    const r = await sshRun(node, rootCommand(runScript(plan(undefined, config), "storage-1"), node.user), 300_000);
    expect(r.code, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);
    expect(node.root.versions(Object.keys(pinsOf(config)))).toEqual(pinsOf(config));
    expect(node.root.held()).toEqual(Object.keys(pinsOf(config)).sort());
  });

  it("runs a node script to its end when its SSH client is killed, and a later run waits for it", async () => {
    // The client is SIGKILLed a second into a script that writes only after 4 s: a `pulumi up` killed mid-converge.
    node.root.remove("/root/kubeherd-detached");
    const killed = await sshRun(node, rootCommand("sleep 4; echo done >> /root/kubeherd-detached; echo gone-to-stdout", node.user), 1_000);
    expect(killed.code).toBe(128);
    expect(node.root.exists("/root/kubeherd-detached")).toBe(false);
    // The next run takes the node's converge lock only once the first run has finished.
    const next = await sshRun(node, rootCommand("cat /root/kubeherd-detached", node.user), 30_000);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout.trim()).toBe("done");
    // Both runs' output files are gone (the first run's wrapper outlived its connection too); the lock file stays.
    expect(readdirSync(node.root.path("/var/lib/kubeherd")).filter((f) => f.startsWith("converge."))).toEqual(["converge.lock"]);
  });

  it("fails with the script's exit status and its stderr, as the provider reports them", async () => {
    const r = await sshRun(node, rootCommand("echo out; echo bad >&2; exit 7", node.user), 30_000);
    expect(r).toMatchObject({ code: 7, stdout: "out\n", stderr: "bad\n" });
  });

  it("goes down and comes back with the same host key, and what a session left running dies with its sshd", async () => {
    // A number of seconds no other run on the machine uses, and a bounded wait for the background sleep to have
    // exec'd (the session can return before it does, on a loaded machine).
    const marker = ["sleep", String(40_000 + Math.floor(Math.random() * 50_000))];
    const started = await sshRun(node, rootCommand(`nohup ${marker.join(" ")} >/dev/null 2>&1 &`, node.user));
    expect(started.code, started.stderr).toBe(0);
    await until(() => pidsRunning(marker).length === 1, 10_000);
    expect(pidsRunning(marker)).toHaveLength(1);
    await node.stopSshd();
    expect(node.sshdPid()).toBeUndefined();
    expect(pidsRunning(marker)).toEqual([]);
    const down = await sshRun(node, "true");
    expect(down.code).toBe(255);
    expect(down.stderr).toContain("Connection refused");
    await node.startSshd();
    const back = await sshRun(node, "true");
    expect(back.code, back.stderr).toBe(0);
  });
});

describe("an SSH node whose login user is root", () => {
  it("runs the remote command without sudo", async () => {
    const node = await startSshNode({ name: "ssh-root", address: loopback(), user: "root", release: "18.04" });
    try {
      const r = await sshRun(node, rootCommand('id -u; . /etc/os-release; echo "$VERSION_ID"', "root"));
      expect(r.stdout.trim().split("\n")).toEqual(["0", "18.04"]);
      expect(rootCommand("true", "root")).not.toContain("sudo");
    } finally {
      await node.stop();
    }
  });
});

describe("what an SSH node refuses", () => {
  it("an address outside 127.0.0.0/8, before anything is made", async () => {
    await expect(startSshNode({ name: "x", address: "10.0.0.5" })).rejects.toThrow(/127\.0\.0\.0\/8/);
    await expect(startSshNode({ name: "x", address: "0.0.0.0" })).rejects.toThrow(/127\.0\.0\.0\/8/);
  });

  it("a root that is no longer the harness's own", async () => {
    const root = await NodeRoot.create();
    await root.destroy();
    await expect(startSshNode({ name: "x", address: loopback(), root })).rejects.toThrow(/refusing to use .* as a node root/);
  });

  it("a root whose harness token was tampered with", async () => {
    const root = await NodeRoot.create();
    root.write("/etc/kubeherd-test-root", "forged\n");
    await expect(startSshNode({ name: "x", address: loopback(), root })).rejects.toThrow(/token/);
    expect(existsSync(root.dir)).toBe(false);
  });
});
