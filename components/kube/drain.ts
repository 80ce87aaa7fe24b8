/**
 * Drain: cordon the node, evict every evictable pod at once through the policy/v1 Eviction subresource, and
 * watch until they are gone, all within one deadline. A PDB that blocks (429) is retried with backoff until the
 * deadline; any other failure stops the drain with the API's message. A drain that fails leaves the node cordoned
 * and running, so the rollout stops on a node that still serves what was not evicted.
 */
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { KubeClient } from "./client";
import { Deadline, elapsed, type Clock } from "./clock";
import { podName, refusalMessage, selectPods, type DrainPolicy } from "../disruption/drain-filters";
import { cordon, shortName, uncordon } from "./nodes";
import { watchUntil } from "./observe";
import { budgetName } from "../disruption/budgets";
import { budgetsCovering, workloadsOf, type DrainRecord } from "./workloads";

export interface DrainOptions {
  policy: DrainPolicy;
  timeoutSeconds: number;
  log: (message: string) => void;
  /** Minimum time between two progress lines (the first and the last are always logged). @default 2000 */
  progressIntervalMs?: number;
}

/** Backoff between evictions a PDB refused: short at first (a budget often frees up within a second), then up
 *  to kubectl's 5 s. */
const BACKOFF_START_MS = 250;
const BACKOFF_CAP_MS = 5_000;

export class DrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrainError";
  }
}

const uidOf = (pod: V1Pod) => pod.metadata?.uid ?? podName(pod);

export async function drainNode(client: KubeClient, clock: Clock, nodeName: string, options: DrainOptions): Promise<DrainRecord> {
  const start = clock.now();
  const deadline = new Deadline(clock, options.timeoutSeconds);
  const label = `node ${shortName(nodeName)}`;
  const node = await client.get("nodes", nodeName);
  if (!node) throw new DrainError(`${label}: no such node, cannot drain it`);
  const cordoned = await cordon(client, node);
  if (cordoned === "cordoned-by-someone-else") {
    options.log(`${label}: was already cordoned by someone else; draining it, and it will stay cordoned`);
  }

  const pods = (await client.list("pods", { fieldSelector: `spec.nodeName=${nodeName}` })).items;
  const selection = selectPods(pods, options.policy);
  if (selection.refused.length > 0) {
    // Nothing was evicted yet: put the node back as it was rather than leave capacity idle.
    if (cordoned === "cordoned") await uncordon(client, nodeName);
    throw new DrainError(refusalMessage(shortName(nodeName), selection.refused));
  }

  const leaving = [...selection.evict, ...selection.wait];
  const namespaces = [...new Set(leaving.map((p) => p.metadata?.namespace ?? "default"))];
  const [workloads, pdbs] = await Promise.all([
    workloadsOf(client, [...leaving, ...selection.skipped.map((s) => s.pod)]),
    Promise.all(namespaces.map(async (ns) => (await client.list("poddisruptionbudgets", { namespace: ns })).items)),
  ]);
  const covering = budgetsCovering(pdbs.flat(), leaving);
  const record: DrainRecord = {
    node: nodeName,
    workloads,
    budgets: covering.map((pdb) => ({
      namespace: pdb.metadata?.namespace ?? "",
      name: pdb.metadata?.name ?? "",
      disruptionsAllowed: pdb.status?.disruptionsAllowed ?? 0,
    })),
  };

  const skipped = selection.skipped.length ? ` (leaving ${selection.skipped.length} DaemonSet/mirror pods)` : "";
  options.log(`${label}: cordoned; evicting ${selection.evict.length} pods${skipped}`);

  const progress = new Progress(clock, options.log, options.progressIntervalMs ?? 2_000);
  const evicted = new Set<string>();
  const blocked = new Map<string, { pod: V1Pod; message: string }>();
  let remaining = leaving.length;
  const report = (force = false) => {
    const blockers = blockingBudgets([...blocked.values()].map((b) => b.pod), covering);
    const waiting = blockers.length
      ? `, waiting on PDB ${blockers.join(", ")}`
      : blocked.size
        ? `, ${blocked.size} evictions refused`
        : evicted.size === selection.evict.length && remaining > 0
          ? `, ${remaining} pods terminating`
          : "";
    progress.say(`${label}: evicted ${evicted.size}/${selection.evict.length} pods${waiting}`, force);
  };

  const stop = new AbortController();
  let failure: DrainError | undefined;
  const evictOne = async (pod: V1Pod) => {
    let backoff = BACKOFF_START_MS;
    while (!stop.signal.aborted) {
      const outcome = await client.evictPod(pod.metadata?.namespace ?? "default", pod.metadata?.name ?? "");
      if (outcome.result === "evicted" || outcome.result === "gone") {
        evicted.add(uidOf(pod));
        blocked.delete(uidOf(pod));
        report();
        return;
      }
      if (outcome.result === "failed") {
        failure ??= new DrainError(
          `${label}: eviction of ${podName(pod)} failed: ${outcome.message} (HTTP ${outcome.status}); the node stays cordoned`,
        );
        stop.abort();
        return;
      }
      const first = !blocked.has(uidOf(pod));
      blocked.set(uidOf(pod), { pod, message: outcome.message });
      report(first);
      // Full jitter keeps a hundred blocked pods from retrying in lockstep.
      await clock.sleep(Math.min(backoff * (0.5 + Math.random() / 2), deadline.remainingMs()), stop.signal);
      if (deadline.passed()) return;
      backoff = Math.min(backoff * 2, BACKOFF_CAP_MS);
    }
  };
  const evictions = Promise.all(selection.evict.map(evictOne));

  const wanted = new Set(leaving.map(uidOf));
  const stillThere: V1Pod[] = [];
  const gone = await watchUntil(
    client,
    clock,
    { kind: "pods", query: { fieldSelector: `spec.nodeName=${nodeName}` } },
    (objects) => {
      stillThere.length = 0;
      for (const pod of objects.values()) if (wanted.has(uidOf(pod))) stillThere.push(pod);
      if (stillThere.length !== remaining) {
        remaining = stillThere.length;
        report();
      }
      return stillThere.length === 0 ? true : undefined;
    },
    deadline,
    { signal: stop.signal },
  );
  stop.abort();
  await evictions;
  if (failure) throw failure;
  if (!gone) {
    // Never read the pods (the API was down): name every pod not known to be evicted.
    const left = stillThere.length ? stillThere : leaving.filter((p) => !evicted.has(uidOf(p)));
    throw new DrainError(timeoutMessage(label, options.timeoutSeconds, left, blocked, covering));
  }
  progress.say(`${label}: drained ${evicted.size} pods in ${elapsed(clock, start)}`, true);
  return { ...record, evicted: evicted.size };
}

function blockingBudgets(pods: readonly V1Pod[], covering: readonly V1PodDisruptionBudget[]): string[] {
  return budgetsCovering(covering, pods).map(budgetName);
}

function timeoutMessage(
  label: string,
  seconds: number,
  stillThere: readonly V1Pod[],
  blocked: ReadonlyMap<string, { pod: V1Pod; message: string }>,
  covering: readonly V1PodDisruptionBudget[],
): string {
  const budgets = blockingBudgets([...blocked.values()].map((b) => b.pod), covering);
  const pods = stillThere.map((pod) => {
    const block = blocked.get(uidOf(pod));
    return block ? `${podName(pod)} (eviction refused: ${block.message})` : `${podName(pod)} (terminating)`;
  });
  return [
    `${label}: drain timed out after ${seconds}s; the node stays cordoned and running.`,
    budgets.length ? `  blocked by PDB ${budgets.join(", ")}` : undefined,
    `  ${pods.length} pods still on the node: ${pods.join(", ")}`,
  ]
    .filter(Boolean)
    .join("\n");
}

/** Progress lines at most every `intervalMs`, and never the same line twice in a row. */
class Progress {
  private last = "";
  private lastAt = -Infinity;
  constructor(
    private readonly clock: Clock,
    private readonly log: (message: string) => void,
    private readonly intervalMs: number,
  ) {}
  say(message: string, force = false) {
    if (message === this.last) return;
    if (!force && this.clock.now() - this.lastAt < this.intervalMs) return;
    this.last = message;
    this.lastAt = this.clock.now();
    this.log(message);
  }
}
