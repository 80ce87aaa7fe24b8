/**
 * The narrow view of the Kubernetes API the node operations need. `api-client.ts` implements it over
 * @kubernetes/client-node; the operations know nothing else about the API, so a test can hand them any server.
 */
import type {
  V1DaemonSet,
  V1Deployment,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1ReplicaSet,
  V1StatefulSet,
} from "@kubernetes/client-node";

export interface ObjectOf {
  nodes: V1Node;
  pods: V1Pod;
  replicasets: V1ReplicaSet;
  deployments: V1Deployment;
  statefulsets: V1StatefulSet;
  daemonsets: V1DaemonSet;
  poddisruptionbudgets: V1PodDisruptionBudget;
}
export type Kind = keyof ObjectOf;

export interface Query {
  /** Omitted: all namespaces (or a cluster-scoped kind). */
  namespace?: string;
  /** A field selector such as `spec.nodeName=ip-10-0-1-7` or `metadata.name=web`. */
  fieldSelector?: string;
}

export interface ListResult<T> {
  items: T[];
  /** The list's resourceVersion: a watch started from it misses no change. */
  resourceVersion: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface Watcher {
  stop(): void;
}

/** What one policy/v1 Eviction request came to (kubectl drain's reading of the status codes, FACTS.md §4). */
export type EvictionOutcome =
  | { result: "evicted" }
  | { result: "gone" }
  | { result: "blocked"; message: string }
  | { result: "failed"; status: number; message: string };

export interface KubeClient {
  list<K extends Kind>(kind: K, query?: Query): Promise<ListResult<ObjectOf[K]>>;
  /** Undefined when the object does not exist. */
  get<K extends Kind>(kind: K, name: string, namespace?: string): Promise<ObjectOf[K] | undefined>;
  /**
   * Streams changes after `resourceVersion`. `onClose` is called once when the stream ends for any reason (the
   * server's timeout, a network error, 410 Gone); the caller lists again and starts a new watch.
   */
  watch<K extends Kind>(
    kind: K,
    query: Query & { resourceVersion: string },
    onEvent: (type: WatchEventType, object: ObjectOf[K]) => void,
    onClose: (err?: Error) => void,
  ): Promise<Watcher>;
  /** A JSON merge patch (RFC 7386) of a Node; `null` removes a field. */
  patchNode(name: string, patch: object): Promise<V1Node>;
  /** False when the Node was already gone. */
  deleteNode(name: string): Promise<boolean>;
  evictPod(namespace: string, name: string): Promise<EvictionOutcome>;
  /** Whether this identity may do `access` (a SelfSubjectAccessReview: the API server's own answer). */
  mayDo(access: ResourceAccess): Promise<boolean>;
  /** Records a core/v1 Event on a Node (`kubectl describe node` shows it). */
  recordNodeEvent(node: string, event: NodeEvent): Promise<void>;
  /** The API groups the server serves (discovery, `GET /apis`), each with its versions, the preferred first. */
  servedGroups(): Promise<ServedGroup[]>;
  /** The resources one group/version serves (`GET /apis/apps/v1`); empty when it is not served. */
  servedResources(groupVersion: string): Promise<ServedResource[]>;
  /** Every object of any resource, across namespaces (`GET /apis/networking.k8s.io/v1/ingresses`). */
  listResource(groupVersion: string, resource: string): Promise<ListResult<AnyObject>>;
  /** The API server's own metrics (`GET /metrics`, Prometheus text); a KubeApiError (403) when the identity may not. */
  readMetrics(): Promise<string>;
}

/** An API group as discovery gives it. */
export interface ServedGroup {
  name: string;
  /** `v1`, … with the preferred version first. */
  versions: string[];
}

/** One resource of a group/version as discovery gives it (subresources are left out). */
export interface ServedResource {
  /** `ingresses`. */
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/** An object of any kind, as far as kubeherd reads one generically. */
export interface AnyObject {
  kind?: string;
  apiVersion?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    annotations?: Record<string, string>;
    managedFields?: { manager?: string; apiVersion?: string }[];
  };
}

/** One verb on one resource, as RBAC and a SelfSubjectAccessReview name it. */
export interface ResourceAccess {
  verb: string;
  /** "" for the core group. */
  group: string;
  resource: string;
  subresource?: string;
  /** Omitted: cluster-wide (or every namespace). */
  namespace?: string;
}

/** `pods/eviction in kube-system`, `deployments (apps)`: how a refusal names what was not allowed. */
export function describeAccess(access: ResourceAccess): string {
  const resource = access.subresource ? `${access.resource}/${access.subresource}` : access.resource;
  const group = access.group === "" ? "" : ` (${access.group})`;
  return `${resource}${group}${access.namespace ? ` in ${access.namespace}` : ""}`;
}

export interface NodeEvent {
  type: "Normal" | "Warning";
  /** UpperCamelCase, as Kubernetes reasons are: `KubeherdCordoned`. */
  reason: string;
  message: string;
}

/** A failed API call, carrying the API's own message (the `message` of its Status body) and HTTP status. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly apiMessage: string,
    what: string,
  ) {
    super(`${what}: ${apiMessage} (HTTP ${status})`);
    this.name = "KubeApiError";
  }
}
