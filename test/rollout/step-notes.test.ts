/** The plan's `run` steps say what the node's converge run really does, from the triggers that changed. */
import { describe, expect, it } from "vitest";
import { runNote } from "../../components/rollout/step-notes";

const triggers = (over: Record<string, string> = {}, step: "apply" | "node" = "node") => {
  const v = { kubernetes: "1.33.5", "containerd.io": "1.7.27-1", kubeadm: "1.33.5-1.1", kubelet: "1.33.5-1.1", kubectl: "1.33.5-1.1", release: "22.04", "system-upgrade": "", ...over };
  return [`kubernetes=${v.kubernetes}`, `containerd.io=${v["containerd.io"]}`, `kubeadm=${v.kubeadm}`, `kubelet=${v.kubelet}`, `kubectl=${v.kubectl}`, `release=${v.release}`, `system-upgrade=${v["system-upgrade"]}`, `kubeadm=${step}`];
};

describe("a run step's note", () => {
  it.each([
    ["a kubectl-only bump: a client, nothing restarts, no kubeadm step", { kubectl: "1.33.6-1.1" }, "apply", "kubectl 1.33.6-1.1 (a client only: nothing restarts)"],
    ["a system upgrade token", { "system-upgrade": "2026-12" }, "node", "apt-get dist-upgrade for token 2026-12, pins held"],
    ["a runtime patch", { "containerd.io": "1.7.28-1" }, "node", "runtime containerd.io 1.7.28-1 (the runtime restarts)"],
    ["a kubeadm patch alone on another node: its node step once", { kubeadm: "1.33.6-1.1" }, "node", "kubeadm 1.33.6-1.1; kubeadm upgrade node (once per kubeadm version)"],
    ["a kubeadm patch alone on the first control-plane node: no apply", { kubeadm: "1.33.6-1.1" }, "apply", "kubeadm 1.33.6-1.1"],
    [
      "a Kubernetes patch on the first control-plane node",
      { kubernetes: "1.33.6", kubeadm: "1.33.6-1.1", kubelet: "1.33.6-1.1", kubectl: "1.33.6-1.1" },
      "apply",
      "kubeadm 1.33.6-1.1; kubeadm upgrade apply v1.33.6 (first control-plane node); kubelet 1.33.6-1.1 (the kubelet restarts); kubectl 1.33.6-1.1",
    ],
  ] as const)("%s", (_, over, step, note) => {
    expect(runNote(triggers({}, step), triggers(over, step), step)).toBe(note);
  });

  it("says an adoption converges only what differs", () => {
    expect(runNote(undefined, triggers(), "node")).toBe("adoption: converges the node to its pins, installing only what differs");
    expect(runNote(undefined, triggers({}, "apply"), "apply")).toContain("kubeadm upgrade apply only if the API server is not at v1.33.5");
  });

  it("says when a node takes over the kubeadm apply role", () => {
    expect(runNote(triggers({}, "node"), triggers({}, "apply"), "apply")).toBe("this node now runs kubeadm upgrade apply on later minor changes");
  });
});
