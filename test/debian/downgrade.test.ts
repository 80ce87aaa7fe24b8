/**
 * The way back for a bad patch: GIVEN a node on kubelet, kubeadm, kubectl 1.30.3, WHEN the pins go back to 1.30.2,
 * THEN the script takes them back only under `versions.allowUnsupportedTransition` (apt with --allow-downgrades,
 * holds kept); without it the script refuses before any hold is released and leaves the node as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { planRollout } from "../../components/rollout/plan";
import { NodeRoot } from "../support/node-root/node-root";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { REGION, convergeOrFail, currentStack, makeJoined, nodeState, pinsOf, plan, runPets, runScript } from "../support/node-root/scenario";

const kube = (kubernetes: string, pin: string, allow = false) => ({ versions: { kubernetes, kubeadm: pin, kubelet: pin, kubectl: pin, allowUnsupportedTransition: allow } });
const v1303 = currentStack(kube("1.30.3", "1.30.3-1.1"));

async function nodeOn(config: KubeherdConfig): Promise<NodeRoot> {
  const root = await NodeRoot.create({ release: "22.04" });
  await root.seed(pinsOf(config), [LOCAL_SOURCES.kubernetes.replace("{minor}", "1.30"), LOCAL_SOURCES.docker]);
  makeJoined(root, "v1.30.3");
  await convergeOrFail(root, runScript(plan(undefined, config), "cp-2"));
  root.clearCalls();
  return root;
}

describe("a patch downgrade 1.30.3 → 1.30.2 on a pets control-plane node (kubeadm upgrade node)", () => {
  let root: NodeRoot;
  beforeAll(async () => {
    root = await nodeOn(v1303);
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("is refused by the script without the override, before any hold is released", async () => {
    // The plan and the program refuse this transition; the script refuses it too, should it ever run.
    const target = currentStack(kube("1.30.2", "1.30.2-1.1"));
    const script = runScript(planRollout({ stack: "test", base: v1303, target, region: REGION }), "cp-2");
    const before = nodeState(root);
    const r = await runPets(root, script);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("refusing to downgrade kubeadm=1.30.3-1.1->1.30.2-1.1 kubelet=1.30.3-1.1->1.30.2-1.1 kubectl=1.30.3-1.1->1.30.2-1.1");
    expect(nodeState(root)).toEqual(before);
  });

  it("goes through under allowUnsupportedTransition: the older pins installed and held", async () => {
    const target = currentStack(kube("1.30.2", "1.30.2-1.1", true));
    await convergeOrFail(root, runScript(plan(v1303, target), "cp-2"));
    expect(root.versions(["kubeadm", "kubelet", "kubectl", "containerd.io"])).toEqual(pinsOf(target));
    expect(root.held()).toEqual(Object.keys(pinsOf(target)).sort());
  });
});
