/**
 * `npm run bench`: the node operations against the in-process Kubernetes API, through the real client over HTTP,
 * with scripted timings. Prints exactly two lines, each the median of several runs:
 *   drain-110-pods: the drain of a node with 110 pods that each take 2 s to terminate (target: under 4 s)
 *   ready-latency:  from the node turning Ready in the API to wait-ready returning (target: under 1 s)
 */
import { clientFromKubeconfig } from "../../components/kube/api-client";
import { systemClock } from "../../components/kube/clock";
import { drainNode } from "../../components/kube/drain";
import { waitReady } from "../../components/kube/ready";
import { FakeApiServer } from "../support/kube-api/fake-api-server";

const RUNS = 5;
const quiet = () => undefined;

async function drainRun(): Promise<number> {
  const api = await FakeApiServer.start({ terminationMs: 2_000 });
  try {
    api.cluster.addNode("ip-10-0-1-7");
    api.cluster.addNode("ip-10-0-1-8");
    api.cluster.addDeployment("web", "web", Array<string>(110).fill("ip-10-0-1-7"));
    const client = clientFromKubeconfig(api.kubeconfig);
    const start = performance.now();
    await drainNode(client, systemClock, "ip-10-0-1-7", {
      policy: { deleteEmptyDirData: true, deleteUnmanagedPods: false },
      timeoutSeconds: 60,
      log: quiet,
    });
    const seconds = (performance.now() - start) / 1000;
    if (api.cluster.podsOn("ip-10-0-1-7").length !== 0) throw new Error("bench: drain returned with pods left on the node");
    return seconds;
  } finally {
    await api.close();
  }
}

async function readyRun(): Promise<number> {
  const api = await FakeApiServer.start();
  try {
    api.cluster.addNode("ip-10-0-1-9", { ready: false });
    const client = clientFromKubeconfig(api.kubeconfig);
    const waiting = waitReady(client, systemClock, { nodeName: "ip-10-0-1-9" }, { kubeletVersion: "1.30.2", timeoutSeconds: 30, log: quiet });
    // Let wait-ready settle into its watch, as it would while a real node boots.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const turnedReady = performance.now();
    api.cluster.setNodeStatus("ip-10-0-1-9", { ready: true });
    await waiting;
    return (performance.now() - turnedReady) / 1000;
  } finally {
    await api.close();
  }
}

async function median(run: () => Promise<number>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await run());
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

async function main() {
  const drain = await median(drainRun);
  const ready = await median(readyRun);
  process.stdout.write(`drain-110-pods: ${drain.toFixed(2)} s\nready-latency: ${ready.toFixed(3)} s\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
