/**
 * The KWOK configuration of the e2e control plane: which nodes KWOK plays the kubelet of, and the Stages (KWOK's
 * lifecycle rules, https://kwok.sigs.k8s.io/docs/user/stages-configuration/) that make those nodes behave like
 * kubelets where the project's drain and wait-ready can tell the difference:
 *
 * - a pod bound to a node becomes Running and Ready at once (no image pulls here);
 * - a pod being deleted is gone `deletionGracePeriodSeconds` after KWOK sees the deletion, as a kubelet that stops
 *   the containers within the grace period and then removes the pod. KWOK's own defaults remove it at once and
 *   empty its finalizers; a kubelet does neither. (Not `durationFrom: .metadata.deletionTimestamp`: the API
 *   serializes that with whole seconds, so a 2 s grace would end after 1 to 2 s.)
 * - a node turns Ready with its capacity, addresses and `nodeInfo` kept as they are (a stand-in kubelet or a test
 *   reports the kubelet and runtime versions through the status subresource; KWOK must not overwrite them), and
 *   beats its heartbeat; its Lease is renewed by KWOK's lease controller (`nodeLeaseDurationSeconds`).
 * - a node annotated `kubeherd.test/kwok-frozen` is left alone (a test can make it NotReady and have it stay so).
 */
import { stringify } from "yaml";

export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const KWOK_NODE_ANNOTATION_VALUE = "fake";
export const KWOK_FROZEN_ANNOTATION = "kubeherd.test/kwok-frozen";

/** Seconds a Node's Lease lasts; KWOK renews it every quarter of that, as the kubelet does. */
export const NODE_LEASE_SECONDS = 40;
/** How often a Node's status conditions get a fresh lastHeartbeatTime (the Lease is what keeps it Ready). */
const HEARTBEAT_MS = 30_000;

type Expression = { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] };

const READY = '.status.conditions.[] | select( .type == "Ready" ) | .status';
const notFrozen: Expression = { key: `.metadata.annotations["${KWOK_FROZEN_ANNOTATION}"]`, operator: "DoesNotExist" };

function stage(name: string, kind: "Pod" | "Node", matchExpressions: Expression[], spec: Record<string, unknown>) {
  return {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "Stage",
    metadata: { name },
    spec: { resourceRef: { apiGroup: "v1", kind }, selector: { matchExpressions }, ...spec },
  };
}

/** A status patch (strategic merge: lists with a merge key, like conditions, merge by `type`). */
const statusPatch = (template: string) => ({ patches: [{ subresource: "status", root: "status", template }] });

const podRunning = stage(
  "kubeherd-pod-running",
  "Pod",
  [
    { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
    { key: ".status.phase", operator: "NotIn", values: ["Running", "Succeeded", "Failed"] },
  ],
  {
    next: statusPatch(`{{ $now := Now }}
phase: Running
startTime: {{ $now | Quote }}
hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
conditions:
{{ range list "PodReadyToStartContainers" "Initialized" "ContainersReady" "Ready" }}
- type: {{ . }}
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: ""
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
`),
  },
);

const podTerminated = stage(
  "kubeherd-pod-terminated",
  "Pod",
  [{ key: ".metadata.deletionTimestamp", operator: "Exists" }],
  {
    // "2s": durationFrom parses a string result as a Go duration.
    delay: { durationFrom: { jq: { expression: '(.metadata.deletionGracePeriodSeconds // 0 | tostring) + "s"' } } },
    next: { delete: true },
  },
);

const nodeReady = stage("kubeherd-node-ready", "Node", [{ key: READY, operator: "NotIn", values: ["True"] }, notFrozen], {
  next: statusPatch(`{{ $now := Now }}
{{ $info := or .status.nodeInfo dict }}
phase: Running
conditions:
- type: Ready
  status: "True"
  reason: KubeletReady
  message: kubelet is posting ready status
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ range list "MemoryPressure" "DiskPressure" "PIDPressure" }}
- type: {{ . }}
  status: "False"
  reason: KubeletHasSufficient{{ trimSuffix "Pressure" . }}
  message: kubelet has no {{ . }}
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
{{ if not .status.addresses }}
addresses:
- type: InternalIP
  address: {{ NodeIP | Quote }}
- type: Hostname
  address: {{ .metadata.name | Quote }}
{{ end }}
{{ if not .status.allocatable }}
allocatable: { cpu: "4", memory: 16Gi, pods: "110" }
capacity: { cpu: "4", memory: 16Gi, pods: "110" }
{{ end }}
nodeInfo:
  architecture: {{ or $info.architecture "amd64" | Quote }}
  operatingSystem: {{ or $info.operatingSystem "linux" | Quote }}
  kubeletVersion: {{ or $info.kubeletVersion "v0.0.0-kwok" | Quote }}
  kubeProxyVersion: {{ or $info.kubeProxyVersion "" | Quote }}
  containerRuntimeVersion: {{ or $info.containerRuntimeVersion "kwok://v0.7.0" | Quote }}
  kernelVersion: {{ or $info.kernelVersion "" | Quote }}
  osImage: {{ or $info.osImage "" | Quote }}
  machineID: {{ or $info.machineID "" | Quote }}
  systemUUID: {{ or $info.systemUUID "" | Quote }}
  bootID: {{ or $info.bootID "" | Quote }}
`),
});

const nodeHeartbeat = stage("kubeherd-node-heartbeat", "Node", [{ key: READY, operator: "In", values: ["True"] }, notFrozen], {
  delay: { durationMilliseconds: HEARTBEAT_MS, jitterDurationMilliseconds: HEARTBEAT_MS + 5_000 },
  // Only the heartbeat times: strategic merge keeps every other field of each condition, and nodeInfo untouched.
  next: statusPatch(`{{ $now := Now }}
conditions:
{{ range .status.conditions }}
- type: {{ .type | Quote }}
  lastHeartbeatTime: {{ $now | Quote }}
{{ end }}
`),
});

export const KWOK_STAGES = [podRunning, podTerminated, nodeReady, nodeHeartbeat];

/** kwok's `--config` file: its options and the Stages above (with local Stages, KWOK uses none of its defaults). */
export function kwokConfigYaml(): string {
  const configuration = {
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    kind: "KwokConfiguration",
    options: {
      manageAllNodes: false,
      manageNodesWithAnnotationSelector: `${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
      nodeLeaseDurationSeconds: NODE_LEASE_SECONDS,
      // Addresses nothing routes to: no test traffic may leave loopback, and none is sent to pods or nodes.
      cidr: "10.244.0.0/16",
      nodeIP: "127.0.0.1",
      // A drain evicts all of a node's pods at once; four workers (the default) would finish them in a queue.
      podPlayStageParallelism: 32,
      nodePlayStageParallelism: 8,
      nodeLeaseParallelism: 8,
      enableDebuggingHandlers: false,
      enableProfilingHandler: false,
    },
  };
  return [configuration, ...KWOK_STAGES].map((d) => stringify(d)).join("---\n");
}
