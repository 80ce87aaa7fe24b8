/**
 * How the offline commands reach a cluster when asked to (`plan --live`, `status`): a kubeconfig from `--kubeconfig`
 * or `KUBECONFIG`, a client that can only read, and one line for each way that fails (exit 2, never a stack trace).
 */
import { delimiter } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ApiClient } from "../components/kube/api-client";
import { KubeApiError, type KubeClient } from "../components/kube/client";
import { readOnly } from "../components/kube/read-only";

export interface ClusterAccess {
  client: KubeClient;
  /** The kubeconfig as loaded, for the few calls the client does not model (recover's look at a Secret). */
  kubeConfig: KubeConfig;
  /** The API server's URL, for messages. */
  server: string;
}

/** The kinds the commands read, for the RBAC hint (README: "The live preview and status"). */
export const READ_KINDS = "nodes, pods, poddisruptionbudgets, replicasets, deployments and statefulsets";

/** `context`: a context of the kubeconfig other than its current one (kubectl's `--context`); `writes`: a client that
 *  may write (only `npm run recover`, which drains and uncordons). */
export function openCluster(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env, context?: string, writes = false): ClusterAccess | { error: string } {
  const file = kubeconfig ?? env.KUBECONFIG;
  if (!file) return { error: "no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG" };
  const kc = new KubeConfig();
  try {
    // KUBECONFIG may list several files, merged as kubectl merges them: the first file's current context wins.
    const files = kubeconfig ? [kubeconfig] : file.split(delimiter).filter(Boolean);
    kc.loadFromFile(files[0]);
    for (const more of files.slice(1)) {
      const next = new KubeConfig();
      next.loadFromFile(more);
      kc.mergeConfig(next, true);
    }
  } catch (e) {
    return { error: `${file}: not a usable kubeconfig: ${firstLine(e)}` };
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) return { error: `${file}: no context ${context} (it has: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})` };
    kc.setCurrentContext(context);
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) return { error: `${file}: its current context names no cluster with a server` };
  return { client: writes ? new ApiClient(kc) : readOnly(new ApiClient(kc)), kubeConfig: kc, server };
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** One line for a failed read: no rights, or no API at all. */
export function describeFailure(err: unknown, server: string): string {
  if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
    return `${server}: ${err.message}; the kubeconfig needs get, list and watch on ${READ_KINDS} (README: the kubeherd-preview ClusterRole)`;
  }
  if (err instanceof KubeApiError) return `${server}: ${err.message}`;
  const cause = (err as { cause?: unknown })?.cause;
  return `cannot reach the Kubernetes API at ${server}: ${firstLine(err)}${cause ? ` (${firstLine(cause)})` : ""}`;
}
