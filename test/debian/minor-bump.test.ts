/**
 * pkgs.k8s.io has one repository per minor: a minor bump (1.29 → 1.30) must switch the repository line before it
 * installs, and a pin that no configured repository holds must stop the script before any hold is released.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { sourceFile } from "../../components/versions/repositories";
import { NodeRoot } from "../support/node-root/node-root";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { convergeOrFail, currentStack, makeJoined, nodeState, pinsOf, plan, position, runPets, runScript, story } from "../support/node-root/scenario";

const kube = (kubernetes: string, pin: string) => ({ versions: { kubernetes, kubeadm: pin, kubelet: pin, kubectl: pin } });
const v129 = currentStack(kube("1.29.6", "1.29.6-1.1"));
const KUBE_LIST = sourceFile("kubernetes");
const lineFor = (minor: string) => `${LOCAL_SOURCES.kubernetes.replace("{minor}", minor)}\n`;

/** A control-plane root that runs `config`'s pins, joined, adopted by kubeherd. */
async function adoptedRoot(config: KubeherdConfig, node: string): Promise<NodeRoot> {
  const root = await NodeRoot.create({ release: "22.04" });
  await root.seed(pinsOf(config), [LOCAL_SOURCES.kubernetes.replace("{minor}", "1.29"), LOCAL_SOURCES.docker]);
  makeJoined(root, "v1.29.6");
  await convergeOrFail(root, runScript(plan(undefined, config), node));
  root.clearCalls();
  return root;
}

describe("a minor bump 1.29.6 → 1.30.2 on the first control-plane node", () => {
  const target = currentStack(kube("1.30.2", "1.30.2-1.1"));
  let root: NodeRoot;
  let lines: string[];
  let listBefore: string;

  beforeAll(async () => {
    root = await adoptedRoot(v129, "cp-1");
    listBefore = root.read(KUBE_LIST);
    await convergeOrFail(root, runScript(plan(v129, target), "cp-1"));
    lines = story(root.calls());
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("switches the Kubernetes repository line from the 1.29 repository to the 1.30 one", () => {
    expect(listBefore).toBe(lineFor("1.29"));
    expect(root.read(KUBE_LIST)).toBe(lineFor("1.30"));
  });

  it("installs the new minor from it and holds every pin", () => {
    expect(root.versions(["kubeadm", "kubelet", "kubectl", "containerd.io"])).toEqual(pinsOf(target));
    expect(root.held()).toEqual(Object.keys(pinsOf(target)).sort());
  });

  it("upgrades the control plane between the kubeadm and the kubelet installs, leaving containerd alone", () => {
    expect(position(lines, "install kubeadm=1.30.2-1.1")).toBeLessThan(position(lines, "kubeadm upgrade apply -y v1.30.2"));
    expect(position(lines, "kubeadm upgrade apply -y v1.30.2")).toBeLessThan(position(lines, "install kubelet=1.30.2-1.1"));
    expect(position(lines, "install kubelet=1.30.2-1.1")).toBeLessThan(position(lines, "systemctl restart kubelet"));
    expect(lines.filter((l) => l.includes("containerd"))).toEqual([]);
  });
});

describe("a pinned version no repository holds", () => {
  let root: NodeRoot;
  beforeAll(async () => {
    root = await adoptedRoot(v129, "cp-1");
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it.each([
    { what: "a containerd.io patch", target: currentStack({ ...kube("1.29.6", "1.29.6-1.1"), versions: { ...kube("1.29.6", "1.29.6-1.1").versions, "containerd.io": "1.7.99-1" } }), missing: "containerd.io=1.7.99-1" },
    { what: "a minor bump to a release not published yet", target: currentStack(kube("1.30.9", "1.30.9-1.1")), missing: "kubeadm=1.30.9-1.1" },
  ])("($what) stops the script before any hold is released, and puts the old repository line back", async ({ target, missing }) => {
    const before = nodeState(root);
    root.clearCalls();
    const r = await runPets(root, runScript(plan(v129, target), "cp-1"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(missing);
    expect(nodeState(root)).toEqual(before);
    expect(root.held()).toEqual(Object.keys(pinsOf(v129)).sort());
    expect(root.read(KUBE_LIST)).toBe(lineFor("1.29"));
    expect(story(root.calls())).toEqual([]);
  });
});
