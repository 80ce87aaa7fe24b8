/**
 * The Kubernetes part of a converge script, in the order of FACTS.md §3: kubeadm first, then the kubeadm step
 * (`upgrade apply` on the first control-plane node, `upgrade node` elsewhere), then kubelet and kubectl with a
 * kubelet restart only when it changed.
 */
import { rolloutSchema, type Versions } from "../config/schema";
import { installLines } from "./apt";
import { kubeadmPin, kubeletPins, usesCriDockerd } from "../versions/pins";
import { criSocket } from "./runtime";
import { shellCall, shellSource } from "./quote";
import { kubernetesMinorNumber } from "../versions/repositories";

export const KUBEADM_FUNCTIONS = shellSource`
joined() { [[ -f /etc/kubernetes/kubelet.conf ]]; }

# First control-plane node: upgrade the control plane when its API server is not yet at the target version. Any
# further arguments are kubeadm flags (rollout.ignorePreflightErrors).
kubeadm_upgrade_apply() {
  local want="$1" manifest=/etc/kubernetes/manifests/kube-apiserver.yaml have=""
  shift
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
      control_plane_preflight "$want"
      etcd_snapshot "\${have:-unknown}" "$want"
      say "kubeadm upgrade apply -y $want\${*:+ $*} (the API server runs \${have:-an unknown version})"
      kubeadm upgrade apply -y "$want" "$@"
      changed+=("kubeadm upgrade apply $want")
    fi
  fi
  clear_changed kubeadm
}

# rollout.etcdSnapshot of the control-plane pool and the runtime's CRI socket (for crictl), for kubeadm_upgrade_apply.
etcd_snapshot_dir=""
etcd_snapshot_keep=3
cri_endpoint=""
upgrade_apply_settings() {
  etcd_snapshot_dir="$1"
  etcd_snapshot_keep="$2"
  cri_endpoint="\${3:-}"
}

kubectl_admin() { kubectl --kubeconfig /etc/kubernetes/admin.conf "$@"; }

# kubectl's default table (NAME STATUS ROLES AGE VERSION) of the control-plane nodes; before 1.20 they were "master".
control_plane_nodes() {
  local out
  out="$(kubectl_admin get nodes -l node-role.kubernetes.io/control-plane --no-headers)" || return 1
  if [[ -z $out ]]; then out="$(kubectl_admin get nodes -l node-role.kubernetes.io/master --no-headers)" || return 1; fi
  printf '%s\n' "$out"
}

# Stacked etcd: a static pod on this node (kubeadm's default). External etcd is the operator's to check and back up.
stacked_etcd() { [[ -f /etc/kubernetes/manifests/etcd.yaml ]]; }

# etcdctl against this node's etcd member, with the health-check client certificate kubeadm made: the host's etcdctl
# when there is one, else the one in the etcd container (crictl exec).
etcd_ctl() {
  local tls=(--endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt
    --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key)
  local id crictl=(crictl)
  if command -v etcdctl >/dev/null 2>&1; then
    ETCDCTL_API=3 etcdctl "\${tls[@]}" "$@"
    return
  fi
  if [[ -n $cri_endpoint ]]; then crictl+=(--runtime-endpoint "$cri_endpoint"); fi
  id="$("\${crictl[@]}" ps --quiet --name '^etcd$' --state running 2>/dev/null | head -n 1)" || true
  if [[ -z $id ]]; then
    say "no etcdctl on this node and no running etcd container to run it in"
    return 1
  fi
  "\${crictl[@]}" exec "$id" etcdctl "\${tls[@]}" "$@"
}

# etcd's data directory on this node (the etcd pod mounts it at the same path): from its static pod manifest.
etcd_data_dir() {
  local dir
  dir="$(sed -n -E 's/^[[:space:]]*-[[:space:]]*--data-dir=([^"[:space:]]+).*$/\1/p' /etc/kubernetes/manifests/etcd.yaml | head -n 1)"
  printf '%s\n' "\${dir:-/var/lib/etcd}"
}

# Before kubeadm upgrade apply: every control-plane node Ready and on one kubelet version, and etcd healthy.
control_plane_preflight() {
  local want="$1" nodes name status version count=0 problems=() versions=() distinct
  if [[ ! -f /etc/kubernetes/admin.conf ]]; then
    die "not upgrading the control plane to $want: no /etc/kubernetes/admin.conf on this node, so its health cannot be checked first"
  fi
  if ! nodes="$(control_plane_nodes)" || [[ -z $nodes ]]; then
    die "not upgrading the control plane to $want: the control-plane nodes cannot be listed with /etc/kubernetes/admin.conf"
  fi
  while read -r name status _ _ version _; do
    [[ -n $name ]] || continue
    count=$((count + 1))
    versions+=("$version")
    case ",$status," in
      *,Ready,*) ;;
      *) problems+=("node $name is $status") ;;
    esac
  done <<<"$nodes"
  distinct="$(printf '%s\n' "\${versions[@]}" | sort -u | paste -sd ' ' -)"
  if [[ $distinct == *" "* ]]; then problems+=("the control-plane nodes run different kubelet versions ($distinct)"); fi
  if stacked_etcd && ! etcd_ctl endpoint health >/dev/null; then problems+=("etcd on this node is not healthy (etcdctl endpoint health)"); fi
  if ((\${#problems[@]} > 0)); then
    local list
    printf -v list '%s; ' "\${problems[@]}"
    die "not upgrading the control plane to $want: it is not healthy: \${list%; }"
  fi
  say "control plane healthy before the upgrade: $count control-plane node(s) Ready on $distinct$(stacked_etcd && printf ', etcd healthy')"
}

# Stacked etcd: a snapshot before the upgrade into $etcd_snapshot_dir, the newest $etcd_snapshot_keep kept.
etcd_snapshot() {
  local from="\${1//[^A-Za-z0-9.]/_}" want="\${2//[^A-Za-z0-9.]/_}" dir="$etcd_snapshot_dir" file part data old
  if ! stacked_etcd; then
    say "etcd is not a static pod on this node (external etcd): no snapshot taken here; back it up before the upgrade"
    return 0
  fi
  [[ -n $dir ]] || die "no etcd snapshot directory set (rollout.etcdSnapshot.dir)"
  mkdir -p "$dir"
  chmod 700 "$dir"
  file="$dir/kubeherd-etcd-$(date -u +%Y%m%dT%H%M%SZ)-$from-to-$want.db"
  part="$file.part"
  if command -v etcdctl >/dev/null 2>&1; then
    etcd_ctl snapshot save "$part" >/dev/null
  else
    # the etcdctl of the etcd container writes where the pod mounts etcd's data directory from the host
    data="$(etcd_data_dir)"
    etcd_ctl snapshot save "$data/kubeherd-snapshot.part" >/dev/null
    mv -f "$data/kubeherd-snapshot.part" "$part"
  fi
  [[ -s $part ]] || die "etcdctl snapshot save left no snapshot at $part"
  mv -f "$part" "$file"
  chmod 600 "$file"
  say "etcd snapshot saved: $file ($(stat -c %s "$file") bytes); README \"The way back\" says how to restore it"
  mapfile -t old < <(find "$dir" -maxdepth 1 -type f -name 'kubeherd-etcd-*.db' -printf '%f\n' | sort -r | tail -n "+$((etcd_snapshot_keep + 1))")
  if ((\${#old[@]} > 0)); then
    (cd "$dir" && rm -f -- "\${old[@]}")
    say "removed \${#old[@]} older etcd snapshot(s), keeping the newest $etcd_snapshot_keep"
  fi
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

/** Where the first control-plane node saves etcd before `kubeadm upgrade apply` (`rollout.etcdSnapshot`). */
export interface EtcdSnapshotSettings {
  dir: string;
  keep: number;
}

export function kubeadmLines(
  versions: Versions,
  role: "control-plane" | "worker",
  kubeadm: "apply" | "node",
  etcdSnapshot?: EtcdSnapshotSettings,
  ignorePreflightErrors: readonly string[] = [],
): string[] {
  const pin = kubeadmPin(versions);
  if (kubeadm === "node") return [...installLines([pin]), shellCall("kubeadm_upgrade_node", pin.version, ...kubeadmNodeArgs(versions, role))];
  const snapshot = etcdSnapshot ?? rolloutSchema.parse({}).etcdSnapshot;
  return [
    ...installLines([pin]),
    shellCall("upgrade_apply_settings", snapshot.dir, String(snapshot.keep), criSocket(versions) ?? ""),
    shellCall("kubeadm_upgrade_apply", `v${versions.kubernetes}`, ...(ignorePreflightErrors.length > 0 ? [`--ignore-preflight-errors=${ignorePreflightErrors.join(",")}`] : [])),
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
