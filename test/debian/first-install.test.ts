/**
 * A pets node that has none of the pins yet (a new host), converged by the real first deployment's script against
 * stand-ins that carry the real packages' Depends. On the article's legacy repository, kubelet 1.13 wants exactly
 * kubernetes-cni 0.6.0 while apt picks the newest one (kubernetes/kubernetes#75683), and kubeadm, installed first,
 * depends on a kubelet that apt would take at its newest version.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeRoot } from "../support/node-root/node-root";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { articleStack, convergeOrFail, pinsOf, plan, runScript, story } from "../support/node-root/scenario";

describe("the first converge of a new node of the article's cluster", () => {
  const config = articleStack();
  let root: NodeRoot;
  let lines: string[];

  beforeAll(async () => {
    root = await NodeRoot.create({ release: "18.04" });
    await convergeOrFail(root, runScript(plan(undefined, config), "storage-1"));
    lines = story(root.calls());
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("is a real trap: apt alone cannot install the pinned kubelet from the legacy repository", async () => {
    const probe = await NodeRoot.create({ release: "18.04" });
    try {
      probe.write("/etc/apt/sources.list.d/probe.list", `${LOCAL_SOURCES.legacyKubernetes}\n`);
      const r = await probe.sh("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y kubelet=1.13.2-00");
      expect(r.code).toBe(100);
      expect(r.stdout + r.stderr).toContain("kubelet : Depends: kubernetes-cni (= 0.6.0) but 0.8.7-00 is to be installed");
    } finally {
      await probe.destroy();
    }
  });

  it("installs every pin at its version and no other version of a pinned package, and holds them", () => {
    const pins = pinsOf(config);
    const installs = lines.filter((l) => l.startsWith("install "));
    for (const [pkg, version] of Object.entries(pins)) {
      expect(installs.filter((l) => l.startsWith(`install ${pkg}=`))).toEqual([`install ${pkg}=${version}`]);
    }
    expect(root.versions(Object.keys(pins))).toEqual(pins);
    expect(root.held()).toEqual(Object.keys(pins).sort());
  });

  it("installs the kubernetes-cni the kubelet asks for, and what else the real Depends pull in", () => {
    expect(root.versions(["kubernetes-cni", "cri-tools", "socat", "ebtables"])).toEqual({
      "kubernetes-cni": "0.6.0-00",
      "cri-tools": "1.23.0-00",
      socat: "1.7.4.1-3ubuntu4",
      ebtables: "2.0.11-4build2",
    });
  });
});
