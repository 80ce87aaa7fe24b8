/**
 * The Kubernetes part of a converge script, in the order of FACTS.md §3: kubeadm first, then the kubeadm step
 * (`upgrade apply` on the first control-plane node, `upgrade node` elsewhere), then kubelet and kubectl with a
 * kubelet restart only when it changed.
 */
import { type Versions } from "../config/schema";
import { installLines } from "./apt";
import { kubeadmPin, kubeletPins, usesCriDockerd } from "../versions/pins";
import { criSocket } from "./runtime";
import { shellCall, shellSource } from "./quote";
import { kubernetesMinorNumber } from "../versions/repositories";

export const KUBEADM_FUNCTIONS = shellSource`
joined() { [[ -f /etc/kubernetes/kubelet.conf ]]; }

# First control-plane node: upgrade the control plane when its API server is not yet at the target version.
kubeadm_upgrade_apply() {
  local want="$1" manifest=/etc/kubernetes/manifests/kube-apiserver.yaml have=""
  if ! joined; then
    say "not joined yet (no /etc/kubernetes/kubelet.conf): skipping kubeadm upgrade apply"
  else
    if [[ -f $manifest ]]; then
      have="$(sed -n -E 's/^[[:space:]]*image:.*kube-apiserver:(v[^"[:space:]]+).*$/\1/p' "$manifest")"
      have="\${have%%$'\n'*}"
    fi
    if [[ $have == "$want" ]]; then
      say "control plane already runs $want"
    else
      say "kubeadm upgrade apply -y $want (the API server runs \${have:-an unknown version})"
      kubeadm upgrade apply -y "$want"
      changed+=("kubeadm upgrade apply $want")
    fi
  fi
  clear_changed kubeadm
}

# Other nodes: run the kubeadm node step once per kubeadm version (marker written after success). A node whose
# kubeadm was already at the pin before kubeherd first ran is taken as upgraded: adopting it changes nothing.
kubeadm_upgrade_node() {
  local done="$state/kubeadm-upgraded-$1"
  shift
  if [[ -e $done ]]; then
    clear_changed kubeadm
    return 0
  fi
  if ! joined; then
    say "not joined yet (no /etc/kubernetes/kubelet.conf): skipping kubeadm $*"
    clear_changed kubeadm
    return 0
  fi
  if [[ -e $state/changed-kubeadm ]]; then
    say "kubeadm $*"
    kubeadm "$@"
    changed+=("kubeadm $*")
  else
    say "kubeadm was at its pin before this run: taking the kubeadm node step as done"
  fi
  touch "$done"
  clear_changed kubeadm
}

# Kubernetes 1.24+ with docker: the kubelet reaches docker through cri-dockerd. kubeadm wrote the old dockershim
# flags into kubeadm-flags.env on nodes that joined before; point the kubelet at cri-dockerd instead.
kubelet_runtime_endpoint() {
  local env=/var/lib/kubelet/kubeadm-flags.env
  if [[ ! -f $env ]] || grep -qF -- "--container-runtime-endpoint=$1" "$env"; then return 0; fi
  sed -i -E -e 's/ ?--(container-runtime|container-runtime-endpoint|network-plugin)=[^ "]*//g' \
    -e "s|^KUBELET_KUBEADM_ARGS=\"|&--container-runtime-endpoint=$1 |" "$env"
  touch "$state/changed-kubelet"
  changed+=("kubelet runtime endpoint $1")
}`;

/**
 * The kubeadm command a non-first node runs. Before 1.15 it had other names: `upgrade node config` on workers
 * and `upgrade node experimental-control-plane` on control-plane nodes (kubeadm 1.13 and 1.14 upgrade docs).
 */
export function kubeadmNodeArgs(versions: Versions, role: "control-plane" | "worker"): string[] {
  if (kubernetesMinorNumber(versions.kubernetes) >= 15) return ["upgrade", "node"];
  return role === "control-plane"
    ? ["upgrade", "node", "experimental-control-plane"]
    : ["upgrade", "node", "config", "--kubelet-version", `v${versions.kubernetes}`];
}

export function kubeadmLines(versions: Versions, role: "control-plane" | "worker", kubeadm: "apply" | "node"): string[] {
  const pin = kubeadmPin(versions);
  return [
    ...installLines([pin]),
    kubeadm === "apply"
      ? shellCall("kubeadm_upgrade_apply", `v${versions.kubernetes}`)
      : shellCall("kubeadm_upgrade_node", pin.version, ...kubeadmNodeArgs(versions, role)),
  ];
}

export function kubeletLines(versions: Versions): string[] {
  const socket = criSocket(versions);
  return [
    ...installLines(kubeletPins(versions)),
    ...(usesCriDockerd(versions) && socket ? [shellCall("kubelet_runtime_endpoint", socket)] : []),
    shellCall("restart_if_changed", "kubelet", "kubelet"),
    shellCall("clear_changed", "kubelet", "kubectl"),
  ];
}
