/**
 * A bump of the container runtime alone (the runc CVE case): docker restarts, the kubelet does not, and kubeadm
 * is not touched. Both for the article's docker-ce 18.06 and a current docker-ce + cri-dockerd node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import type { UbuntuRelease } from "../../components/versions/ubuntu";
import { NodeRoot } from "../support/node-root/node-root";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { articleStack, convergeOrFail, currentStack, makeJoined, nodeState, pinsOf, plan, position, runScript, story } from "../support/node-root/scenario";

const JAMMY = (v: string) => `5:${v}-1~ubuntu.22.04~jammy`;
const currentDocker = (engine: string) =>
  currentStack({
    versions: {
      runtime: "docker",
      "containerd.io": "1.7.19-1",
      "docker-ce": JAMMY(engine),
      "docker-ce-cli": JAMMY(engine),
      "cri-dockerd": "0.3.14.3-0.ubuntu-jammy",
    },
    repositories: { "cri-dockerd": LOCAL_SOURCES["cri-dockerd"] },
  });

interface Case {
  name: string;
  release: UbuntuRelease;
  sources: string[];
  base: KubeherdConfig;
  target: KubeherdConfig;
  install: string;
}

const cases: Case[] = [
  {
    name: "docker-ce 18.06.1 → 18.06.2 on the article's cluster",
    release: "18.04",
    sources: [LOCAL_SOURCES.legacyKubernetes, LOCAL_SOURCES.docker],
    base: articleStack(),
    target: articleStack({ versions: { "docker-ce": "18.06.2~ce~3-0~ubuntu" } }),
    install: "install docker-ce=18.06.2~ce~3-0~ubuntu",
  },
  {
    name: "docker-ce and its CLI 27.3.1 → 27.4.0 on a current cluster with cri-dockerd",
    release: "22.04",
    sources: [LOCAL_SOURCES.kubernetes.replace("{minor}", "1.30"), LOCAL_SOURCES.docker, LOCAL_SOURCES["cri-dockerd"]],
    base: currentDocker("27.3.1"),
    target: currentDocker("27.4.0"),
    install: `install docker-ce=${JAMMY("27.4.0")}`,
  },
];

describe.each(cases)("a runtime-only bump: $name, on a worker", ({ release, sources, base, target, install }) => {
  let root: NodeRoot;
  let lines: string[];

  beforeAll(async () => {
    root = await NodeRoot.create({ release });
    await root.seed(pinsOf(base), sources);
    makeJoined(root);
    await convergeOrFail(root, runScript(plan(undefined, base), "storage-1"));
    root.clearCalls();
    await convergeOrFail(root, runScript(plan(base, target), "storage-1"));
    lines = story(root.calls());
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("installs the new engine and restarts docker once, after the install", () => {
    expect(position(lines, install)).toBeLessThan(position(lines, "systemctl restart docker"));
    expect(lines.filter((l) => l === "systemctl restart docker")).toHaveLength(1);
  });

  it("restarts neither the kubelet nor anything else, and leaves kubeadm, kubelet and kubectl alone", () => {
    expect(lines.filter((l) => l.startsWith("systemctl restart"))).toEqual(["systemctl restart docker"]);
    expect(lines.filter((l) => /^(kubeadm|install kube)/.test(l))).toEqual([]);
  });

  it("leaves exactly the target pins installed and held, and a second run changes nothing", async () => {
    expect(root.versions(Object.keys(pinsOf(target)))).toEqual(pinsOf(target));
    expect(root.held()).toEqual(Object.keys(pinsOf(target)).sort());
    const before = nodeState(root);
    root.clearCalls();
    await convergeOrFail(root, runScript(plan(base, target), "storage-1"));
    expect(nodeState(root)).toEqual(before);
    expect(story(root.calls())).toEqual([]);
  });
});
