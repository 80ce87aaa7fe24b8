/**
 * Nodes whose kubelet KWOK plays (kwok-stages.ts): created through the API as a kubelet registers itself, with the
 * kubelet and runtime versions it reports, then handed to KWOK by its annotation. Returns once the Node is Ready.
 */
import { CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from "./kwok-stages";

export interface KwokNodeOptions {
  name: string;
  /** What `status.nodeInfo.kubeletVersion` says, e.g. "v1.34.2". */
  kubeletVersion: string;
  /** @default "containerd://1.7.24" */
  containerRuntimeVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** e.g. "aws:///eu-west-1a/i-0123456789abcdef0" */
  providerID?: string;
  /** @default 110, the kubelet's default maxPods */
  allocatablePods?: number;
  /** Seconds to wait for Ready. @default 60 */
  readyTimeoutSeconds?: number;
}

function coreApi(kubeconfigOrClient: string | KubeConfig | CoreV1Api): CoreV1Api {
  if (kubeconfigOrClient instanceof CoreV1Api) return kubeconfigOrClient;
  let kc = kubeconfigOrClient;
  if (typeof kc === "string") {
    kc = new KubeConfig();
    kc.loadFromString(kubeconfigOrClient as string);
  }
  return kc.makeApiClient(CoreV1Api);
}

export function isReady(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The Node object a kubelet would register, marked for KWOK. */
export function kwokNode(options: KwokNodeOptions): V1Node {
  const pods = String(options.allocatablePods ?? 110);
  const resources = { cpu: "4", memory: "16Gi", "ephemeral-storage": "100Gi", pods };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: options.name,
      labels: {
        "kubernetes.io/hostname": options.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        ...options.labels,
      },
      annotations: { ...options.annotations, [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE },
    },
    spec: options.providerID ? { providerID: options.providerID } : {},
    status: {
      capacity: resources,
      allocatable: resources,
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        kubeletVersion: options.kubeletVersion,
        kubeProxyVersion: "",
        containerRuntimeVersion: options.containerRuntimeVersion ?? "containerd://1.7.24",
        kernelVersion: "",
        osImage: "",
        machineID: "",
        systemUUID: "",
        bootID: "",
      },
    },
  };
}

/** Creates the Node and waits until KWOK has made it Ready; returns it as it then is. */
export async function registerKwokNode(kubeconfigOrClient: string | KubeConfig | CoreV1Api, options: KwokNodeOptions): Promise<V1Node> {
  const core = coreApi(kubeconfigOrClient);
  await core.createNode({ body: kwokNode(options) });
  const seconds = options.readyTimeoutSeconds ?? 60;
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const node = await core.readNode({ name: options.name });
    if (isReady(node)) return node;
    if (Date.now() > deadline) {
      throw new Error(`node ${options.name}: not Ready within ${seconds} s of its registration (is KWOK running?); conditions: ${JSON.stringify(node.status?.conditions ?? [])}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
