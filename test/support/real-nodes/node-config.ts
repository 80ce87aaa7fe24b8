/**
 * The files that make a node root a real Kubernetes node, as plain text from plain data: containerd's config, the
 * CNI bridge, the kubelet service (what the kubelet package's unit and kubeadm's drop-in run, restarted as systemd
 * restarts it), and the kubeadm configurations for init and join.
 */

export const CRI_SOCKET = "unix:///run/containerd/containerd.sock";

/**
 * What kubeadm's preflight fails on these nodes for reasons of the machine, not of the cluster, each ignored by
 * name. None so far: this host has no swap, br_netfilter is loaded (a new network namespace starts with
 * bridge-nf-call-iptables = 1), the node's ip_forward is set in its own namespace, and /proc/config.gz is readable.
 */
export const IGNORED_PREFLIGHT: readonly string[] = [];

/**
 * containerd's CRI plugin with the tier's pause image as sandbox image, runc under cgroupfs. `restrict_oom_score_adj`:
 * this machine's capability bounding set lacks CAP_SYS_RESOURCE (even for root, `CapBnd: 000001fffeffffff`), so no
 * process may lower its oom_score_adj below 0 and runc fails every pod sandbox with "failed to update
 * /proc/self/oom_score_adj: Permission denied" (kubelet asks -998 for sandboxes); restricted, containerd clamps the
 * score to its own (0), as it does under rootless. The kubelet's own -999 fails with a logged error and nothing else.
 */
export function containerdConfig(pauseImage: string): string {
  return `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
`;
}

/** A bridge on the node with its own pod range (`10.244.<index>.0/24`), host-local addresses. */
export function cniConfig(index: number): string {
  return `${JSON.stringify(
    {
      cniVersion: "0.4.0",
      name: "kubeherd",
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet: `10.244.${index}.0/24` }]], routes: [{ dst: "0.0.0.0/0" }] },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/** Where the node's service manager keeps each unit's state (pid, stop mark); on the node's own tmpfs /run. */
export const UNIT_STATE = "/run/kubeherd-units";

/**
 * The kubelet's ExecStart as systemd runs it on a kubeadm node: the kubelet package's unit (`ExecStart=/usr/bin/kubelet`)
 * with kubeadm's 10-kubeadm.conf drop-in (its environment files and flags). Before kubeadm has written
 * /var/lib/kubelet/config.yaml the kubelet exits at once, as on a real node, and the service manager starts it again.
 */
export function kubeletService(): string {
  return `#!/bin/sh
# kubeherd real node: kubelet.service's ExecStart with 10-kubeadm.conf
KUBELET_KUBECONFIG_ARGS="--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
KUBELET_CONFIG_ARGS="--config=/var/lib/kubelet/config.yaml"
[ -f /var/lib/kubelet/config.yaml ] && [ -x /usr/bin/kubelet ] || exit 1
KUBELET_KUBEADM_ARGS=""
KUBELET_EXTRA_ARGS=""
# shellcheck source=/dev/null
[ -f /var/lib/kubelet/kubeadm-flags.env ] && . /var/lib/kubelet/kubeadm-flags.env
# shellcheck source=/dev/null
[ -f /etc/default/kubelet ] && . /etc/default/kubelet
# shellcheck disable=SC2086
exec /usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
}

/**
 * The node's service manager, one per unit (`Restart=always`): starts the unit's command, records its pid, and starts
 * it again `RESTART_SECONDS` after it exits, unless the unit was stopped (`systemctl stop`). The node's systemctl
 * (realSystemctl) acts on the processes it records.
 */
export function superviseScript(stateDir = UNIT_STATE): string {
  return `#!/bin/sh
# kubeherd real node: one unit under Restart=always. Usage: supervise UNIT RESTART_SECONDS COMMAND...
unit="$1"; delay="$2"; shift 2
dir='${stateDir}'
mkdir -p "$dir"
: >"$dir/$unit.unit"
while :; do
  if [ ! -e "$dir/$unit.stopped" ]; then
    echo "$unit.service: starting $(date -u +%FT%TZ)"
    "$@" &
    echo "$!" > "$dir/$unit.pid"
    wait "$!"
    echo "$unit.service: exited $? $(date -u +%FT%TZ)"
    rm -f "$dir/$unit.pid"
  fi
  sleep "$delay"
done
`;
}

/**
 * The body of the node's `systemctl` (wrapped as the harness's stand-ins are, so its calls are in the node's call log):
 * systemctl's interface for the units the node's service manager runs (`restart` stops the running process and
 * returns once a new one runs, `stop`, `start`, `is-active`, `is-enabled`, `status`), systemd-resolved active
 * (the node's boot writes its resolv.conf), every other unit absent. `daemon-reload` has no units to read: the
 * service manager runs what the packages' unit files say (kubeletService), not the files.
 */
export function realSystemctl(stateDir = UNIT_STATE): string {
  return `
dir='${stateDir}'
verb="\${1:-}"
unit="\${2:-}"
unit="\${unit%.service}"
alive() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }
supervised() { [ -f "$dir/$1.unit" ]; }
wait_for() {
  # waits up to 60 s for a condition on unit $2
  i=0
  while [ $i -lt 600 ]; do
    if "$1" "$2"; then return 0; fi
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}
new_pid() { alive "$1" && [ "$(cat "$dir/$1.pid")" != "$old" ]; }
gone() { ! alive "$1"; }
case "$verb" in
  daemon-reload) exit 0 ;;
  is-active)
    if [ "$unit" = systemd-resolved ] || { supervised "$unit" && alive "$unit"; }; then echo active; exit 0; fi
    if supervised "$unit" && [ ! -e "$dir/$unit.stopped" ]; then echo activating; exit 3; fi
    echo inactive; exit 3 ;;
  is-enabled)
    if supervised "$unit" || [ "$unit" = systemd-resolved ]; then echo enabled; exit 0; fi
    echo "Failed to get unit file state for $unit.service: No such file or directory" >&2; exit 1 ;;
  status)
    if supervised "$unit"; then
      echo "* $unit.service"
      echo "     Loaded: loaded"
      if alive "$unit"; then echo "     Active: active (running)"; echo "   Main PID: $(cat "$dir/$unit.pid")"; exit 0; fi
      echo "     Active: inactive (dead)"; exit 3
    fi
    echo "Unit $unit.service could not be found." >&2; exit 4 ;;
  enable|disable|mask|unmask) exit 0 ;;
  start|restart|stop)
    if ! supervised "$unit"; then echo "Failed to $verb $unit.service: Unit $unit.service not found." >&2; exit 5; fi ;;
  *) echo "systemctl: $verb is not supported on this node" >&2; exit 1 ;;
esac
old=""
if [ -f "$dir/$unit.pid" ]; then old="$(cat "$dir/$unit.pid")"; fi
case "$verb" in
  stop)
    touch "$dir/$unit.stopped"
    if [ -n "$old" ]; then kill "$old" 2>/dev/null || true; fi
    wait_for gone "$unit" || { echo "Job for $unit.service timed out stopping." >&2; exit 1; } ;;
  start)
    rm -f "$dir/$unit.stopped"
    if ! alive "$unit"; then wait_for alive "$unit" || { echo "Job for $unit.service failed." >&2; exit 1; }; fi ;;
  restart)
    rm -f "$dir/$unit.stopped"
    if [ -n "$old" ]; then kill "$old" 2>/dev/null || true; fi
    wait_for new_pid "$unit" || { echo "Job for $unit.service failed because the control process exited with error code." >&2; exit 1; } ;;
esac
exit 0`;
}

export interface NodeRegistration {
  name: string;
  address: string;
  /** The kubelet's own cgroup root on this shared host (`--cgroup-root`), one per node. */
  cgroupRoot: string;
}

function registration(n: NodeRegistration): string {
  return `nodeRegistration:
  name: ${n.name}
  criSocket: ${CRI_SOCKET}
  imagePullPolicy: Never
  kubeletExtraArgs:
  - name: node-ip
    value: ${n.address}
  - name: cgroup-root
    value: ${n.cgroupRoot}
${IGNORED_PREFLIGHT.length === 0 ? "" : `  ignorePreflightErrors:\n${IGNORED_PREFLIGHT.map((p) => `  - ${p}`).join("\n")}`}`;
}

/** The kubelet settings of every node (kubeadm stores them in the kubelet-config ConfigMap). */
const KUBELET_CONFIGURATION = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
# never write the host's kernel settings: the node's /proc/sys shows the values the kubelet wants (real-node.ts)
protectKernelDefaults: true
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
`;

export interface InitOptions extends NodeRegistration {
  version: string;
  imageRepository: string;
  token: string;
  /**
   * Deploy kubeadm's CoreDNS addon (its ConfigMap, Deployment and Service) although no CoreDNS image is built here:
   * the cluster then looks to `kubeadm upgrade` as a default cluster does (its CoreDNS preflight reads them).
   * @default false: the addon/coredns phase is skipped
   */
  coreDns?: boolean;
}

export function initConfiguration(o: InitOptions): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: ${o.token}
  ttl: 2h
localAPIEndpoint:
  advertiseAddress: ${o.address}
  bindPort: 6443
${registration(o)}
skipPhases:
${o.coreDns ? "" : "- addon/coredns\n"}- addon/kube-proxy
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${o.version}
imageRepository: ${o.imageRepository}
controlPlaneEndpoint: ${o.address}:6443
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
apiServer:
  certSANs:
  - ${o.address}
---
${KUBELET_CONFIGURATION}`;
}

export interface JoinOptions extends NodeRegistration {
  apiServer: string;
  token: string;
  caCertHash: string;
}

export function joinConfiguration(o: JoinOptions): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: ${o.apiServer}
    token: ${o.token}
    caCertHashes:
    - ${o.caCertHash}
${registration(o)}
`;
}
