/**
 * Self-test of the Debian-root harness: before any generated script is judged in it, the root must behave like
 * the node it stands for (real apt and dpkg, holds, several versions per package) and its stand-ins must record
 * what they are asked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callText, describeCall } from "../support/node-root/call-log";
import { mountsUnder } from "../support/node-root/mounts";
import { NodeRoot } from "../support/node-root/node-root";
import { CANARY, LOCAL_SOURCES } from "../support/debian/repository";
import { REBOOT_REQUIRED } from "../support/node-root/host-standins";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { createHash } from "node:crypto";

const KUBE_130 = LOCAL_SOURCES.kubernetes.replace("{minor}", "1.30");
const KUBE_LIST = "/etc/apt/sources.list.d/kubernetes.list";

describe("a test root", () => {
  let root: NodeRoot;
  beforeAll(async () => {
    root = await NodeRoot.create({ release: "22.04" });
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("says it is the Ubuntu release under test", async () => {
    expect(root.read("/etc/os-release")).toContain('VERSION_ID="22.04"');
    const r = await root.shOrThrow(". /etc/os-release && echo \"$ID $VERSION_CODENAME $(lsb_release -cs)\"");
    expect(r.stdout.trim()).toBe("ubuntu jammy jammy");
  });

  it("has the unpinned canary installed from the stand-in Ubuntu archive, and nothing pinned", () => {
    expect(root.versions([CANARY.name, "kubelet", "kubeadm", "docker-ce"])).toEqual({ [CANARY.name]: CANARY.installed });
    expect(root.held()).toEqual([]);
  });

  it("installs an exact stand-in version from the local repository and holds it, recording the install", async () => {
    root.clearCalls();
    await root.seed({ kubelet: "1.30.1-1.1", kubeadm: "1.30.1-1.1" }, [KUBE_130]);
    expect(root.versions(["kubelet", "kubeadm"])).toEqual({ kubelet: "1.30.1-1.1", kubeadm: "1.30.1-1.1" });
    expect(root.held()).toEqual(["kubeadm", "kubelet"]);
    // with what the real packages' Depends pull in: cri-tools and kubernetes-cni from the same repository, the
    // kubelet's socat, conntrack and ebtables from the (stand-in) Ubuntu archive
    expect(root.calls().map(describeCall).sort()).toEqual([
      "install conntrack=1:1.4.6-2build2",
      "install cri-tools=1.30.0-1.1",
      "install ebtables=2.0.11-4build2",
      "install kubeadm=1.30.1-1.1",
      "install kubelet=1.30.1-1.1",
      "install kubernetes-cni=1.4.0-1.1",
      "install socat=1.7.4.1-3ubuntu4",
    ]);
    // the seed's source line is gone again: only what a script writes configures apt
    expect(root.exists("/etc/apt/sources.list.d/kubeherd-test-seed.list")).toBe(false);
  });

  it("answers version queries like the real binaries and records each call with its package version", async () => {
    root.clearCalls();
    const r = await root.shOrThrow("kubeadm version -o short && kubelet --version");
    expect(r.stdout).toBe("v1.30.1\nKubernetes v1.30.1\n");
    expect(root.calls()).toEqual([
      { cmd: "kubeadm", version: "1.30.1-1.1", args: ["version", "-o", "short"] },
      { cmd: "kubelet", version: "1.30.1-1.1", args: ["--version"] },
    ]);
  });

  it("refuses to move a held package, as apt does on a node, until it is unheld", async () => {
    root.write(KUBE_LIST, `${KUBE_130}\n`);
    await root.shOrThrow("apt-get update -qq");
    const held = await root.sh("DEBIAN_FRONTEND=noninteractive apt-get install -y kubelet=1.30.2-1.1");
    expect(held.code).toBe(100);
    expect(held.stderr).toContain("Held packages were changed");
    await root.shOrThrow("apt-mark unhold kubelet && DEBIAN_FRONTEND=noninteractive apt-get install -y kubelet=1.30.2-1.1 && apt-mark hold kubelet");
    expect(root.versions(["kubelet"])).toEqual({ kubelet: "1.30.2-1.1" });
  });

  it("fails a missing version with apt's own message", async () => {
    const r = await root.sh("apt-get install -y kubelet=1.30.9-1.1");
    expect(r.code).toBe(100);
    expect(r.stderr).toContain("Version '1.30.9-1.1' for 'kubelet' was not found");
  });

  it("keeps held pins on dist-upgrade while the unpinned canary is upgraded", async () => {
    await root.shOrThrow("DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Options::=--force-confold dist-upgrade");
    expect(root.versions(["kubelet", "kubeadm", CANARY.name])).toEqual({
      kubelet: "1.30.2-1.1",
      kubeadm: "1.30.1-1.1",
      [CANARY.name]: CANARY.upgrade,
    });
  });

  it("has the image's login users, who reach root with sudo -n as a pets command does", async () => {
    for (const user of ["ubuntu", "admin"]) {
      const r = await root.shOrThrow('echo "$(id -un) $HOME" && sudo -n id -un', { user });
      expect(r.stdout).toBe(`${user} /home/${user}\nroot\n`);
    }
  });

  it("records host commands instead of running them", async () => {
    root.clearCalls();
    await root.shOrThrow("systemctl daemon-reload && systemctl restart kubelet && systemctl is-active --quiet kubelet && sysctl --system");
    expect(root.calls().map(callText)).toEqual([
      "systemctl daemon-reload",
      "systemctl restart kubelet",
      "systemctl is-active --quiet kubelet",
      "sysctl --system",
    ]);
  });

  it("fails an injected call once, only when its arguments match, then lets it through", async () => {
    root.failOnce("kubeadm", "upgrade apply");
    expect((await root.sh("kubeadm version -o short")).code).toBe(0);
    const failed = await root.sh("kubeadm upgrade apply -y v1.30.2");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("injected failure");
    expect((await root.sh("kubeadm upgrade apply -y v1.30.2")).code).toBe(0);
  });

  it("leaves a package half-configured when its postinst is made to fail, as an interrupted install does", async () => {
    root.failOnce("postinst-kubectl");
    const r = await root.sh("DEBIAN_FRONTEND=noninteractive apt-get install -y kubectl=1.30.2-1.1");
    expect(r.code).not.toBe(0);
    expect(root.packages().get("kubectl")).toMatchObject({ version: "1.30.2-1.1", state: "half-configured" });
    await root.shOrThrow("dpkg --configure -a");
    expect(root.packages().get("kubectl")).toMatchObject({ version: "1.30.2-1.1", state: "installed" });
  });

  it("logs a join token only as its sha256, so the log is no second copy of the secret", async () => {
    root.clearCalls();
    const token = "abcdef.0123456789abcdef";
    await root.shOrThrow(`kubeadm join k8s:6443 --token ${token} --discovery-token-ca-cert-hash sha256:00`);
    const hash = createHash("sha256").update(token).digest("hex");
    expect(root.calls()[0]?.args).toEqual(["join", "k8s:6443", "--token", `sha256:${hash}`, "--discovery-token-ca-cert-hash", "sha256:00"]);
    expect(await root.filesContaining(token)).toEqual([]);
  });

  it("plays do-release-upgrade: refuses while a held pin is upgradable, else moves to the next LTS", async () => {
    // kubeadm is held at 1.30.1 while 1.30.3 is in the repository: the real tool refuses
    const refused = await root.sh("do-release-upgrade -f DistUpgradeViewNonInteractive");
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("Please install all available updates");
    root.remove(KUBE_LIST);
    await root.shOrThrow("apt-get update -qq");
    await root.shOrThrow("do-release-upgrade -f DistUpgradeViewNonInteractive");
    expect(root.read("/etc/os-release")).toContain('VERSION_ID="24.04"');
    expect(root.read("/etc/apt/sources.list")).toContain("ubuntu noble/");
    expect(root.exists(REBOOT_REQUIRED)).toBe(true);
  });

  it("disables third-party sources on a release upgrade unless they are allowed", async () => {
    root.write(KUBE_LIST, `${KUBE_130}\n`);
    await root.shOrThrow("apt-mark unhold kubeadm kubelet kubectl && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y dist-upgrade");
    // 24.04 is the last release the stand-in knows: pretend to be 22.04 again for a second upgrade
    root.write("/etc/os-release", 'VERSION_ID="22.04"\nVERSION_CODENAME=jammy\n');
    await root.shOrThrow("do-release-upgrade -f DistUpgradeViewNonInteractive");
    expect(root.read(KUBE_LIST)).toMatch(/^# deb .* # disabled on upgrade to noble$/m);
  });
});

describe("removing a test root", () => {
  it("unmounts what it mounted and deletes the whole tree", async () => {
    const root = await NodeRoot.create({ release: "18.04" });
    try {
      await root.shOrThrow("true");
      // /proc and /dev/pts are only mounted while a command runs; the root itself may be an overlay
      expect(mountsUnder(root.dir).filter((m) => m !== root.dir)).toEqual([]);
    } finally {
      await root.destroy();
    }
    expect(mountsUnder(dirname(root.dir))).toEqual([]);
    expect(existsSync(dirname(root.dir))).toBe(false);
  });
});
