/**
 * Reads what the removed-API pre-flight decides on (components/versions/removed-api-gate.ts): for the removals a
 * control-plane transition crosses, the objects of the kinds they name (listed through the version the API server
 * serves now, preferred first: the removed one may be gone) whose managedFields or last-applied configuration
 * name a removed version, and the API server's `apiserver_requested_deprecated_apis` metric. Read-only; a /metrics
 * the identity may not read is reported as such, not as an error.
 */
import { KubeApiError, type KubeClient, type ServedGroup } from "./client";
import { removalsCrossed, removedApiUses, requestedRemovedApis, type StoredObject } from "../versions/removed-apis";
import {
  kindsToScan,
  REMOVED_KIND_RESOURCES,
  removedApiVerdict,
  type ControlPlaneTransition,
  type RemovedApiAcceptance,
  type RemovedApiFindings,
  type RemovedApiVerdict,
} from "../versions/removed-api-gate";

/** Where a kind is listed: the first candidate group whose served versions (preferred first) have it with `list`. */
async function whereListed(client: KubeClient, groups: readonly ServedGroup[], kind: string): Promise<{ groupVersion: string; resource: string } | undefined> {
  const entry = REMOVED_KIND_RESOURCES[kind];
  for (const name of entry.groups) {
    const group = groups.find((g) => g.name === name);
    for (const version of group?.versions ?? []) {
      const resources = await client.servedResources(`${name}/${version}`);
      const found = resources.find((r) => r.kind === kind && r.verbs.includes("list"));
      if (found) return { groupVersion: `${name}/${version}`, resource: found.name };
    }
  }
  return undefined;
}

export async function readRemovedApiFindings(client: KubeClient, transition: ControlPlaneTransition): Promise<RemovedApiFindings & { scanned: string[] }> {
  const crossed = removalsCrossed(transition.from, transition.to);
  if (crossed.length === 0) return { objects: [], requests: [], metrics: "not-checked", scanned: [] };
  const groups = await client.servedGroups();
  const objects: StoredObject[] = [];
  const seen = new Set<string>();
  const scanned: string[] = [];
  for (const kind of kindsToScan(crossed)) {
    const where = await whereListed(client, groups, kind);
    if (!where) continue; // not served at all (PodSecurityPolicy after 1.25): nothing of it can be stored
    scanned.push(`${kind} (${where.groupVersion})`);
    const list = await client.listResource(where.groupVersion, where.resource);
    for (const item of list.items) {
      const key = item.metadata?.uid ?? `${kind}/${item.metadata?.namespace ?? ""}/${item.metadata?.name ?? ""}`;
      if (seen.has(key)) continue;
      seen.add(key);
      objects.push({ ...item, kind });
    }
  }
  let metrics: RemovedApiFindings["metrics"] = "read";
  let metricsNote: string | undefined;
  let requests: RemovedApiFindings["requests"] = [];
  try {
    requests = requestedRemovedApis(await client.readMetrics(), crossed);
  } catch (err) {
    if (!(err instanceof KubeApiError) || (err.status !== 401 && err.status !== 403 && err.status !== 404)) throw err;
    metrics = "forbidden";
    metricsNote = `the kubeconfig may not read /metrics (${err.apiMessage}, HTTP ${err.status}): clients that requested a removed version are not shown; grant get on the nonResourceURL /metrics to see them`;
  }
  return { objects: removedApiUses(objects, crossed), requests, metrics, ...(metricsNote ? { metricsNote } : {}), scanned };
}

/** The pre-flight against the cluster as it is now: read, then judge. */
export async function removedApiPreflight(client: KubeClient, transition: ControlPlaneTransition, acceptance: RemovedApiAcceptance): Promise<RemovedApiVerdict & { scanned: string[] }> {
  const findings = await readRemovedApiFindings(client, transition);
  return { ...removedApiVerdict(transition, findings, acceptance), scanned: findings.scanned };
}
