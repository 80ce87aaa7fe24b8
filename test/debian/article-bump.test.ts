/**
 * The field article's bump, run for real: kubelet, kubeadm, kubectl 1.13.2-00 → 1.13.3-00 and docker-ce
 * 18.06.1 → 18.06.2 on the first control-plane node, another control-plane node and a worker, each a root that
 * already runs the old pins (held) and that kubeherd adopted first. The scripts are the real planner's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeRoot } from "../support/node-root/node-root";
import type { Outcome } from "../support/node-root/process";
import { LOCAL_SOURCES } from "../support/debian/repository";
import {
  ARTICLE_BUMP,
  articleStack,
  convergeOrFail,
  makeJoined,
  nodeState,
  pinsOf,
  plan,
  position,
  runScript,
  sshUserOf,
  story,
} from "../support/node-root/scenario";

const base = articleStack();
const target = articleStack(ARTICLE_BUMP);
const adoption = plan(undefined, base);
const bump = plan(base, target);

describe.each([
  { node: "cp-1", what: "the first control-plane node", kubeadmStep: "kubeadm upgrade apply -y v1.13.3", apiServer: "v1.13.2" },
  // kubeadm 1.13 still called the node step by its old names (kubeadm 1.13 upgrade docs)
  { node: "cp-2", what: "another control-plane node", kubeadmStep: "kubeadm upgrade node experimental-control-plane", apiServer: "v1.13.2" },
  { node: "storage-1", what: "a worker", kubeadmStep: "kubeadm upgrade node config --kubelet-version v1.13.3", apiServer: undefined },
])("the article's bump on $node ($what)", ({ node, kubeadmStep, apiServer }) => {
  // over SSH as the pool's user (storage-1's pool logs in as admin), through sudo
  const user = sshUserOf(base, node);
  let root: NodeRoot;
  let adopted: string[];
  let bumped: Outcome;
  let bumpStory: string[];

  beforeAll(async () => {
    root = await NodeRoot.create({ release: "18.04" });
    await root.seed(pinsOf(base), [LOCAL_SOURCES.legacyKubernetes, LOCAL_SOURCES.docker]);
    makeJoined(root, apiServer);
    root.clearCalls();
    await convergeOrFail(root, runScript(adoption, node), user);
    adopted = story(root.calls());
    root.clearCalls();
    bumped = await convergeOrFail(root, runScript(bump, node), user);
    bumpStory = story(root.calls());
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("adopting the node at its current pins installs, upgrades and restarts nothing", () => {
    expect(adopted.filter((c) => /^(install|kubeadm upgrade|systemctl restart)/.test(c) && !c.startsWith("install kubeherd-canary"))).toEqual([]);
  });

  it("leaves exactly the new versions installed, and every pin held", () => {
    expect(root.versions(["docker-ce", "docker-ce-cli", "containerd.io", "kubeadm", "kubelet", "kubectl"])).toEqual(pinsOf(target));
    expect(root.held()).toEqual(Object.keys(pinsOf(target)).sort());
    expect([...root.packages().values()].filter((p) => p.state !== "installed")).toEqual([]);
  });

  it(`installs kubeadm, then runs \`${kubeadmStep}\`, then installs the kubelet and restarts it`, () => {
    const kubeadmInstalled = position(bumpStory, "install kubeadm=1.13.3-00");
    const kubeadmRan = position(bumpStory, kubeadmStep);
    const kubeletInstalled = position(bumpStory, "install kubelet=1.13.3-00");
    const kubeletRestarted = position(bumpStory, "systemctl restart kubelet");
    expect(kubeadmInstalled).toBeLessThan(kubeadmRan);
    expect(kubeadmRan).toBeLessThan(kubeletInstalled);
    expect(kubeletInstalled).toBeLessThan(kubeletRestarted);
    expect(bumpStory.filter((c) => c.startsWith("kubeadm upgrade"))).toEqual([kubeadmStep]);
  });

  it("restarts docker after its new engine is installed, and before the kubelet moves", () => {
    expect(position(bumpStory, "install docker-ce=18.06.2~ce~3-0~ubuntu")).toBeLessThan(position(bumpStory, "systemctl restart docker"));
    expect(position(bumpStory, "systemctl restart docker")).toBeLessThan(position(bumpStory, "install kubelet="));
    expect(bumpStory.filter((c) => c.startsWith("systemctl restart"))).toEqual(["systemctl restart docker", "systemctl restart kubelet"]);
  });

  it("a second run changes nothing: same dpkg state, no install, no kubeadm step, no restart", async () => {
    expect(bumped.stdout).toContain("changed:");
    const before = nodeState(root);
    root.clearCalls();
    const again = await convergeOrFail(root, runScript(bump, node), user);
    expect(nodeState(root)).toEqual(before);
    expect(story(root.calls())).toEqual([]);
    expect(again.stdout).toContain("no changes");
  });
});
