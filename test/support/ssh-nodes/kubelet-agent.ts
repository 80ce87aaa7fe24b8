/**
 * The reporting half of a stand-in kubelet. A node root's stand-in `systemctl restart kubelet` records what a real
 * kubelet would report when it comes up (host-standins.ts: the installed kubelet, kubeadm's runtime endpoint, the
 * runtime packages); this agent, on the host, turns each new record into the Node's status through the real API
 * (the status subresource, as a kubelet does): `nodeInfo.kubeletVersion` and `containerRuntimeVersion`, Ready.
 *
 * A kubelet that cannot start goes NotReady and stays so: a record of a failed start (the node's `breakKubelet`
 * switch), or a runtime endpoint the installed kubelet cannot use (no endpoint or dockershim's on a kubelet 1.24+,
 * which has no dockershim; an endpoint whose runtime is not installed). The agent then takes the node away from
 * KWOK (its annotation removed, so nothing heartbeats for it any more) and sets Ready=False with the reason. A
 * later good start gives it back to KWOK and Ready again.
 *
 * A good start while the node's `delayReady` switch is on (KUBELET_NOT_READY_YET in the root) is reported as a
 * kubelet that runs its new version but is not Ready yet (NotReady, reason `KubeletNotReady`, away from KWOK); it
 * turns Ready when the test ends the delay, as a real kubelet does once its runtime check passes.
 */
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1NodeCondition } from "@kubernetes/client-node";
import { KUBELET_NOT_READY_YET, KUBELET_REPORT } from "../node-root/host-standins";
import type { NodeRoot } from "../node-root/node-root";

/** KWOK manages the Nodes that carry this annotation (the control plane's KWOK runs with this selector). */
export const KWOK_ANNOTATION = "kwok.x-k8s.io/node";
const POLL_MS = 100;

/** One (re)start of the stand-in kubelet, as recorded in the root. */
export interface KubeletRecord {
  readonly seq: number;
  readonly state: "running" | "failed";
  readonly kubelet: string;
  readonly endpoint: string;
  readonly "docker-ce": string;
  readonly "containerd.io": string;
  readonly "cri-dockerd": string;
}

/** What the Node says after a record: Ready with its versions, or NotReady with why. */
export type KubeletStatus =
  | { readonly ready: true; readonly kubeletVersion: string; readonly containerRuntimeVersion: string }
  | { readonly ready: false; readonly reason: string; readonly kubeletVersion?: string; readonly containerRuntimeVersion?: string };

/** A kubelet that started fine but is not Ready yet: its versions reported, Ready=False. */
export function notReadyYet(status: KubeletStatus): KubeletStatus {
  if (!status.ready) return status;
  return { ready: false, reason: "KubeletNotReady: container runtime status check may not have completed yet", kubeletVersion: status.kubeletVersion, containerRuntimeVersion: status.containerRuntimeVersion };
}

export function parseKubeletRecord(text: string): KubeletRecord | undefined {
  const f = Object.fromEntries(text.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  const seq = Number(f.seq);
  if (!Number.isInteger(seq) || (f.state !== "running" && f.state !== "failed")) return undefined;
  return {
    seq,
    state: f.state,
    kubelet: f.kubelet ?? "",
    endpoint: f.endpoint ?? "",
    "docker-ce": f["docker-ce"] ?? "",
    "containerd.io": f["containerd.io"] ?? "",
    "cri-dockerd": f["cri-dockerd"] ?? "",
  };
}

/** The release in an apt version as the kubelet prints it: `18.06.2~ce~3-0~ubuntu` → 18.6.2, `5:27.3.1-1~…` → 27.3.1. */
export function releaseOf(aptVersion: string): string | undefined {
  const m = /^(?:[0-9]+:)?([0-9]+)\.([0-9]+)\.([0-9]+)/.exec(aptVersion);
  return m ? [m[1], m[2], m[3]].map(Number).join(".") : undefined;
}

/** What a real kubelet would report after this start. */
export function statusOf(r: KubeletRecord): KubeletStatus {
  if (r.state === "failed") return { ready: false, reason: "KubeletNotStarted: kubelet.service failed to start" };
  const kubelet = releaseOf(r.kubelet);
  if (!kubelet) return { ready: false, reason: "KubeletNotInstalled: no kubelet package is installed" };
  const minor = Number(kubelet.split(".")[1]);
  const endpoint = r.endpoint;
  const docker = releaseOf(r["docker-ce"]);
  const containerd = releaseOf(r["containerd.io"]);
  if (endpoint.includes("containerd.sock")) {
    return containerd
      ? { ready: true, kubeletVersion: `v${kubelet}`, containerRuntimeVersion: `containerd://${containerd}` }
      : { ready: false, reason: `ContainerRuntimeDown: ${endpoint}: containerd.io is not installed` };
  }
  if (endpoint.includes("cri-dockerd.sock")) {
    if (!releaseOf(r["cri-dockerd"])) return { ready: false, reason: `ContainerRuntimeDown: ${endpoint}: cri-dockerd is not installed` };
    return docker
      ? { ready: true, kubeletVersion: `v${kubelet}`, containerRuntimeVersion: `docker://${docker}` }
      : { ready: false, reason: `ContainerRuntimeDown: ${endpoint}: docker-ce is not installed` };
  }
  if (endpoint === "" || endpoint.includes("dockershim.sock")) {
    // dockershim lived in the kubelet until 1.23; a kubelet 1.24+ has no default runtime to fall back on
    if (minor >= 24) return { ready: false, reason: `ContainerRuntimeDown: kubelet v${kubelet} has no dockershim and no --container-runtime-endpoint names another runtime` };
    if (docker) return { ready: true, kubeletVersion: `v${kubelet}`, containerRuntimeVersion: `docker://${docker}` };
    return { ready: false, reason: "ContainerRuntimeDown: dockershim needs docker-ce, which is not installed" };
  }
  return { ready: false, reason: `ContainerRuntimeDown: unknown runtime endpoint ${endpoint}` };
}

export interface KubeletAgentOptions {
  /** The admin kubeconfig of the API server (the real control plane's, or the in-process one's in tests). */
  readonly kubeconfig: string;
  /** The Node this kubelet reports as. */
  readonly nodeName: string;
  /** The node whose stand-in kubelet this agent reports for (an SshNode, or anything with its root). */
  readonly node: { readonly root: NodeRoot };
  /** Called with each status the agent puts on the Node, and with errors it met (it keeps going). */
  readonly log?: (line: string) => void;
}

export interface KubeletAgent {
  /** Stops watching the root. */
  stop(): void;
  /** The status of the last record the agent applied to the Node, if any. */
  last(): KubeletStatus | undefined;
  /** Resolves once the record with sequence number `seq` or later has been applied (bounded by `timeoutMs`). */
  applied(seq: number, timeoutMs?: number): Promise<KubeletStatus>;
}

/** What a kubelet reports as `nodeInfo.osImage`: the root's os-release PRETTY_NAME (`Ubuntu 18.04.6 LTS`). */
export function osImageOf(root: { exists(p: string): boolean; read(p: string): string }): string {
  const text = root.exists("/etc/os-release") ? root.read("/etc/os-release") : "";
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m ? m[1] : "";
}

export async function startKubeletAgent(opts: KubeletAgentOptions): Promise<KubeletAgent> {
  const kc = new KubeConfig();
  kc.loadFromString(opts.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  const log = opts.log ?? (() => undefined);
  let appliedSeq = 0;
  /** The last record was applied while the delay switch was on (as not Ready yet). */
  let appliedDelayed = false;
  let status: KubeletStatus | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function apply(record: KubeletRecord, delayed: boolean): Promise<void> {
    const next = delayed ? notReadyYet(statusOf(record)) : statusOf(record);
    const node = await core.readNode({ name: opts.nodeName });
    const now = new Date();
    const others = (node.status?.conditions ?? []).filter((c) => c.type !== "Ready");
    const ready = (node.status?.conditions ?? []).find((c) => c.type === "Ready");
    const condition = (ok: boolean, reason: string, message: string): V1NodeCondition => ({
      type: "Ready",
      status: ok ? "True" : "False",
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: ready?.status === (ok ? "True" : "False") && ready.lastTransitionTime ? ready.lastTransitionTime : now,
    });
    if (next.ready) {
      // back to KWOK, which keeps it Ready and its lease renewed from now on
      if (node.metadata?.annotations?.[KWOK_ANNOTATION] !== "fake") {
        await core.patchNode({ name: opts.nodeName, body: { metadata: { annotations: { [KWOK_ANNOTATION]: "fake" } } } }, merge);
      }
      await core.patchNodeStatus(
        {
          name: opts.nodeName,
          body: {
            status: {
              nodeInfo: { kubeletVersion: next.kubeletVersion, containerRuntimeVersion: next.containerRuntimeVersion, osImage: osImageOf(opts.node.root) },
              conditions: [...others, condition(true, "KubeletReady", "kubelet is posting ready status")],
            },
          },
        },
        merge,
      );
      log(`node ${opts.nodeName}: kubelet ${next.kubeletVersion} on ${next.containerRuntimeVersion}, Ready`);
    } else {
      // away from KWOK first, so that it does not set Ready again
      if (node.metadata?.annotations?.[KWOK_ANNOTATION] !== undefined) {
        await core.patchNode({ name: opts.nodeName, body: { metadata: { annotations: { [KWOK_ANNOTATION]: null } } } }, merge);
      }
      const [reason, ...message] = next.reason.split(": ");
      const nodeInfo = next.kubeletVersion ? { nodeInfo: { kubeletVersion: next.kubeletVersion, containerRuntimeVersion: next.containerRuntimeVersion, osImage: osImageOf(opts.node.root) } } : {};
      await core.patchNodeStatus(
        { name: opts.nodeName, body: { status: { ...nodeInfo, conditions: [...others, condition(false, reason ?? "KubeletNotReady", message.join(": "))] } } },
        merge,
      );
      log(`node ${opts.nodeName}: NotReady (${next.reason})`);
    }
    status = next;
  }

  let busy = false;
  async function poll(): Promise<void> {
    if (busy || stopped) return;
    busy = true;
    try {
      const record = opts.node.root.exists(KUBELET_REPORT) ? parseKubeletRecord(opts.node.root.read(KUBELET_REPORT)) : undefined;
      const delayed = opts.node.root.exists(KUBELET_NOT_READY_YET);
      // A new start, or the delay of the last one ended.
      if (record && (record.seq > appliedSeq || (record.seq === appliedSeq && appliedDelayed && !delayed))) {
        await apply(record, delayed);
        appliedSeq = record.seq;
        appliedDelayed = delayed;
      }
    } catch (e) {
      log(`node ${opts.nodeName}: kubelet agent: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      busy = false;
    }
  }

  await poll();
  timer = setInterval(() => void poll(), POLL_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    last: () => status,
    async applied(seq, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (appliedSeq < seq || status === undefined) {
        if (Date.now() > deadline) throw new Error(`node ${opts.nodeName}: kubelet record ${seq} not applied within ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, POLL_MS / 2));
        await poll();
      }
      return status;
    },
  };
}
