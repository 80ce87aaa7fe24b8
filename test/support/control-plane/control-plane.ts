/**
 * A real Kubernetes control plane on loopback for the e2e tier: etcd (data on tmpfs), kube-apiserver,
 * kube-controller-manager (every default controller, plus the bootstrap-token ones, so disruption, deployment,
 * replicaset, statefulset, daemonset and node lifecycle all run), kube-scheduler, and KWOK playing the kubelet of
 * the Nodes a test registers (kwok-nodes.ts). Everything listens on 127.0.0.1 only, on free ports, and everything
 * lives in one directory under /dev/shm that `stop()` removes; see processes.ts for how the processes die with the
 * test whatever happens.
 *
 * The flags are those FACTS.md §8 found working, with what a kubeadm control plane sets besides (controllers with
 * their own service-account credentials, the certificate signer, bootstrap tokens).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { ensureClusterToolchain, type ClusterTools } from "../../toolchain/toolchain";
import { adminKubeconfig, caCertHash, makePki, writeKubeconfig, type Pki } from "./certificates";
import { kwokConfigYaml } from "./kwok-stages";
import { logTail, Processes, track, untrack, type Component } from "./processes";
import { RUN_PREFIX, RUN_ROOT } from "./sweep";

export interface ControlPlaneOptions {
  /** The programs to run; found (or built) with `ensureClusterToolchain()` when absent. */
  tools?: ClusterTools;
  /** Seconds each component may take to become ready. @default 120 */
  readyTimeoutSeconds?: number;
  /** Progress lines (one per component). @default silent */
  log?: (line: string) => void;
}

export type ComponentName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";

export interface ControlPlane {
  /** The admin kubeconfig (certificates inline, user in `system:masters`). */
  readonly kubeconfig: string;
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:PORT` */
  readonly server: string;
  /** `127.0.0.1:PORT`, as `kubeadm join` takes it. */
  readonly endpoint: string;
  /** `sha256:<hex>` of the CA's public key, as `kubeadm join --discovery-token-ca-cert-hash` takes it. */
  readonly caCertHash: string;
  readonly caCertPem: string;
  /** The run directory (certificates, etcd data, logs, pid files), removed by `stop()`. */
  readonly dir: string;
  readonly tools: ClusterTools;
  /** The end of a component's log. */
  logTail(component: ComponentName, lines?: number): string;
  /** Stops every process and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** The `kubernetes` Service's range; nothing routes it (no kube-proxy), it only has to exist. */
const SERVICE_CIDR = "10.0.0.0/24";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Probe {
  status: number;
  body: string;
}

function get(url: string, tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; insecure?: boolean }): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const options = {
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      timeout: 5_000,
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure } : {}),
    };
    const req = (u.protocol === "https:" ? request : httpRequest)(options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** Polls `check` until it holds; fails with the component's log tail when it exits or the deadline passes. */
async function until(processes: Processes, c: Component, what: string, seconds: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last = "";
  for (;;) {
    processes.assertRunning(c);
    try {
      if (await check()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`${c.name}: ${what} not within ${seconds} s${last ? ` (last error: ${last})` : ""}; the end of ${c.logPath}:\n${logTail(c.logPath)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const tools = options.tools ?? (await ensureClusterToolchain());
  const timeout = options.readyTimeoutSeconds ?? 120;
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(RUN_ROOT, RUN_PREFIX));
  const processes = new Processes(dir);
  track(processes);
  const started = Date.now();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await processes.stop();
    processes.remove();
    untrack(processes);
  };
  const components = new Map<ComponentName, Component>();

  try {
    const pki: Pki = await makePki(dir);
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedulerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = adminKubeconfig(pki, server);
    const kubeconfigPath = join(dir, "admin.conf");
    writeKubeconfig(kubeconfigPath, kubeconfig);
    const tls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) };
    // Components run with their own environment: a KUBECONFIG of the caller's must not leak into them.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = processes.start(
      "etcd",
      tools.etcd,
      [
        "--name=kubeherd-e2e",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=kubeherd-e2e=http://127.0.0.1:${etcdPeer}`,
        "--initial-cluster-state=new",
        "--logger=zap",
        "--log-level=warn",
      ],
      env,
    );
    components.set("etcd", etcd);
    await until(processes, etcd, "healthy", timeout, async () => (await get(`${etcdUrl}/health`)).body.includes('"health":"true"'));
    log(`etcd ${tools.etcdVersion} healthy at ${etcdUrl}`);

    const apiserver = processes.start(
      "kube-apiserver",
      tools.kubeApiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, "apiserver")}`,
        `--tls-cert-file=${pki.apiserverCert}`,
        `--tls-private-key-file=${pki.apiserverKey}`,
        `--client-ca-file=${pki.caCert}`,
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        "--authorization-mode=Node,RBAC",
        "--enable-bootstrap-token-auth",
        "--allow-privileged=true",
        // The endpoint reconciler would publish 127.0.0.1 as the `kubernetes` Service's endpoint, which the API's
        // validation refuses (loopback), and log that forever. Nothing in this cluster dials that Service.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
        // With WatchList on (beta, the default in 1.34), a watch from resourceVersion 0 is taken as a watch-list
        // stream, which needs etcd's progress notifications; etcd 3.4.23 is too old for them (3.4.31 has them), so
        // the apiserver ends every such watch at once ("the required storage feature RequestWatchProgress is
        // disabled"). KWOK watches from 0: it then saw changes only when it listed again, tens of seconds late
        // (FACTS.md §8's 22-37 s drains). Off, watches from 0 are plain watches again, as before 1.32.
        "--feature-gates=WatchList=false",
      ],
      env,
    );
    components.set("kube-apiserver", apiserver);
    await until(processes, apiserver, "ready (/readyz)", timeout, async () => (await get(`${server}/readyz`, tls)).status === 200);
    log(`kube-apiserver ${tools.kubernetesVersion} ready at ${server}`);

    const delegated = [`--kubeconfig=${kubeconfigPath}`, `--authentication-kubeconfig=${kubeconfigPath}`, `--authorization-kubeconfig=${kubeconfigPath}`, "--bind-address=127.0.0.1", "--leader-elect=false"];
    const kcm = processes.start(
      "kube-controller-manager",
      tools.kubeControllerManager,
      [
        ...delegated,
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, "kube-controller-manager")}`,
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--use-service-account-credentials=true",
        // KWOK renews the nodes' leases; on two cores busy with apt and Go builds it can miss the default 40 s,
        // and the node lifecycle controller would then mark a healthy node NotReady and its pods unready, which
        // no real kubelet's node would see. A node goes NotReady here only when its kubelet says so
        // (test/e2e/nodes/kubelet-agent.ts) or when its instance is terminated.
        "--node-monitor-grace-period=600s",
      ],
      env,
    );
    components.set("kube-controller-manager", kcm);
    const scheduler = processes.start(
      "kube-scheduler",
      tools.kubeScheduler,
      [...delegated, `--secure-port=${schedulerPort}`, `--cert-dir=${join(dir, "kube-scheduler")}`],
      env,
    );
    components.set("kube-scheduler", scheduler);
    // Their serving certificates are self-signed on the spot (as in a kubeadm cluster): nothing to verify them with.
    const insecure = { insecure: true };
    await until(processes, kcm, "healthy (/healthz)", timeout, async () => (await get(`https://127.0.0.1:${kcmPort}/healthz`, insecure)).status === 200);
    await until(processes, scheduler, "healthy (/healthz)", timeout, async () => (await get(`https://127.0.0.1:${schedulerPort}/healthz`, insecure)).status === 200);
    // The service-account controller is running once `default` has its account; pods cannot be created before.
    await until(
      processes,
      kcm,
      "the default ServiceAccount created",
      timeout,
      async () => (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, tls)).status === 200,
    );
    log("kube-controller-manager and kube-scheduler running");

    const kwokConfig = join(dir, "kwok.yaml");
    writeFileSync(kwokConfig, kwokConfigYaml());
    const kwok = processes.start("kwok", tools.kwok, [`--kubeconfig=${kubeconfigPath}`, `--config=${kwokConfig}`], env);
    components.set("kwok", kwok);
    // KWOK serves nothing (no server address configured); it says when its controllers watch.
    await until(processes, kwok, "watching nodes", timeout, async () => logTail(kwok.logPath, 200).includes("Watch nodes"));
    log(`kwok ${tools.kwokVersion} watching; control plane up in ${((Date.now() - started) / 1000).toFixed(1)} s (${dir})`);

    const caCertPem = readFileSync(pki.caCert, "utf8");
    return {
      kubeconfig,
      kubeconfigPath,
      server,
      endpoint: `127.0.0.1:${apiPort}`,
      caCertHash: caCertHash(caCertPem),
      caCertPem,
      dir,
      tools,
      logTail: (name, lines) => {
        const c = components.get(name);
        return c ? logTail(c.logPath, lines) : "(not started)";
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
