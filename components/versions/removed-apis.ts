/**
 * The API versions each Kubernetes minor stops serving, as the official "Deprecated API Migration Guide" lists them
 * (https://kubernetes.io/docs/reference/using-api/deprecation-guide/, "Removed APIs by release"), for every minor
 * from 1.16 to the newest kubeherd knows. Minors the guide lists nothing for (1.17–1.21, 1.23, 1.24, 1.28, 1.30,
 * 1.31, 1.33 and later) remove no GA-track version. Pure data and the pure questions asked of it: which removals a
 * bump crosses, which objects were written through a removed version (their `managedFields` and
 * `kubectl.kubernetes.io/last-applied-configuration`), which clients asked for one (the API server's
 * `apiserver_requested_deprecated_apis` metric).
 */

export interface RemovedApi {
  /** The minor that stops serving it: `1.25`. */
  removedIn: string;
  /** `group/version` as objects carry it in `apiVersion`: `policy/v1beta1`. */
  apiVersion: string;
  /** The kinds served at that version that the guide names. */
  kinds: readonly string[];
  /** What to use instead, as the guide says. */
  use: string;
}

/** The newest minor this table was checked against. */
export const REMOVED_APIS_CHECKED_THROUGH = "1.35";

const r = (removedIn: string, apiVersion: string, kinds: string[], use: string): RemovedApi => ({ removedIn, apiVersion, kinds, use });

export const REMOVED_APIS: readonly RemovedApi[] = [
  r("1.16", "extensions/v1beta1", ["NetworkPolicy", "DaemonSet", "Deployment", "ReplicaSet"], "networking.k8s.io/v1 (NetworkPolicy), apps/v1 (DaemonSet, Deployment, ReplicaSet)"),
  r("1.16", "apps/v1beta1", ["Deployment", "StatefulSet", "ReplicaSet"], "apps/v1"),
  r("1.16", "apps/v1beta2", ["DaemonSet", "Deployment", "StatefulSet", "ReplicaSet"], "apps/v1"),
  r("1.22", "admissionregistration.k8s.io/v1beta1", ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"], "admissionregistration.k8s.io/v1"),
  r("1.22", "apiextensions.k8s.io/v1beta1", ["CustomResourceDefinition"], "apiextensions.k8s.io/v1"),
  r("1.22", "apiregistration.k8s.io/v1beta1", ["APIService"], "apiregistration.k8s.io/v1"),
  r("1.22", "authentication.k8s.io/v1beta1", ["TokenReview"], "authentication.k8s.io/v1"),
  r("1.22", "authorization.k8s.io/v1beta1", ["LocalSubjectAccessReview", "SelfSubjectAccessReview", "SubjectAccessReview", "SelfSubjectRulesReview"], "authorization.k8s.io/v1"),
  r("1.22", "certificates.k8s.io/v1beta1", ["CertificateSigningRequest"], "certificates.k8s.io/v1"),
  r("1.22", "coordination.k8s.io/v1beta1", ["Lease"], "coordination.k8s.io/v1"),
  r("1.22", "extensions/v1beta1", ["Ingress"], "networking.k8s.io/v1"),
  r("1.22", "networking.k8s.io/v1beta1", ["Ingress", "IngressClass"], "networking.k8s.io/v1"),
  r("1.22", "rbac.authorization.k8s.io/v1beta1", ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"], "rbac.authorization.k8s.io/v1"),
  r("1.22", "scheduling.k8s.io/v1beta1", ["PriorityClass"], "scheduling.k8s.io/v1"),
  r("1.22", "storage.k8s.io/v1beta1", ["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"], "storage.k8s.io/v1"),
  r("1.25", "batch/v1beta1", ["CronJob"], "batch/v1"),
  r("1.25", "discovery.k8s.io/v1beta1", ["EndpointSlice"], "discovery.k8s.io/v1"),
  r("1.25", "events.k8s.io/v1beta1", ["Event"], "events.k8s.io/v1"),
  r("1.25", "autoscaling/v2beta1", ["HorizontalPodAutoscaler"], "autoscaling/v2"),
  r("1.25", "policy/v1beta1", ["PodDisruptionBudget", "PodSecurityPolicy"], "policy/v1 (PodDisruptionBudget); Pod Security Admission in place of PodSecurityPolicy"),
  r("1.25", "node.k8s.io/v1beta1", ["RuntimeClass"], "node.k8s.io/v1"),
  r("1.26", "flowcontrol.apiserver.k8s.io/v1beta1", ["FlowSchema", "PriorityLevelConfiguration"], "flowcontrol.apiserver.k8s.io/v1 (v1beta2 before 1.29)"),
  r("1.26", "autoscaling/v2beta2", ["HorizontalPodAutoscaler"], "autoscaling/v2"),
  r("1.27", "storage.k8s.io/v1beta1", ["CSIStorageCapacity"], "storage.k8s.io/v1"),
  r("1.29", "flowcontrol.apiserver.k8s.io/v1beta2", ["FlowSchema", "PriorityLevelConfiguration"], "flowcontrol.apiserver.k8s.io/v1 (or v1beta3, until 1.32)"),
  r("1.32", "flowcontrol.apiserver.k8s.io/v1beta3", ["FlowSchema", "PriorityLevelConfiguration"], "flowcontrol.apiserver.k8s.io/v1"),
];

const minorNumber = (minor: string) => Number(minor.split(".")[1]);

/** The removals a control plane crosses going from minor `from` to minor `to` (`1.24` -> `1.26`: 1.25's and 1.26's). */
export function removalsCrossed(from: string, to: string): RemovedApi[] {
  const a = minorNumber(from);
  const b = minorNumber(to);
  return REMOVED_APIS.filter((x) => minorNumber(x.removedIn) > a && minorNumber(x.removedIn) <= b);
}

/** An object as the API returns it, reduced to what the scan reads. */
export interface StoredObject {
  kind: string;
  apiVersion?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    managedFields?: { manager?: string; apiVersion?: string }[];
  };
}

export interface RemovedApiUse {
  /** `Ingress default/shop`, `ClusterRole view-all`. */
  object: string;
  apiVersion: string;
  removedIn: string;
  /** Who wrote it through that version: a managedFields manager, or `kubectl apply` (last-applied configuration). */
  writtenBy: string[];
  use: string;
}

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Objects last written through a removed version of their kind: a managedFields entry with that `apiVersion`, or a
 * last-applied configuration whose `apiVersion` is it (the manifest in Git still says the old version).
 */
export function removedApiUses(objects: readonly StoredObject[], removals: readonly RemovedApi[]): RemovedApiUse[] {
  const uses: RemovedApiUse[] = [];
  for (const o of objects) {
    const versions = new Map<string, string[]>();
    for (const f of o.metadata?.managedFields ?? []) {
      if (f.apiVersion) versions.set(f.apiVersion, [...(versions.get(f.apiVersion) ?? []), f.manager ?? "(unnamed manager)"]);
    }
    const applied = lastAppliedVersion(o.metadata?.annotations?.[LAST_APPLIED]);
    if (applied) versions.set(applied, [...(versions.get(applied) ?? []), "kubectl apply (last-applied configuration)"]);
    for (const [apiVersion, writers] of versions) {
      const removal = removals.find((x) => x.apiVersion === apiVersion && x.kinds.includes(o.kind));
      if (!removal) continue;
      const where = o.metadata?.namespace ? `${o.metadata.namespace}/` : "";
      uses.push({ object: `${o.kind} ${where}${o.metadata?.name ?? "(unnamed)"}`, apiVersion, removedIn: removal.removedIn, writtenBy: [...new Set(writers)], use: removal.use });
    }
  }
  return uses;
}

function lastAppliedVersion(annotation: string | undefined): string | undefined {
  if (!annotation) return undefined;
  try {
    const parsed = JSON.parse(annotation) as { apiVersion?: unknown };
    return typeof parsed.apiVersion === "string" ? parsed.apiVersion : undefined;
  } catch {
    return undefined;
  }
}

export interface DeprecatedApiRequest {
  apiVersion: string;
  resource: string;
  removedIn: string;
}

/**
 * The requested deprecated APIs in the API server's `/metrics` text (`apiserver_requested_deprecated_apis`, a gauge
 * set to 1 for each deprecated group/version/resource requested since the server started), limited to `removals`.
 */
export function requestedRemovedApis(metrics: string, removals: readonly RemovedApi[]): DeprecatedApiRequest[] {
  const out: DeprecatedApiRequest[] = [];
  for (const line of metrics.split("\n")) {
    const m = /^apiserver_requested_deprecated_apis\{([^}]*)\}\s+([0-9.eE+-]+)\s*$/.exec(line.trim());
    if (!m || Number(m[2]) === 0) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    const apiVersion = labels.group ? `${labels.group}/${labels.version}` : labels.version;
    if (!removals.some((x) => x.apiVersion === apiVersion)) continue;
    const key = `${apiVersion} ${labels.resource}`;
    if (out.some((o) => `${o.apiVersion} ${o.resource}` === key)) continue;
    out.push({ apiVersion, resource: labels.resource ?? "", removedIn: labels.removed_release ?? "" });
  }
  return out;
}
