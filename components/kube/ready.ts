/**
 * wait-ready: the node has registered, reports Ready=True and runs the pinned kubelet and runtime. Node changes are
 * watched, so a node that turns Ready is seen as soon as the API server has it, not on the next round of a poll.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { KubeClient } from "./client";
import { Deadline, elapsed, type Clock } from "./clock";
import { describeIdentity, findNode, reportOf, runsRuntime, shortName, type NodeIdentity } from "./nodes";
import { watchUntil } from "./observe";

export interface ReadyOptions {
  /** The pinned kubelet release, `1.30.2` (a leading `v` is accepted). Omitted: any version will do. */
  kubeletVersion?: string;
  /**
   * The pinned runtime (`containerd` `1.7.25`). After a runtime-only bump the node stays Ready with the pinned
   * kubelet throughout, so only the runtime version its kubelet reports shows that it runs the new one. Omitted: any.
   */
  runtime?: { name: "docker" | "containerd"; version: string };
  timeoutSeconds: number;
  log: (message: string) => void;
}

export class NotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotReadyError";
  }
}

/** What the node looked like the last time it was seen, in words; undefined when it is what we wait for. */
export function shortfall(node: V1Node | undefined, kubeletVersion: string | undefined, runtime?: ReadyOptions["runtime"]): string | undefined {
  if (!node) return "never registered with the API server";
  const report = reportOf(node);
  const expected = kubeletVersion === undefined ? undefined : `v${kubeletVersion.replace(/^v/, "")}`;
  const wrongKubelet = expected !== undefined && report.kubeletVersion !== expected;
  if (!report.ready) {
    return `${report.readiness}${wrongKubelet ? `, kubelet ${report.kubeletVersion ?? "unknown"} (expected ${expected})` : ""}`;
  }
  if (wrongKubelet) return `Ready but runs kubelet ${report.kubeletVersion ?? "unknown"}, expected ${expected}`;
  if (runtime && !runsRuntime(report, runtime)) {
    const runs = report.runtime ? `${report.runtime.name} ${report.runtime.version}` : "no runtime it reports";
    return `Ready but runs ${runs}, expected ${runtime.name} ${runtime.version}`;
  }
  return undefined;
}

/** Resolves with the node once it is Ready with the pinned kubelet and runtime; throws with what was last seen otherwise. */
export async function waitReady(client: KubeClient, clock: Clock, id: NodeIdentity, options: ReadyOptions): Promise<V1Node> {
  const start = clock.now();
  const deadline = new Deadline(clock, options.timeoutSeconds);
  let lastSeen: string | undefined;
  let lastError: unknown;
  const say = (node: V1Node | undefined, what: string) => {
    if (what === lastSeen) return;
    lastSeen = what;
    const name = node?.metadata?.name ? `node ${shortName(node.metadata.name)}` : describeIdentity(id);
    options.log(`${name}: ${what}`);
  };
  const query = id.nodeName ? { fieldSelector: `metadata.name=${id.nodeName}` } : {};
  const node = await watchUntil(
    client,
    clock,
    { kind: "nodes", query },
    (objects) => {
      const found = findNode(objects.values(), id);
      const missing = shortfall(found, options.kubeletVersion, options.runtime);
      if (missing === undefined) return found;
      say(found, missing);
      return undefined;
    },
    deadline,
    { onError: (err) => (lastError = err) },
  );
  if (node) {
    options.log(`node ${shortName(node.metadata?.name ?? "")}: Ready with kubelet ${reportOf(node).kubeletVersion} after ${elapsed(clock, start)}`);
    return node;
  }
  const seen = lastSeen ?? (lastError ? `the API could not be read (${String(lastError)})` : "never registered with the API server");
  throw new NotReadyError(`${describeIdentity(id)}: not ready after ${options.timeoutSeconds}s: last seen ${seen}`);
}
