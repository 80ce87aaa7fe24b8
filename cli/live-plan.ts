/**
 * `npm run plan -- --stack NAME --live [--kubeconfig FILE] [--context NAME]`: the plan, then what each of its drains would do on the
 * cluster as it is now (components/kube/live.ts). Read-only. Exit 0 when every drain would go through, 3 when one
 * would never finish (a PDB that never allows it, a refusal, no room), 2 for invalid config or an unreadable cluster.
 */
import { systemClock } from "../components/kube/clock";
import { livePreview } from "../components/kube/live";
import { describeFailure, openCluster } from "./cluster-access";
import { liveMarkdown, liveText, withLive } from "./live-text";
import { runPlan, type PlanOptions } from "./offline-plan";

export interface LivePlanResult {
  code: 0 | 2 | 3;
  stdout: string;
  stderr: string[];
}

export async function runLivePlan(opts: PlanOptions & { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv }): Promise<LivePlanResult> {
  const planned = runPlan(opts);
  if (planned.code !== 0 || !planned.plan || !planned.config) return { code: 2, stdout: "", stderr: planned.stderr };
  const { plan, config } = planned;
  const access = openCluster(opts.kubeconfig, opts.env, opts.context);
  if ("error" in access) return { code: 2, stdout: "", stderr: [...planned.stderr, access.error] };
  let preview;
  try {
    preview = await livePreview(access.client, plan, config, systemClock);
  } catch (err) {
    return { code: 2, stdout: "", stderr: [...planned.stderr, describeFailure(err, access.server)] };
  }
  const stdout =
    opts.format === "json"
      ? withLive(planned.stdout, preview)
      : opts.format === "markdown"
        ? `${planned.stdout}\n${liveMarkdown(preview)}`
        : `${planned.stdout}\n${liveText(preview, access.server)}`;
  return { code: preview.blocking ? 3 : 0, stdout, stderr: planned.stderr };
}
