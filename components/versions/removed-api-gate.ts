/**
 * The removed-API pre-flight's decision (issue 18 item 3): given the control plane's transition, what the cluster
 * was found to use (objects written through a removed version, clients that asked for one) and what the stack
 * accepts, is the bump `blocked`? A pure function of those lists and the table (./removed-apis.ts): `plan --live`
 * (components/kube/removed-api-scan.ts reads the lists) and the first control-plane node's drain hook ask it alike,
 * so an `up` cannot cross a removal the preview would block.
 */
import { kubernetesMinor } from "./repositories";
import { REMOVED_APIS, removalsCrossed, type DeprecatedApiRequest, type RemovedApi, type RemovedApiUse } from "./removed-apis";

/** `rollout.acceptRemovedApis` of the first control-plane pool: everything, nothing, or these group/versions. */
export type RemovedApiAcceptance = boolean | readonly string[];

/** The config key that accepts, for messages. */
export const ACCEPT_KEY = "rollout.acceptRemovedApis";
/** The pull request label the workflow accepts the same way (.github/workflows/kubeherd.yml). */
export const ACCEPT_LABEL = "kubeherd/accept-removed-apis";

/** The control plane's minors before and after the bump: `{from: "1.24", to: "1.26"}`. */
export interface ControlPlaneTransition {
  from: string;
  to: string;
}

/** The transition between two releases or minors (`1.24.17` → `1.26.3`), as minors. */
export function controlPlaneTransition(from: string, to: string): ControlPlaneTransition {
  return { from: kubernetesMinor(from), to: kubernetesMinor(to) };
}

/** Whether the metric could be read: `forbidden` when the kubeconfig may not get /metrics (said, not an error). */
export type MetricsReading = "read" | "forbidden" | "not-checked";

export interface RemovedApiFindings {
  /** Objects written through a removed version (removedApiUses over the scanned kinds). */
  objects: readonly RemovedApiUse[];
  /** Clients that requested a removed version since the API server started (requestedRemovedApis). */
  requests: readonly DeprecatedApiRequest[];
  metrics: MetricsReading;
  /** Why /metrics was not read, in the server's words. */
  metricsNote?: string;
}

export type RemovedApiVerdictName = "none-crossed" | "clear" | "accepted" | "blocked";

export interface RemovedApiVerdict {
  transition: ControlPlaneTransition;
  verdict: RemovedApiVerdictName;
  /** The removals the bump crosses, `group/version (kinds) removed in 1.25`. */
  crossed: readonly RemovedApi[];
  objects: readonly (RemovedApiUse & { accepted: boolean })[];
  requests: readonly (DeprecatedApiRequest & { accepted: boolean })[];
  metrics: MetricsReading;
  metricsNote?: string;
  /** One line: what blocks (or was accepted), or that nothing uses a removed version. */
  summary: string;
}

const accepts = (acceptance: RemovedApiAcceptance, apiVersion: string) => acceptance === true || (Array.isArray(acceptance) && acceptance.includes(apiVersion));

/** `Ingress shop/web (extensions/v1beta1, removed in 1.22)`. */
export const describeUse = (u: RemovedApiUse) => `${u.object} (${u.apiVersion}, removed in ${u.removedIn})`;
/** `clients requested policy/v1beta1 podsecuritypolicies (removed in 1.25)`. */
export const describeRequest = (r: DeprecatedApiRequest) => `${r.apiVersion} ${r.resource} (removed in ${r.removedIn || "?"})`;

/** The first `n` of `items`, and `and K more` when there are more. */
export function firstFew(items: readonly string[], n = 3): string {
  return items.length <= n ? items.join(", ") : `${items.slice(0, n).join(", ")} and ${items.length - n} more`;
}

export function removedApiVerdict(transition: ControlPlaneTransition, findings: RemovedApiFindings, acceptance: RemovedApiAcceptance): RemovedApiVerdict {
  const crossed = removalsCrossed(transition.from, transition.to);
  // By group/version and release: storage.k8s.io/v1beta1 lost StorageClass in 1.22 and CSIStorageCapacity in 1.27.
  const inCrossed = (apiVersion: string, removedIn: string) => crossed.some((x) => x.apiVersion === apiVersion && (removedIn === "" || x.removedIn === removedIn));
  const objects = findings.objects.filter((o) => inCrossed(o.apiVersion, o.removedIn)).map((o) => ({ ...o, accepted: accepts(acceptance, o.apiVersion) }));
  const requests = findings.requests.filter((r) => inCrossed(r.apiVersion, r.removedIn)).map((r) => ({ ...r, accepted: accepts(acceptance, r.apiVersion) }));
  const open = [...objects.filter((o) => !o.accepted).map(describeUse), ...requests.filter((r) => !r.accepted).map((r) => `clients requested ${describeRequest(r)}`)];
  const found = objects.length + requests.length;
  const to = `${transition.from} → ${transition.to}`;
  const base = { transition, crossed, objects, requests, metrics: findings.metrics, ...(findings.metricsNote ? { metricsNote: findings.metricsNote } : {}) };
  if (crossed.length === 0) return { ...base, verdict: "none-crossed", summary: `The control plane's ${to} removes no API version.` };
  if (found === 0) {
    return { ...base, verdict: "clear", summary: `Nothing in the cluster uses an API version ${to} removes (${crossed.length} checked${findings.metrics === "read" ? ", objects and the API server's requests" : ", objects only"}).` };
  }
  if (open.length === 0) return { ...base, verdict: "accepted", summary: `${found} use(s) of API versions ${to} removes, accepted by ${ACCEPT_KEY}.` };
  return {
    ...base,
    verdict: "blocked",
    summary: `blocked: ${to} removes API versions the cluster still uses: ${firstFew(open)}; migrate them, or accept with ${ACCEPT_KEY} (true or the group/versions) or the pull request label ${ACCEPT_LABEL}`,
  };
}

/**
 * The drain hook's one-line refusal before `kubeadm upgrade apply`, or undefined when the bump may go on: the same
 * verdict as the preview's, worded for `pulumi up`.
 */
export function removedApiRefusal(node: string, verdict: RemovedApiVerdict): string | undefined {
  if (verdict.verdict !== "blocked") return undefined;
  const open = [...verdict.objects.filter((o) => !o.accepted).map(describeUse), ...verdict.requests.filter((r) => !r.accepted).map((r) => `clients requested ${describeRequest(r)}`)];
  return `${node}: not taken out for kubeadm upgrade apply ${verdict.transition.from} → ${verdict.transition.to}: the cluster still uses API versions it removes: ${firstFew(open)} (${open.length} in all; npm run plan -- --live lists them); migrate them, or set ${ACCEPT_KEY} on the control-plane pool (true, or the group/versions) and run pulumi up again`;
}

/** The group/versions the table knows as removed, for checking `rollout.acceptRemovedApis` entries. */
export const REMOVED_GROUP_VERSIONS: readonly string[] = [...new Set(REMOVED_APIS.map((x) => x.apiVersion))];

/**
 * Where each stored kind of the table is listed now, as RBAC names it: its resource and the groups that serve it,
 * the guide's replacement first. The removed version itself may no longer be served, and an object is one object
 * whichever version reads it, so the scan lists each kind once, through the first of these groups whose served
 * versions (the preferred first) have it; its managedFields still name the version each writer used. Review kinds
 * (TokenReview, SubjectAccessReview, …) are never stored: only the metric shows their clients.
 */
export const REMOVED_KIND_RESOURCES: Readonly<Record<string, { resource: string; groups: readonly string[] }>> = {
  NetworkPolicy: { resource: "networkpolicies", groups: ["networking.k8s.io", "extensions"] },
  DaemonSet: { resource: "daemonsets", groups: ["apps", "extensions"] },
  Deployment: { resource: "deployments", groups: ["apps", "extensions"] },
  ReplicaSet: { resource: "replicasets", groups: ["apps", "extensions"] },
  StatefulSet: { resource: "statefulsets", groups: ["apps"] },
  MutatingWebhookConfiguration: { resource: "mutatingwebhookconfigurations", groups: ["admissionregistration.k8s.io"] },
  ValidatingWebhookConfiguration: { resource: "validatingwebhookconfigurations", groups: ["admissionregistration.k8s.io"] },
  CustomResourceDefinition: { resource: "customresourcedefinitions", groups: ["apiextensions.k8s.io"] },
  APIService: { resource: "apiservices", groups: ["apiregistration.k8s.io"] },
  CertificateSigningRequest: { resource: "certificatesigningrequests", groups: ["certificates.k8s.io"] },
  Lease: { resource: "leases", groups: ["coordination.k8s.io"] },
  Ingress: { resource: "ingresses", groups: ["networking.k8s.io", "extensions"] },
  IngressClass: { resource: "ingressclasses", groups: ["networking.k8s.io"] },
  ClusterRole: { resource: "clusterroles", groups: ["rbac.authorization.k8s.io"] },
  ClusterRoleBinding: { resource: "clusterrolebindings", groups: ["rbac.authorization.k8s.io"] },
  Role: { resource: "roles", groups: ["rbac.authorization.k8s.io"] },
  RoleBinding: { resource: "rolebindings", groups: ["rbac.authorization.k8s.io"] },
  PriorityClass: { resource: "priorityclasses", groups: ["scheduling.k8s.io"] },
  CSIDriver: { resource: "csidrivers", groups: ["storage.k8s.io"] },
  CSINode: { resource: "csinodes", groups: ["storage.k8s.io"] },
  StorageClass: { resource: "storageclasses", groups: ["storage.k8s.io"] },
  VolumeAttachment: { resource: "volumeattachments", groups: ["storage.k8s.io"] },
  CSIStorageCapacity: { resource: "csistoragecapacities", groups: ["storage.k8s.io"] },
  CronJob: { resource: "cronjobs", groups: ["batch"] },
  EndpointSlice: { resource: "endpointslices", groups: ["discovery.k8s.io"] },
  Event: { resource: "events", groups: ["events.k8s.io"] },
  HorizontalPodAutoscaler: { resource: "horizontalpodautoscalers", groups: ["autoscaling"] },
  PodDisruptionBudget: { resource: "poddisruptionbudgets", groups: ["policy"] },
  PodSecurityPolicy: { resource: "podsecuritypolicies", groups: ["policy"] },
  RuntimeClass: { resource: "runtimeclasses", groups: ["node.k8s.io"] },
  FlowSchema: { resource: "flowschemas", groups: ["flowcontrol.apiserver.k8s.io"] },
  PriorityLevelConfiguration: { resource: "prioritylevelconfigurations", groups: ["flowcontrol.apiserver.k8s.io"] },
};

/** The stored kinds the crossed removals name, each once, in the table's order. */
export function kindsToScan(crossed: readonly RemovedApi[]): string[] {
  return [...new Set(crossed.flatMap((x) => x.kinds))].filter((k) => REMOVED_KIND_RESOURCES[k] !== undefined);
}

/** Every (group, resource) the scan may list, for RBAC: the rollout role and the preview role grant `list` on these. */
export function scannedResources(): { group: string; resource: string }[] {
  const out = new Map<string, { group: string; resource: string }>();
  for (const { resource, groups } of Object.values(REMOVED_KIND_RESOURCES)) for (const group of groups) out.set(`${group}/${resource}`, { group, resource });
  return [...out.values()];
}

/** What a stack accepts: the first control-plane pool's `rollout.acceptRemovedApis` (the pool `kubeadm upgrade apply` runs in). */
export function removedApiAcceptance(config: { pools: readonly { role: string; rollout: { acceptRemovedApis: RemovedApiAcceptance } }[] }): RemovedApiAcceptance {
  return config.pools.find((p) => p.role === "control-plane")?.rollout.acceptRemovedApis ?? false;
}
