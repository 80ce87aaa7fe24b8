/**
 * The system upgrade a pets node gets from its converge script when the `os.systemUpgrade` token changes:
 * dist-upgrade with every pin held, once per token, and a reboot when the upgrade requires one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCall } from "../support/node-root/call-log";
import { REBOOT_REQUIRED } from "../support/node-root/host-standins";
import { NodeRoot } from "../support/node-root/node-root";
import type { Outcome } from "../support/node-root/process";
import { CANARY, versionsIn } from "../support/debian/repository";
import { convergeOrFail, currentStack, adoptedWorker, pinsOf, plan, runScript, story, waitForCall } from "../support/node-root/scenario";

const base = currentStack();
const PINS = ["containerd.io", "kubeadm", "kubelet", "kubectl"];

describe("a system upgrade (os.systemUpgrade token 2024-07) on a worker", () => {
  const target = currentStack({ os: { systemUpgrade: "2024-07" } });
  let root: NodeRoot;
  let first: Outcome;

  beforeAll(async () => {
    root = await adoptedWorker(base);
    first = await convergeOrFail(root, runScript(plan(base, target), "storage-1"));
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("upgrades what is not pinned and keeps every pin where it is, though newer versions are in the repositories", () => {
    expect(first.stdout).toContain("system upgrade 2024-07");
    // the repository has kubelet 1.30.3 and containerd.io 1.7.22: held, they must not move
    expect(versionsIn("kubernetes/v1.30", "kubelet")).toContain("1.30.3-1.1");
    expect(root.versions(PINS)).toEqual(pinsOf(target));
    expect(root.held()).toEqual([...PINS].sort());
    expect(root.versions([CANARY.name])).toEqual({ [CANARY.name]: CANARY.upgrade });
  });

  it("reboots after the script, since the upgrade left a reboot required", async () => {
    expect(root.exists(REBOOT_REQUIRED)).toBe(true);
    expect(await waitForCall(root, isCall("reboot"))).toBeDefined();
  });

  it("runs once per token: a second run does not dist-upgrade again, nor reboot", async () => {
    // an update published since, which a second dist-upgrade would install
    await root.shOrThrow(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades ${CANARY.name}=${CANARY.installed}`);
    root.clearCalls();
    const again = await convergeOrFail(root, runScript(plan(base, target), "storage-1"));
    expect(again.stdout).toContain("no changes");
    expect(root.versions([CANARY.name])).toEqual({ [CANARY.name]: CANARY.installed });
    await new Promise((r) => setTimeout(r, 500));
    expect(story(root.calls())).toEqual([]);
  });
});

