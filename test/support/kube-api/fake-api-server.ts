/**
 * An in-process Kubernetes API server on node:http (127.0.0.1, a free port) over a FakeCluster, spoken to by the
 * real @kubernetes/client-node through `kubeconfig`. It serves what the node operations use, as the real API
 * server does: lists with resourceVersion and field selectors, watches (`?watch=true`, one JSON event a line,
 * replayed from a resourceVersion, ended after `timeoutSeconds`), Node patches in the three JSON patch types,
 * Node deletion, graceful pod deletion, the policy/v1 Eviction subresource, and creation (POST to a collection)
 * for the scenarios that build a cluster through the API. `fail()` scripts errors. For the removed-API pre-flight it
 * also serves discovery (`/apis`, `/apis/GROUP/VERSION`) of the typed kinds above and of any group/version a test
 * adds with `serve()` (with its objects, managedFields and all, listed at `/apis/GROUP/VERSION/RESOURCE`), and the
 * API server's `/metrics` text (`metrics`; `metricsForbidden` answers 403 as RBAC does).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AnyObject as StoredObject, Kind, ResourceAccess, ServedResource } from "../../../components/kube/client";
import { FakeCluster, status, type AnyObject, type ApiStatus, type ClusterEvent, type Timing } from "./fake-cluster";
import { applyPatch } from "./patches";

const KINDS: Record<string, { kind: Kind; listKind: string; apiVersion: string }> = {
  "/api/v1/nodes": { kind: "nodes", listKind: "NodeList", apiVersion: "v1" },
  "/api/v1/pods": { kind: "pods", listKind: "PodList", apiVersion: "v1" },
  "/apis/apps/v1/replicasets": { kind: "replicasets", listKind: "ReplicaSetList", apiVersion: "apps/v1" },
  "/apis/apps/v1/deployments": { kind: "deployments", listKind: "DeploymentList", apiVersion: "apps/v1" },
  "/apis/apps/v1/statefulsets": { kind: "statefulsets", listKind: "StatefulSetList", apiVersion: "apps/v1" },
  "/apis/apps/v1/daemonsets": { kind: "daemonsets", listKind: "DaemonSetList", apiVersion: "apps/v1" },
  "/apis/policy/v1/poddisruptionbudgets": { kind: "poddisruptionbudgets", listKind: "PodDisruptionBudgetList", apiVersion: "policy/v1" },
};

/** `/api/v1/namespaces/web/pods/web-0/eviction` → group path, namespace, name, subresource. */
const ROUTE = /^(\/api\/v1|\/apis\/[a-z.]+\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/;

export interface Fault {
  method: string;
  /** Matched against the request path. */
  path: RegExp;
  status: number;
  message: string;
  /** How many requests fail; Infinity for all. */
  times: number;
}

/** An Event as kubeherd posts it (the fields the tests read). */
export interface AnyEvent {
  metadata?: { name?: string; namespace?: string };
  involvedObject?: { kind?: string; name?: string; uid?: string };
  type?: string;
  reason?: string;
  message?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
}

export class FakeApiServer {
  readonly cluster: FakeCluster;
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  /** core/v1 Events posted (in any namespace), in order. */
  readonly events: AnyEvent[] = [];
  /** What a SelfSubjectAccessReview is denied, as `verb resource` (`create pods/eviction`, `get secrets in kube-system`). */
  readonly denied = new Set<string>();
  /** Runs before each request is answered, to script a change of the world at that exact moment. */
  beforeRequest?: (request: RecordedRequest) => void;
  /** Runs once a request's body is read, before it is answered: what a test observes of the requests made. */
  onRequest?: (request: RecordedRequest & { body: string }) => void;
  private server?: Server;
  private readonly streams = new Set<ServerResponse>();
  /** Group/versions served besides the typed kinds', by `group/version`: their resources and objects. */
  private readonly extra = new Map<string, { resource: ServedResource; items: StoredObject[] }[]>();
  /** The text `GET /metrics` answers (Prometheus exposition format). */
  metrics = "# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested\n# TYPE apiserver_requested_deprecated_apis gauge\n";
  /** `GET /metrics` answers 403, as for an identity without get on the nonResourceURL. */
  metricsForbidden = false;

  constructor(timing: Partial<Timing> = {}) {
    this.cluster = new FakeCluster(timing);
  }

  static async start(timing: Partial<Timing> = {}): Promise<FakeApiServer> {
    const api = new FakeApiServer(timing);
    await api.listen();
    return api;
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    return new Promise((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
  }

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** A kubeconfig document for this server, as the stack's `kubeherd:kubeconfig` secret would hold one. */
  get kubeconfig(): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: fake",
      "  cluster:",
      `    server: ${this.url}`,
      // client-node refuses plain http unless TLS verification is off; there is no TLS to verify here.
      "    insecure-skip-tls-verify: true",
      "users:",
      "- name: admin",
      "  user:",
      "    token: fake-token",
      "contexts:",
      "- name: fake",
      "  context:",
      "    cluster: fake",
      "    user: admin",
      "current-context: fake",
      "",
    ].join("\n");
  }

  /**
   * Serves `resource` (kind, namespaced) at `groupVersion` with these objects, as discovery and lists show them.
   * Without objects, the group/version serves the kind with none stored.
   */
  serve(groupVersion: string, resource: { name: string; kind: string; namespaced?: boolean }, items: StoredObject[] = []): void {
    const list = this.extra.get(groupVersion) ?? [];
    list.push({ resource: { name: resource.name, kind: resource.kind, namespaced: resource.namespaced ?? true, verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }, items });
    this.extra.set(groupVersion, list);
  }

  /** Discovery of every group/version: the typed kinds' and those added by `serve()`. */
  private servedGroupVersions(): Map<string, ServedResource[]> {
    const out = new Map<string, ServedResource[]>();
    for (const [path, info] of Object.entries(KINDS)) {
      if (!path.startsWith("/apis/")) continue;
      const gv = path.slice("/apis/".length, path.lastIndexOf("/"));
      const kind = info.listKind.replace(/List$/, "");
      out.set(gv, [...(out.get(gv) ?? []), { name: info.kind, kind, namespaced: true, verbs: ["get", "list", "watch"] }]);
    }
    for (const [gv, entries] of this.extra) out.set(gv, [...(out.get(gv) ?? []), ...entries.map((e) => e.resource)]);
    return out;
  }

  private discovery(path: string): ApiStatus | undefined {
    const served = this.servedGroupVersions();
    if (path === "/apis") {
      const groups = new Map<string, string[]>();
      for (const gv of served.keys()) {
        const [group, version] = gv.split("/");
        groups.set(group, [...(groups.get(group) ?? []), version]);
      }
      const entries = [...groups.entries()].map(([name, versions]) => {
        // The preferred version is the most stable one: v1 over v1beta…, as the API server orders them.
        const sorted = [...versions].sort((a, b) => stability(b) - stability(a));
        return { name, versions: sorted.map((v) => ({ groupVersion: `${name}/${v}`, version: v })), preferredVersion: { groupVersion: `${name}/${sorted[0]}`, version: sorted[0] } };
      });
      return { code: 200, body: { kind: "APIGroupList", apiVersion: "v1", groups: entries } };
    }
    const gvMatch = /^\/apis\/([a-z0-9.-]+\/v[0-9a-z]+)$/.exec(path);
    if (gvMatch) {
      const resources = served.get(gvMatch[1]);
      if (!resources) return status(404, "NotFound", "the server could not find the requested resource");
      return { code: 200, body: { kind: "APIResourceList", apiVersion: "v1", groupVersion: gvMatch[1], resources: resources.map((r) => ({ ...r, singularName: "" })) } };
    }
    const listMatch = /^\/apis\/([a-z0-9.-]+\/v[0-9a-z]+)\/([a-z]+)$/.exec(path);
    const entry = listMatch && this.extra.get(listMatch[1])?.find((e) => e.resource.name === listMatch[2]);
    if (listMatch && entry) {
      return { code: 200, body: { kind: `${entry.resource.kind}List`, apiVersion: listMatch[1], metadata: { resourceVersion: String(this.cluster.resourceVersion) }, items: entry.items } };
    }
    return undefined;
  }

  /** The next `times` requests matching `method` and `path` fail with `status` and `message`. */
  fail(method: string, path: RegExp, statusCode: number, message: string, times = Infinity) {
    this.faults.push({ method, path, status: statusCode, message, times });
  }

  async close(): Promise<void> {
    this.cluster.close();
    for (const s of this.streams) s.destroy();
    await new Promise<void>((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://localhost");
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? "GET";
    const recorded: RecordedRequest = { method, path: url.pathname, query, contentType: req.headers["content-type"] };
    this.requests.push(recorded);
    this.beforeRequest?.(recorded);
    const body = await readBody(req);
    this.onRequest?.({ ...recorded, body });
    const fault = this.faults.find((f) => f.times > 0 && f.method === method && f.path.test(url.pathname));
    if (fault) {
      fault.times--;
      return send(res, status(fault.status, fault.status === 500 ? "InternalError" : "Unknown", fault.message));
    }
    // Every namespace exists here: creating one (as a scenario does on a real API) only answers as the API would.
    if (method === "POST" && url.pathname === "/api/v1/namespaces") {
      const ns = JSON.parse(body) as object;
      return send(res, { code: 201, body: { apiVersion: "v1", kind: "Namespace", ...ns } });
    }
    if (method === "POST" && url.pathname === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
      const review = JSON.parse(body) as { spec?: { resourceAttributes?: ResourceAccess } };
      const a = review.spec?.resourceAttributes;
      const key = a ? `${a.verb} ${a.subresource ? `${a.resource}/${a.subresource}` : a.resource}${a.namespace ? ` in ${a.namespace}` : ""}` : "";
      return send(res, { code: 201, body: { ...review, status: { allowed: a !== undefined && !this.denied.has(key) } } });
    }
    const eventsIn = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(url.pathname);
    if (method === "POST" && eventsIn) {
      const event = { ...(JSON.parse(body) as AnyEvent), metadata: { name: `event-${this.events.length + 1}`, namespace: eventsIn[1] } };
      this.events.push(event);
      return send(res, { code: 201, body: { apiVersion: "v1", kind: "Event", ...event } });
    }
    if (method === "GET" && url.pathname === "/metrics") {
      if (this.metricsForbidden) return send(res, status(403, "Forbidden", 'forbidden: User "ci" cannot get path "/metrics"'));
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      return res.end(this.metrics);
    }
    const discovered = method === "GET" ? this.discovery(url.pathname) : undefined;
    if (discovered) return send(res, discovered);
    const route = ROUTE.exec(url.pathname);
    const info = route && KINDS[`${route[1]}/${route[3]}`];
    if (!route || !info) return send(res, status(404, "NotFound", `the server could not find the requested resource (${url.pathname})`));
    const [, , namespace, , name, sub] = route;
    try {
      if (!name && method === "GET" && query.watch === "true") return this.watch(res, info.kind, namespace, query);
      if (!name && method === "GET") return this.list(res, info, namespace, query.fieldSelector);
      if (!name && method === "POST") {
        const object = JSON.parse(body) as AnyObject;
        if (namespace) object.metadata = { ...object.metadata, namespace };
        return send(res, this.cluster.create(info.kind, object));
      }
      if (name && sub === "eviction" && method === "POST" && info.kind === "pods") return send(res, this.cluster.evict(namespace ?? "default", name));
      if (name && !sub && method === "GET") {
        const o = this.cluster.get(info.kind, name, namespace);
        return send(res, o ? { code: 200, body: o } : notFound(info.kind, name));
      }
      if (name && !sub && method === "PATCH" && info.kind === "nodes") return send(res, this.patchNode(name, req.headers["content-type"] ?? "", body));
      if (name && sub === "status" && method === "PATCH" && info.kind === "nodes") return send(res, this.patchNode(name, req.headers["content-type"] ?? "", body, true));
      if (name && !sub && method === "DELETE" && info.kind === "nodes") {
        const node = this.cluster.get("nodes", name);
        return send(res, node && this.cluster.remove("nodes", name) ? { code: 200, body: node } : notFound("nodes", name));
      }
      if (name && !sub && method === "DELETE" && info.kind === "pods") return send(res, this.cluster.deletePod(namespace ?? "default", name));
      return send(res, status(405, "MethodNotAllowed", `${method} is not supported on ${url.pathname} by this test server`));
    } catch (err) {
      return send(res, status(500, "InternalError", err instanceof Error ? err.message : String(err)));
    }
  }

  private list(res: ServerResponse, info: (typeof KINDS)[string], namespace: string | undefined, fieldSelector: string | undefined) {
    const items = this.cluster.list(info.kind, namespace).filter((o) => matchesFields(o, fieldSelector));
    send(res, { code: 200, body: { kind: info.listKind, apiVersion: info.apiVersion, metadata: { resourceVersion: String(this.cluster.resourceVersion) }, items } });
  }

  /** A Node patch; through the status subresource only the patch's `status` is kept, as the real server does. */
  private patchNode(name: string, contentType: string, body: string, statusOnly = false): ApiStatus {
    const node = this.cluster.get("nodes", name);
    if (!node) return notFound("nodes", name);
    const patched = applyPatch(node, contentType.split(";")[0].trim(), JSON.parse(body));
    if ("error" in patched) return status(415, "UnsupportedMediaType", patched.error);
    const value = statusOnly ? { ...node, status: patched.value.status } : patched.value;
    return { code: 200, body: this.cluster.put("nodes", value) };
  }

  private watch(res: ServerResponse, kind: Kind, namespace: string | undefined, query: Record<string, string>) {
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    this.streams.add(res);
    const from = Number(query.resourceVersion ?? this.cluster.resourceVersion);
    const wanted = (e: ClusterEvent) =>
      e.kind === kind && (namespace === undefined || e.object.metadata?.namespace === namespace) && matchesFields(e.object, query.fieldSelector);
    const write = (e: ClusterEvent) => {
      if (wanted(e)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    };
    for (const e of this.cluster.eventsSince(from)) write(e);
    const unsubscribe = this.cluster.subscribe(write);
    const timeout = setTimeout(() => res.end(), Number(query.timeoutSeconds ?? 1800) * 1000);
    res.on("close", () => {
      clearTimeout(timeout);
      unsubscribe();
      this.streams.delete(res);
    });
  }
}

/** Field selectors as the API server supports them for these kinds: `a=b` terms joined by commas. */
function matchesFields(o: AnyObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [path, value] = term.split("=");
    const actual =
      path === "metadata.name" ? o.metadata?.name : path === "metadata.namespace" ? o.metadata?.namespace : path === "spec.nodeName" ? (o as { spec?: { nodeName?: string } }).spec?.nodeName : undefined;
    return (actual ?? "") === value;
  });
}

/** v1 > v1beta2 > v1beta1 > v1alpha1, as the API server prefers versions. */
function stability(version: string): number {
  const m = /^v([0-9]+)(?:(alpha|beta)([0-9]+))?$/.exec(version);
  if (!m) return 0;
  const major = Number(m[1]) * 1000;
  return m[2] === undefined ? major + 999 : major + (m[2] === "beta" ? 500 : 0) + Number(m[3]);
}

function notFound(kind: Kind, name: string): ApiStatus {
  return status(404, "NotFound", `${kind} "${name}" not found`, { details: { name, kind } });
}

function send(res: ServerResponse, answer: ApiStatus) {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
