/**
 * The pets side's least rights (issue 19 item 3): GIVEN a node whose SSH user has only the fragment sudoers/kubeherd
 * (no NOPASSWD:ALL) and the runner sudoers/kubeherd-converge installed root-owned at its fixed path, WHEN kubeherd
 * sends a node's converge script as the pets component does with `ssh.sudo: converge` (the runner's path under
 * `sudo -n`, the script on stdin, over real SSH), THEN the node converges to its pins, while the user can run
 * nothing else as root and cannot change the runner.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONVERGE_RUNNER, remoteConverge } from "../../components/rollout/nodes";
import { sshRun } from "../support/ssh-nodes/ssh-client";
import { startSshNode, type SshNode } from "../support/ssh-nodes/ssh-node";
import { currentStack, pinsOf, plan, runScript } from "../support/node-root/scenario";
import { CONVERGE_RUNNER_SCRIPT as RUNNER, limitSudo } from "../support/ssh-nodes/least-sudo";

const loopback = () => `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;

describe("the sudoers fragment and the converge runner", () => {
  let node: SshNode;
  beforeAll(async () => {
    node = await startSshNode({ name: "storage-1", address: loopback() });
    // As an administrator installs them: the fragment replaces the image's NOPASSWD:ALL for the user.
    await limitSudo(node.root);
  }, 600_000);
  afterAll(async () => node?.stop());

  it("passes visudo -c, and sudo -l lists the runner alone for the user", async () => {
    const check = await node.root.sh("visudo -c");
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const list = await node.root.shOrThrow("sudo -l -U ubuntu");
    const commands = list.stdout.split("\n").filter((l) => /^\s+\(/.test(l)).map((l) => l.trim());
    expect(commands).toEqual([`(root) NOPASSWD: ${CONVERGE_RUNNER} ""`]);
  });

  it("refuses the user any other command as root, the runner with arguments, and a write to the runner", async () => {
    for (const command of ["sudo -n bash -c id", "sudo -n /bin/sh -c id", `sudo -n ${CONVERGE_RUNNER} --help`, "sudo -n apt-get update"]) {
      const r = await sshRun(node, command);
      expect(r.code, command).not.toBe(0);
      expect(r.stderr, command).toMatch(/sudo: (a password is required|sorry, you are not allowed)/);
    }
    const write = await sshRun(node, `echo 'id' >> ${CONVERGE_RUNNER}`);
    expect(write.code).not.toBe(0);
    expect(node.root.read(CONVERGE_RUNNER)).toBe(RUNNER);
  });

  it("converges the node to its pins through the runner, with the script on stdin as the pets component sends it", async () => {
    const config = currentStack();
    const script = runScript(plan(undefined, config), "storage-1");
    const { create, stdin } = remoteConverge(script, { user: "ubuntu", sudo: "converge" });
    expect(create).toBe(`sudo -n ${CONVERGE_RUNNER}`);
    const r = await sshRun(node, create, 300_000, stdin);
    expect(r.code, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);
    expect(node.root.versions(Object.keys(pinsOf(config)))).toEqual(pinsOf(config));
    expect(node.root.held()).toEqual(Object.keys(pinsOf(config)).sort());
    // The script that ran is kept, root's only, under its digest.
    const kept = await node.root.shOrThrow("ls /var/log/kubeherd; stat -c %a /var/log/kubeherd");
    expect(kept.stdout).toMatch(/^converge-\d{8}T\d{6}Z-[0-9a-f]{16}\.sh\n700\n$/);
  });

  it("runs nothing without a script", async () => {
    const r = await sshRun(node, `sudo -n ${CONVERGE_RUNNER}`, 60_000, "");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("kubeherd-converge: no script on stdin");
  });
});
