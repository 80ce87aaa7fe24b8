/**
 * `KubeClient` over @kubernetes/client-node 1.x, built from a kubeconfig document (the same one the stack's
 * Kubernetes provider uses). Node patches go out as JSON merge patches: client-node 1.x would otherwise pick the
 * first patch type of the OpenAPI spec, JSON Patch, which cannot say "remove this annotation if present".
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { hostname } from "node:os";
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  Watch,
  setHeaderOptions,
} from "@kubernetes/client-node";
import {
  describeAccess,
  KubeApiError,
  type AnyObject,
  type ServedGroup,
  type ServedResource,
  type EvictionOutcome,
  type Kind,
  type KubeClient,
  type ListResult,
  type NodeEvent,
  type ObjectOf,
  type Query,
  type ResourceAccess,
  type WatchEventType,
  type Watcher,
} from "./client";

/** Long-lived watches are cut by the server after this long and started again, as informers do. */
const WATCH_TIMEOUT_SECONDS = 300;
/** client-node 1.x sets no timeout on plain requests; one that hangs on a dead connection fails after this. */
const REQUEST_TIMEOUT_MS = 30_000;

/** `request`, or a rejection naming `what` once REQUEST_TIMEOUT_MS pass without an answer. */
async function bounded<T>(what: string, request: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from the API server within ${REQUEST_TIMEOUT_MS / 1000}s`)), REQUEST_TIMEOUT_MS);
  });
  try {
    return await Promise.race([request, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const API_PATHS: Record<Kind, { group: string; namespaced: boolean }> = {
  nodes: { group: "/api/v1", namespaced: false },
  pods: { group: "/api/v1", namespaced: true },
  replicasets: { group: "/apis/apps/v1", namespaced: true },
  deployments: { group: "/apis/apps/v1", namespaced: true },
  statefulsets: { group: "/apis/apps/v1", namespaced: true },
  daemonsets: { group: "/apis/apps/v1", namespaced: true },
  poddisruptionbudgets: { group: "/apis/policy/v1", namespaced: true },
};

export function collectionPath(kind: Kind, namespace?: string): string {
  const { group, namespaced } = API_PATHS[kind];
  return namespaced && namespace !== undefined ? `${group}/namespaces/${encodeURIComponent(namespace)}/${kind}` : `${group}/${kind}`;
}

/** The API's own words for a failed call: the `message` of the Status body when there is one. */
export function apiMessage(err: unknown): { status: number; message: string } | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const status = Number(err.code);
  const body: unknown = err.body;
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { status, message: body.trim() || `HTTP ${status}` };
    }
  }
  if (typeof parsed === "object" && parsed !== null && "message" in parsed && typeof parsed.message === "string") {
    return { status, message: parsed.message };
  }
  return { status, message: `HTTP ${status}` };
}

function rethrow(err: unknown, what: string): never {
  const api = apiMessage(err);
  if (api) throw new KubeApiError(api.status, api.message, what);
  throw err;
}

/** `/apis/apps/v1`, or `/api/v1` for the core group's `v1`. */
export const groupPath = (groupVersion: string) => (groupVersion.includes("/") ? `/apis/${groupVersion}` : `/api/${groupVersion}`);

export function clientFromKubeconfig(kubeconfig: string): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  return new ApiClient(kc);
}

export class ApiClient implements KubeClient {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly policy: PolicyV1Api;
  private readonly authorization: AuthorizationV1Api;
  private readonly watcher: Watch;
  private readonly kc: KubeConfig;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.policy = kc.makeApiClient(PolicyV1Api);
    this.authorization = kc.makeApiClient(AuthorizationV1Api);
    this.watcher = new Watch(kc);
  }

  async list<K extends Kind>(kind: K, query: Query = {}): Promise<ListResult<ObjectOf[K]>> {
    const { namespace, fieldSelector } = query;
    try {
      const list = await bounded(`list ${kind}`, this.listRaw(kind, namespace, fieldSelector));
      return { items: list.items as ObjectOf[K][], resourceVersion: list.metadata?.resourceVersion ?? "" };
    } catch (err) {
      rethrow(err, `list ${kind}${namespace ? ` in ${namespace}` : ""}`);
    }
  }

  private listRaw(kind: Kind, namespace: string | undefined, fieldSelector: string | undefined): Promise<{ items: unknown[]; metadata?: { resourceVersion?: string } }> {
    const ns = { namespace: namespace ?? "", fieldSelector };
    const all = { fieldSelector };
    switch (kind) {
      case "nodes":
        return this.core.listNode(all);
      case "pods":
        return namespace === undefined ? this.core.listPodForAllNamespaces(all) : this.core.listNamespacedPod(ns);
      case "replicasets":
        return namespace === undefined ? this.apps.listReplicaSetForAllNamespaces(all) : this.apps.listNamespacedReplicaSet(ns);
      case "deployments":
        return namespace === undefined ? this.apps.listDeploymentForAllNamespaces(all) : this.apps.listNamespacedDeployment(ns);
      case "statefulsets":
        return namespace === undefined ? this.apps.listStatefulSetForAllNamespaces(all) : this.apps.listNamespacedStatefulSet(ns);
      case "daemonsets":
        return namespace === undefined ? this.apps.listDaemonSetForAllNamespaces(all) : this.apps.listNamespacedDaemonSet(ns);
      case "poddisruptionbudgets":
        return namespace === undefined
          ? this.policy.listPodDisruptionBudgetForAllNamespaces(all)
          : this.policy.listNamespacedPodDisruptionBudget(ns);
    }
  }

  async get<K extends Kind>(kind: K, name: string, namespace?: string): Promise<ObjectOf[K] | undefined> {
    try {
      return (await bounded(`read ${kind} ${name}`, this.readRaw(kind, name, namespace ?? ""))) as ObjectOf[K];
    } catch (err) {
      if (apiMessage(err)?.status === 404) return undefined;
      rethrow(err, `read ${kind} ${namespace ? `${namespace}/` : ""}${name}`);
    }
  }

  private readRaw(kind: Kind, name: string, namespace: string): Promise<unknown> {
    switch (kind) {
      case "nodes":
        return this.core.readNode({ name });
      case "pods":
        return this.core.readNamespacedPod({ name, namespace });
      case "replicasets":
        return this.apps.readNamespacedReplicaSet({ name, namespace });
      case "deployments":
        return this.apps.readNamespacedDeployment({ name, namespace });
      case "statefulsets":
        return this.apps.readNamespacedStatefulSet({ name, namespace });
      case "daemonsets":
        return this.apps.readNamespacedDaemonSet({ name, namespace });
      case "poddisruptionbudgets":
        return this.policy.readNamespacedPodDisruptionBudget({ name, namespace });
    }
  }

  async watch<K extends Kind>(
    kind: K,
    query: Query & { resourceVersion: string },
    onEvent: (type: WatchEventType, object: ObjectOf[K]) => void,
    onClose: (err?: Error) => void,
  ): Promise<Watcher> {
    let closed = false;
    const close = (err?: Error) => {
      if (closed) return;
      closed = true;
      onClose(err);
    };
    const params = {
      resourceVersion: query.resourceVersion,
      fieldSelector: query.fieldSelector,
      timeoutSeconds: WATCH_TIMEOUT_SECONDS,
      allowWatchBookmarks: false,
    };
    const controller = await this.watcher.watch(
      collectionPath(kind, query.namespace),
      params,
      (phase: string, object: ObjectOf[K]) => {
        if (phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED") onEvent(phase, object);
        // An ERROR event (410 Gone: the resourceVersion is too old) ends this watch; the caller lists again.
        else if (phase === "ERROR") close(new Error(`watch ${kind}: ${JSON.stringify(object)}`));
      },
      (err: unknown) => close(err instanceof Error ? err : err ? new Error(String(err)) : undefined),
    );
    return {
      stop: () => {
        closed = true;
        controller.abort();
      },
    };
  }

  async patchNode(name: string, patch: object) {
    try {
      return await bounded(`patch node ${name}`, this.core.patchNode({ name, body: patch }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)));
    } catch (err) {
      rethrow(err, `patch node ${name}`);
    }
  }

  async deleteNode(name: string): Promise<boolean> {
    try {
      await bounded(`delete node ${name}`, this.core.deleteNode({ name }));
      return true;
    } catch (err) {
      if (apiMessage(err)?.status === 404) return false;
      rethrow(err, `delete node ${name}`);
    }
  }

  async mayDo(access: ResourceAccess): Promise<boolean> {
    const what = `may ${access.verb} ${describeAccess(access)}`;
    try {
      const review = await bounded(
        what,
        this.authorization.createSelfSubjectAccessReview({
          body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { ...access } } },
        }),
      );
      return review.status?.allowed === true;
    } catch (err) {
      rethrow(err, what);
    }
  }

  async recordNodeEvent(node: string, event: NodeEvent): Promise<void> {
    const now = new Date();
    try {
      await bounded(
        `record event ${event.reason} on node ${node}`,
        this.core.createNamespacedEvent({
          namespace: "default",
          body: {
            metadata: { generateName: `${node}.`, namespace: "default" },
            // A Node's events carry its name as the uid, as the kubelet's do: `kubectl describe node` looks them up so.
            involvedObject: { apiVersion: "v1", kind: "Node", name: node, uid: node },
            type: event.type,
            reason: event.reason,
            message: event.message,
            source: { component: "kubeherd" },
            reportingComponent: "kubeherd",
            reportingInstance: hostname(),
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        }),
      );
    } catch (err) {
      rethrow(err, `record event ${event.reason} on node ${node}`);
    }
  }

  async servedGroups(): Promise<ServedGroup[]> {
    const list = JSON.parse(await this.getPath("/apis", "discover the API groups")) as {
      groups?: { name: string; versions?: { version: string }[]; preferredVersion?: { version: string } }[];
    };
    return (list.groups ?? []).map((g) => {
      const versions = (g.versions ?? []).map((v) => v.version);
      const preferred = g.preferredVersion?.version;
      return { name: g.name, versions: preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions };
    });
  }

  async servedResources(groupVersion: string): Promise<ServedResource[]> {
    let text: string;
    try {
      text = await this.getPath(groupPath(groupVersion), `discover ${groupVersion}`);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return [];
      throw err;
    }
    const list = JSON.parse(text) as { resources?: ServedResource[] };
    return (list.resources ?? [])
      .filter((r) => !r.name.includes("/"))
      .map((r) => ({ name: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] }));
  }

  async listResource(groupVersion: string, resource: string): Promise<ListResult<AnyObject>> {
    const what = `list ${resource} (${groupVersion})`;
    const list = JSON.parse(await this.getPath(`${groupPath(groupVersion)}/${encodeURIComponent(resource)}`, what)) as {
      items?: AnyObject[];
      metadata?: { resourceVersion?: string };
    };
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  readMetrics(): Promise<string> {
    return this.getPath("/metrics", "read the API server's /metrics", "text/plain");
  }

  /** A GET of any path of the API server, with the kubeconfig's credentials (as client-node's own health checks do). */
  private async getPath(path: string, what: string, accept = "application/json"): Promise<string> {
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error(`${what}: the kubeconfig's current context names no cluster with a server`);
    const url = new URL(path, server);
    const options: RequestOptions = { method: "GET", headers: { Accept: accept } };
    await this.kc.applyToHTTPSOptions(options);
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    return bounded(
      what,
      new Promise<string>((resolve, reject) => {
        const req = send(url, options, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(body);
            let message = body.trim().split("\n")[0] || `HTTP ${status}`;
            try {
              const parsed = JSON.parse(body) as { message?: unknown };
              if (typeof parsed.message === "string") message = parsed.message;
            } catch {
              // not a Status body: the first line of the text is the message
            }
            reject(new KubeApiError(status, message, what));
          });
        });
        req.on("error", reject);
        req.end();
      }),
    );
  }

  async evictPod(namespace: string, name: string): Promise<EvictionOutcome> {
    try {
      await bounded(
        `evict ${namespace}/${name}`,
        this.core.createNamespacedPodEviction({
          name,
          namespace,
          body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
        }),
      );
      return { result: "evicted" };
    } catch (err) {
      const api = apiMessage(err);
      if (!api) return { result: "failed", status: 0, message: err instanceof Error ? err.message : String(err) };
      if (api.status === 404) return { result: "gone" };
      if (api.status === 429) return { result: "blocked", message: api.message };
      return { result: "failed", status: api.status, message: api.message };
    }
  }
}
