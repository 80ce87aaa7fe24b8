/**
 * What a pets node's converge run really does, said in the plan's `run` step from the triggers that changed
 * (components/rollout/nodes.ts `petsNodes`): a kubectl-only bump installs a client and nothing else, a token
 * change upgrades the system, and only a change of `kubernetes` runs a kubeadm upgrade step, `apply` on the
 * first control-plane node alone (components/scripts/kubeadm.ts).
 */

const RUNTIME_PACKAGES = ["docker-ce", "docker-ce-cli", "containerd.io", "cri-dockerd"];

/** `pkg=version` and `kubeadm=apply|node` (the node's kubeadm step, kept apart as `kubeadm-step`). */
function triggerMap(triggers: readonly string[]): Map<string, string> {
  return new Map(
    triggers.map((t) => {
      const key = t.slice(0, t.indexOf("="));
      const value = t.slice(t.indexOf("=") + 1);
      return [key === "kubeadm" && (value === "apply" || value === "node") ? "kubeadm-step" : key, value];
    }),
  );
}

/** One line: what the node's run changes, in the order the script does it. `prior` undefined: an adoption. */
export function runNote(prior: readonly string[] | undefined, now: readonly string[], kubeadm: "apply" | "node"): string {
  const to = triggerMap(now);
  if (!prior) {
    return `adoption: converges the node to its pins, installing only what differs${kubeadm === "apply" ? "; kubeadm upgrade apply only if the API server is not at v" + (to.get("kubernetes") ?? "") : ""}`;
  }
  const from = triggerMap(prior);
  const changed = (key: string) => from.get(key) !== to.get(key);
  const what: string[] = [];
  if (changed("release")) what.push(`do-release-upgrade to Ubuntu ${to.get("release")}`);
  const runtime = RUNTIME_PACKAGES.filter(changed).filter((p) => to.get(p) !== undefined);
  if (runtime.length) what.push(`runtime ${runtime.map((p) => `${p} ${to.get(p)}`).join(", ")} (the runtime restarts)`);
  if (changed("kubeadm")) what.push(`kubeadm ${to.get("kubeadm")}`);
  if (changed("kubernetes")) {
    what.push(kubeadm === "apply" ? `kubeadm upgrade apply v${to.get("kubernetes")} (first control-plane node)` : "kubeadm upgrade node");
  } else if (changed("kubeadm") && kubeadm === "node") {
    what.push("kubeadm upgrade node (once per kubeadm version)");
  }
  if (changed("kubelet")) what.push(`kubelet ${to.get("kubelet")} (the kubelet restarts)`);
  if (changed("kubectl")) what.push(`kubectl ${to.get("kubectl")}${what.length === 0 ? " (a client only: nothing restarts)" : ""}`);
  if (changed("system-upgrade") && to.get("system-upgrade")) what.push(`apt-get dist-upgrade for token ${to.get("system-upgrade")}, pins held`);
  if (changed("kubeadm-step")) what.push(`this node now runs kubeadm upgrade ${to.get("kubeadm-step")} on later minor changes`);
  if (what.length === 0) what.push("re-runs the converge script (nothing pinned changes)");
  return what.join("; ");
}

/** A change of the kubectl pin alone: the run installs a client, restarts nothing, and needs no drain. */
export function clientOnly(prior: readonly string[] | undefined, now: readonly string[]): boolean {
  if (!prior) return false;
  const from = triggerMap(prior);
  const to = triggerMap(now);
  const keys = new Set([...from.keys(), ...to.keys()]);
  const changed = [...keys].filter((k) => from.get(k) !== to.get(k));
  return changed.length === 1 && changed[0] === "kubectl";
}
