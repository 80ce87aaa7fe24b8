/**
 * The Ubuntu release upgrade a pets node gets from its converge script when `os.release` changes:
 * do-release-upgrade with the non-interactive frontend, the pins held again after, and a reboot.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sourceFile } from "../../components/versions/repositories";
import { isCall } from "../support/node-root/call-log";
import { NodeRoot } from "../support/node-root/node-root";
import type { Outcome } from "../support/node-root/process";
import { CANARY, LOCAL_SOURCES } from "../support/debian/repository";
import { convergeOrFail, currentStack, adoptedWorker, pinsOf, plan, runPets, runScript, story, waitForCall } from "../support/node-root/scenario";

const base = currentStack();
const PINS = ["containerd.io", "kubeadm", "kubelet", "kubectl"];

describe("a release upgrade (os.release 22.04 → 24.04) on a worker", () => {
  const target = currentStack({ os: { release: "24.04" } });
  let root: NodeRoot;
  let upgraded: Outcome;

  beforeAll(async () => {
    root = await adoptedWorker(base);
    upgraded = await runPets(root, runScript(plan(base, target), "storage-1"));
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("runs do-release-upgrade with the non-interactive frontend and ends on the new release", () => {
    expect(upgraded.code, `${upgraded.stdout.slice(-3000)}\n${upgraded.stderr.slice(-3000)}`).toBe(0);
    const call = root.calls().find(isCall("do-release-upgrade"));
    expect(call?.args.join(" ")).toContain("-f DistUpgradeViewNonInteractive");
    expect(root.read("/etc/os-release")).toContain('VERSION_ID="24.04"');
    // the node had an update pending, which do-release-upgrade refuses to start with: it was installed first
    expect(root.versions([CANARY.name])).toEqual({ [CANARY.name]: CANARY.upgrade });
  });

  it("holds every pin again, at its version, with kubeherd's sources back on and naming the new release", () => {
    expect(root.versions(PINS)).toEqual(pinsOf(target));
    expect(root.held()).toEqual([...PINS].sort());
    expect(root.read(sourceFile("docker"))).toBe(`${LOCAL_SOURCES.docker.replace("{codename}", "noble")}\n`);
    expect(root.exists(`${sourceFile("kubernetes")}.disabled`)).toBe(false);
  });

  it("reboots after the script", async () => {
    expect(await waitForCall(root, isCall("reboot"))).toBeDefined();
  });

  it("a second run changes nothing", async () => {
    root.clearCalls();
    const again = await convergeOrFail(root, runScript(plan(base, target), "storage-1"));
    expect(again.stdout).toContain("no changes");
    await new Promise((r) => setTimeout(r, 500));
    expect(story(root.calls())).toEqual([]);
  });
});

describe("a release upgrade that dies half way and is run again", () => {
  const target = currentStack({ os: { release: "24.04" } });
  const script = runScript(plan(base, target), "storage-1");
  let root: NodeRoot;
  beforeEach(async () => {
    root = await adoptedWorker(base);
  });
  afterEach(async () => {
    await root?.destroy();
  });

  it.each([
    { fault: "do-release-upgrade", what: "do-release-upgrade fails before it changes anything" },
    { fault: "do-release-upgrade-late", what: "do-release-upgrade dies after switching to the new release" },
  ])("converges when $what", async ({ fault }) => {
    root.failOnce(fault);
    const failed = await runPets(root, script);
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toContain("injected failure");

    await convergeOrFail(root, script);
    expect(root.read("/etc/os-release")).toContain('VERSION_ID="24.04"');
    expect(root.versions(PINS)).toEqual(pinsOf(target));
    expect(root.held()).toEqual([...PINS].sort());
    expect(root.read(sourceFile("docker"))).toBe(`${LOCAL_SOURCES.docker.replace("{codename}", "noble")}\n`);
    expect(root.exists(`${sourceFile("kubernetes")}.disabled`)).toBe(false);
    expect([...root.packages()].filter(([, p]) => p.state !== "installed").map(([n]) => n)).toEqual([]);
  });
});
