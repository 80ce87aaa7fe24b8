/**
 * `npm run plan -- --stack NAME --live [--kubeconfig FILE] [--context NAME]`: the plan, then what each of its drains would do on the
 * cluster as it is now (components/kube/live.ts), and for a bump of the control plane that crosses an API removal
 * what in the cluster still uses a removed version (components/kube/removed-api-scan.ts). Read-only. Exit 0 when
 * every drain would go through and no removal blocks, 3 when a drain would never finish (a PDB that never allows
 * it, a refusal, no room) or the removed-API verdict is `blocked`, 2 for invalid config or an unreadable cluster.
 * Each blocking reason is also one line on stderr (`blocked (disruption): …`, `blocked (removed APIs): …`), so the
 * workflow can tell them apart and accept each with its own pull request label.
 */
import { KubeApiError } from "../components/kube/client";
import { systemClock } from "../components/kube/clock";
import { livePreview } from "../components/kube/live";
import { removedApiPreflight } from "../components/kube/removed-api-scan";
import { controlPlaneTransition, removedApiAcceptance } from "../components/versions/removed-api-gate";
import { describeFailure, openCluster } from "./cluster-access";
import { removedApiMarkdown, removedApiText, withRemovedApis } from "./removed-api-text";
import { liveMarkdown, liveSummary, liveText, withLive } from "./live-text";
import { runPlan, type PlanOptions } from "./offline-plan";

export interface LivePlanResult {
  code: 0 | 2 | 3;
  stdout: string;
  stderr: string[];
}

export async function runLivePlan(opts: PlanOptions & { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv }): Promise<LivePlanResult> {
  const planned = runPlan(opts);
  if (planned.code !== 0 || !planned.plan || !planned.config) return { code: 2, stdout: "", stderr: planned.stderr };
  const { plan, config, baseConfig } = planned;
  const access = openCluster(opts.kubeconfig, opts.env, opts.context);
  if ("error" in access) return { code: 2, stdout: "", stderr: [...planned.stderr, access.error] };
  const transition = baseConfig ? controlPlaneTransition(baseConfig.versions.kubernetes, config.versions.kubernetes) : undefined;
  let preview;
  let removed;
  try {
    preview = await livePreview(access.client, plan, config, systemClock);
  } catch (err) {
    return { code: 2, stdout: "", stderr: [...planned.stderr, describeFailure(err, access.server)] };
  }
  try {
    if (transition) removed = await removedApiPreflight(access.client, transition, removedApiAcceptance(config));
  } catch (err) {
    const rights = err instanceof KubeApiError && (err.status === 401 || err.status === 403);
    const line = rights ? `${access.server}: ${err.message}; the removed-API pre-flight needs list on the kinds the removed API versions served (README: the kubeherd-preview ClusterRole)` : describeFailure(err, access.server);
    return { code: 2, stdout: "", stderr: [...planned.stderr, line] };
  }
  const crossing = removed && removed.crossed.length > 0 ? removed : undefined;
  let stdout =
    opts.format === "json"
      ? withLive(planned.stdout, preview)
      : opts.format === "markdown"
        ? `${planned.stdout}\n${liveMarkdown(preview)}`
        : `${planned.stdout}\n${liveText(preview, access.server)}`;
  if (crossing) {
    stdout = opts.format === "json" ? withRemovedApis(stdout, crossing) : opts.format === "markdown" ? `${stdout}\n${removedApiMarkdown(crossing)}` : `${stdout}\n${removedApiText(crossing)}`;
  }
  const blockedApis = crossing?.verdict === "blocked";
  const stderr = [
    ...planned.stderr,
    ...(preview.blocking ? [`blocked (disruption): ${liveSummary(preview)}`] : []),
    ...(blockedApis ? [`blocked (removed APIs): ${crossing.summary.replace(/^blocked: /, "")}`] : []),
  ];
  return { code: preview.blocking || blockedApis ? 3 : 0, stdout, stderr };
}
