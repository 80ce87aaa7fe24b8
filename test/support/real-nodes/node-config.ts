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

/**
 * The kubelet as systemd runs it on a kubeadm node: the kubelet package's unit (`ExecStart=/usr/bin/kubelet`,
 * `Restart=always`) with kubeadm's 10-kubeadm.conf drop-in (its environment files and flags), restarted 1 s after it
 * exits (the unit says 10 s). Before kubeadm has written /var/lib/kubelet/config.yaml the kubelet exits at once, as on
 * a real node; this loop keeps trying, as systemd does.
 */
export function kubeletService(): string {
  return `#!/bin/sh
# kubeherd real node: kubelet.service with 10-kubeadm.conf, Restart=always
KUBELET_KUBECONFIG_ARGS="--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
KUBELET_CONFIG_ARGS="--config=/var/lib/kubelet/config.yaml"
while :; do
  if [ -f /var/lib/kubelet/config.yaml ]; then
    KUBELET_KUBEADM_ARGS=""
    KUBELET_EXTRA_ARGS=""
    # shellcheck source=/dev/null
    [ -f /var/lib/kubelet/kubeadm-flags.env ] && . /var/lib/kubelet/kubeadm-flags.env
    # shellcheck source=/dev/null
    [ -f /etc/default/kubelet ] && . /etc/default/kubelet
    echo "kubelet.service: starting $(date -u +%FT%TZ)"
    # shellcheck disable=SC2086
    /usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
    echo "kubelet.service: exited $? $(date -u +%FT%TZ)"
  fi
  sleep 1
done
`;
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
- addon/coredns
- addon/kube-proxy
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
