/**
 * A converge script that dies half way (a command or a package's postinst fails once) and is run again must
 * converge: the pins installed and held, and what changed in the failed run still restarted in the next one.
 * The article's bump on the first control-plane node, from the real planner.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeRoot } from "../support/node-root/node-root";
import { LOCAL_SOURCES } from "../support/debian/repository";
import { ARTICLE_BUMP, articleStack, convergeOrFail, makeJoined, pinsOf, plan, runPets, runScript, story } from "../support/node-root/scenario";

const base = articleStack();
const target = articleStack(ARTICLE_BUMP);
const script = runScript(plan(base, target), "cp-1");

describe("the article's bump on cp-1, killed half way and run again", () => {
  let root: NodeRoot;
  beforeEach(async () => {
    root = await NodeRoot.create({ release: "18.04" });
    await root.seed(pinsOf(base), [LOCAL_SOURCES.legacyKubernetes, LOCAL_SOURCES.docker]);
    makeJoined(root, "v1.13.2");
    await convergeOrFail(root, runScript(plan(undefined, base), "cp-1"));
    root.clearCalls();
  });
  afterEach(async () => {
    await root?.destroy();
  });

  it.each([
    { fault: "kubeadm", when: "upgrade apply", what: "kubeadm upgrade apply fails", redo: ["kubeadm upgrade apply -y v1.13.3", "systemctl restart kubelet"] },
    { fault: "systemctl", when: "restart kubelet", what: "the kubelet restart fails", redo: ["systemctl restart kubelet"] },
    { fault: "systemctl", when: "restart docker", what: "the docker restart fails", redo: ["systemctl restart docker", "systemctl restart kubelet"] },
    { fault: "postinst-docker-ce", when: "", what: "docker-ce's postinst fails (dpkg left half-configured)", redo: ["systemctl restart docker"] },
    { fault: "postinst-kubelet", when: "", what: "the kubelet's postinst fails (dpkg left half-configured)", redo: ["systemctl restart kubelet"] },
  ])("converges when $what", async ({ fault, when, redo }) => {
    root.failOnce(fault, when);
    const failed = await runPets(root, script);
    expect(failed.code, "the injected failure must stop the script").not.toBe(0);
    expect(failed.stdout + failed.stderr).toContain("injected failure");

    root.clearCalls();
    await convergeOrFail(root, script);
    const again = story(root.calls());
    for (const call of redo) expect(again, `the second run must still do "${call}"`).toContain(call);
    expect(root.versions(Object.keys(pinsOf(target)))).toEqual(pinsOf(target));
    expect(root.held()).toEqual(Object.keys(pinsOf(target)).sort());
    expect([...root.packages()].filter(([, p]) => p.state !== "installed").map(([n]) => n)).toEqual([]);

    root.clearCalls();
    await convergeOrFail(root, script);
    expect(story(root.calls()), "a third run changes nothing").toEqual([]);
  });
});
