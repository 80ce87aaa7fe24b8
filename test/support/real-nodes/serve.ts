/**
 * `npm run real-cluster -- --workers N`: starts a real kubeadm cluster on this machine (one control-plane node, N
 * workers: real kubelets and containerd, the control plane as static pods; see test/e2e/README.md "Real nodes"),
 * prints `KUBECONFIG=/path/to/admin.conf` and each node's images, and keeps it up until Ctrl-C (or SIGTERM), when it
 * stops everything it started and checks that nothing is left. Run as root.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RealCluster } from "./real-cluster";
import { sweepAbandonedRealClusters } from "./sweep";

const USAGE = "usage: npm run real-cluster -- [--workers N]   (N from 0 to 5; default 1)";

function workersOf(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { workers: { type: "string", default: "1" } } });
  const n = Number(values.workers);
  if (!/^\d+$/.test(values.workers ?? "") || n > 5) throw new Error(`--workers: ${JSON.stringify(values.workers)} is not a number from 0 to 5`);
  return n;
}

async function main(): Promise<void> {
  let workers: number;
  try {
    workers = workersOf(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) throw new Error("a real cluster needs root (namespaces, mounts, cgroups)");
  const swept = await sweepAbandonedRealClusters();
  if (swept.length > 0) process.stderr.write(`removed what killed real clusters left: ${swept.join(", ")}\n`);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "kubeherd-real-cluster-"));
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const cluster = RealCluster.create({ workers, dir, say });
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping the real cluster`);
    cluster.stop().then(
      () => {
        say("stopped: no kubelet, containerd, container, mount, cgroup or namespace of it is left");
        process.exit(0);
      },
      (err: unknown) => {
        say(String(err));
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("uncaughtException", (err) => {
    say(`error: ${err.message}`);
    stop("error");
  });
  try {
    await cluster.start();
  } catch (err) {
    if (stopping) return; // the signal's stop is under way and exits
    throw err;
  }
  for (const node of cluster.nodes) say(`${node.name} (${node.address}) images: ${(await node.images()).join(" ")}`);
  say(`real cluster up in ${Math.round((Date.now() - started) / 1000)} s: ${cluster.nodes.map((n) => n.name).join(", ")}`);
  process.stdout.write(`KUBECONFIG=${cluster.kubeconfig}\n`);
  say("Ctrl-C stops it and removes everything.");
  setInterval(() => undefined, 60_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
