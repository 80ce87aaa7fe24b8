/**
 * The real nodes' packages as a user's apt sees them: .debs of kubeadm, kubelet and kubectl (v1.34.2 and the
 * stamped v1.34.3, numbered `1.34.x-1.1` as pkgs.k8s.io numbers them), cri-tools, kubernetes-cni and containerd.io
 * (1.7.24-1, and 1.7.25-1: the same source stamped 1.7.25, package-builds.ts),
 * made from the programs built on this machine, with the real packages' control fields (package-depends.ts: the
 * same table the stand-in packages use) and the files that matter beside the binaries (the kubelet's systemd unit
 * in kubelet, kubeadm's 10-kubeadm.conf drop-in in kubeadm). They are served as flat apt repositories laid out as
 * the real ones are: one per Kubernetes minor (`kubernetes/v1.34/deb/`, the line `… v{minor}/deb/ /` as pkgs.k8s.io's
 * `core:/stable:/v1.34/deb/ /`) and one per Ubuntu codename for containerd.io (Docker's repository).
 *
 * What differs from the real packages: no maintainer scripts (the real ones enable and start their units through
 * systemd's helpers; on these nodes the service manager runs containerd and the kubelet from boot, real-node.ts);
 * containerd.io ships Debian's runc 1.1.5 beside containerd (the real 1.7.24-1 ships runc 1.2.2) and no
 * /etc/containerd/config.toml (the node's harness writes its own, cgroupfs); kubernetes-cni ships four plugins
 * (bridge, host-local, loopback, portmap), not all of them; data compressed with gzip, not xz; no signatures
 * (`[trusted=yes]`, as the stack's own mirror lines may say).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ensureKubernetesNode } from "../../toolchain/kubernetes-node";
import { testCache, withBuildLock } from "../../toolchain/go-build";
import { KUBERNETES_VERSION } from "../../toolchain/kubernetes";
import { pruneCache } from "../node-root/base-root";
import { removeTree } from "../node-root/mounts";
import { runOrThrow } from "../node-root/process";
import { relationLines } from "../debian/packages";
import { CNI_PLUGINS, CONTAINERD, CONTAINERD_NEXT, CRI_TOOLS, ensurePackageBuild } from "./package-builds";

/** Where each real node sees the repositories (bound read-only from the cache). */
export const REAL_REPO_IN_NODE = "/srv/kubeherd-real-repo";

/** `kubeherd:repositories` lines for the real nodes: pkgs.k8s.io's per-minor layout, Docker's per codename. */
export const REAL_SOURCES = {
  kubernetes: `deb [trusted=yes] file:${REAL_REPO_IN_NODE}/kubernetes/v{minor}/deb/ /`,
  docker: `deb [trusted=yes] file:${REAL_REPO_IN_NODE}/docker/{codename}/ /`,
} as const;

/** The apt versions of the repositories' packages besides kubeadm, kubelet and kubectl. */
export const REAL_PACKAGE_VERSIONS = {
  "cri-tools": `${CRI_TOOLS.version}-1.1`,
  "kubernetes-cni": `${CNI_PLUGINS.version}-1.1`,
  "containerd.io": `${CONTAINERD.version}-1`,
} as const;

/** Docker's repository holds every containerd.io the scenarios pin: 1.7.24-1, and 1.7.25-1 for the runtime bump. */
export const CONTAINERD_IO_VERSIONS = [CONTAINERD, CONTAINERD_NEXT].map((b) => `${b.version}-1`);

/** `1.34.2-1.1` for `v1.34.2`: pkgs.k8s.io's numbering. */
export const aptVersionOf = (kubeVersion: string): string => `${kubeVersion.replace(/^v/, "")}-1.1`;

/** The Ubuntu codename the nodes say they run (NodeRoot's default release, 22.04). */
const CODENAME = "jammy";

/** kubelet.service as the kubelet package installs it (kubernetes/release cmd/krel/templates/latest/kubelet/kubelet.service). */
export const KUBELET_UNIT = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;

/** 10-kubeadm.conf as the kubeadm package installs it (kubernetes/release cmd/krel/templates/latest/kubeadm/10-kubeadm.conf). */
export const KUBEADM_DROP_IN = `# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;

/** containerd.service as containerd.io installs it (containerd's own unit). */
const CONTAINERD_UNIT = `[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
`;

type Payload = { from: string } | { text: string };

export interface RealPackage {
  readonly name: string;
  readonly version: string;
  /** The repository directory holding it, relative to the repositories' root. */
  readonly repo: string;
  /** Path in the package -> where its content comes from. */
  readonly files: Readonly<Record<string, Payload>>;
}

export interface RealRepository {
  /** The host directory bound at REAL_REPO_IN_NODE. */
  readonly dir: string;
  readonly packages: readonly RealPackage[];
}

/** Every package of the repositories: kubeadm, kubelet, kubectl of each version, and the rest once. */
export async function realPackages(versions: readonly string[], source = KUBERNETES_VERSION): Promise<RealPackage[]> {
  const [criTools, cni] = [await ensurePackageBuild("cri-tools", CRI_TOOLS), await ensurePackageBuild("cni-plugins", CNI_PLUGINS)];
  const containerds = [await ensurePackageBuild("containerd", CONTAINERD), await ensurePackageBuild("containerd", CONTAINERD_NEXT)];
  const out: RealPackage[] = [];
  const minorRepo = (v: string) => `kubernetes/v${v.replace(/^v/, "").split(".").slice(0, 2).join(".")}/deb`;
  for (const v of versions) {
    const bins = await ensureKubernetesNode(v, source);
    const version = aptVersionOf(v);
    const repo = minorRepo(v);
    out.push(
      { name: "kubeadm", version, repo, files: { "/usr/bin/kubeadm": { from: bins.paths.kubeadm }, "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf": { text: KUBEADM_DROP_IN } } },
      { name: "kubelet", version, repo, files: { "/usr/bin/kubelet": { from: bins.paths.kubelet }, "/usr/lib/systemd/system/kubelet.service": { text: KUBELET_UNIT } } },
      { name: "kubectl", version, repo, files: { "/usr/bin/kubectl": { from: bins.paths.kubectl } } },
    );
  }
  for (const repo of [...new Set(versions.map(minorRepo))]) {
    out.push(
      { name: "cri-tools", version: REAL_PACKAGE_VERSIONS["cri-tools"], repo, files: { "/usr/bin/crictl": { from: criTools.paths.crictl ?? "" } } },
      {
        name: "kubernetes-cni",
        version: REAL_PACKAGE_VERSIONS["kubernetes-cni"],
        repo,
        files: Object.fromEntries(Object.entries(cni.paths).map(([n, p]) => [`/opt/cni/bin/${n}`, { from: p }])),
      },
    );
  }
  for (const containerd of containerds) {
    out.push({
      name: "containerd.io",
      version: `${containerd.version}-1`,
      repo: `docker/${CODENAME}`,
      files: {
        ...Object.fromEntries(Object.entries(containerd.paths).map(([n, p]) => [`/usr/bin/${n}`, { from: p }])),
        // Debian's runc (host-packages.ts), as containerd.io ships a runc beside containerd
        "/usr/bin/runc": { from: "/usr/sbin/runc" },
        "/lib/systemd/system/containerd.service": { text: CONTAINERD_UNIT },
      },
    });
  }
  return out;
}

function controlFile(pkg: RealPackage): string {
  return [
    `Package: ${pkg.name}`,
    `Version: ${pkg.version}`,
    "Architecture: amd64",
    ...relationLines(pkg),
    "Maintainer: kubeherd tests <tests@kubeherd.invalid>",
    "Priority: optional",
    "Section: admin",
    `Description: ${pkg.name} built on this machine for kubeherd's real nodes`,
    " The program built from its release's source; the control fields of the real package.",
    "",
  ].join("\n");
}

/** Changes whenever a package's control file or any file's content would (binaries by size and time). */
function repositoryKey(pkgs: readonly RealPackage[]): string {
  const h = createHash("sha256");
  for (const pkg of pkgs) {
    h.update(`${pkg.repo}\0${controlFile(pkg)}\0`);
    for (const [path, payload] of Object.entries(pkg.files)) {
      if ("text" in payload) h.update(`${path}\0${payload.text}\0`);
      else {
        const st = statSync(payload.from);
        h.update(`${path}\0${payload.from}\0${st.size}\0${st.mtimeMs}\0`);
      }
    }
  }
  return h.digest("hex").slice(0, 16);
}

async function buildDeb(pkg: RealPackage, work: string, outDir: string): Promise<void> {
  const tree = join(work, `${pkg.name}_${pkg.version}`);
  mkdirSync(join(tree, "DEBIAN"), { recursive: true });
  writeFileSync(join(tree, "DEBIAN", "control"), controlFile(pkg));
  for (const [path, payload] of Object.entries(pkg.files)) {
    const file = join(tree, path);
    mkdirSync(join(file, ".."), { recursive: true });
    if ("text" in payload) writeFileSync(file, payload.text, { mode: 0o644 });
    else await runOrThrow("cp", ["--reflink=auto", payload.from, file]);
  }
  await runOrThrow("dpkg-deb", ["--root-owner-group", "-Zgzip", "-z1", "--build", tree, join(outDir, `${pkg.name}_${pkg.version}_amd64.deb`)], { timeoutMs: 600_000 });
  await removeTree(tree);
}

/** Builds the repositories for `versions` (once per content), returns where they are. */
export async function ensureRealRepository(versions: readonly string[], source = KUBERNETES_VERSION): Promise<RealRepository> {
  const packages = await realPackages(versions, source);
  const dir = join(testCache(), `real-apt-${repositoryKey(packages)}`);
  const done = () => existsSync(join(dir, ".complete"));
  if (done()) return { dir, packages };
  await withBuildLock(dir, async () => {
    if (done()) return;
    const work = join(dir, `.work-${process.pid}`);
    try {
      const repos = [...new Set(packages.map((p) => p.repo))];
      for (const r of repos) mkdirSync(join(dir, r), { recursive: true });
      for (const pkg of packages) await buildDeb(pkg, work, join(dir, pkg.repo));
      for (const r of repos) {
        // a flat repository ("… /"): Packages beside the .debs, Filename relative to it; -m keeps every version
        const { stdout } = await runOrThrow("dpkg-scanpackages", ["-m", ".", "/dev/null"], { cwd: join(dir, r), timeoutMs: 600_000 });
        writeFileSync(join(dir, r, "Packages"), stdout);
      }
      writeFileSync(join(dir, ".complete"), "");
    } finally {
      await removeTree(work);
    }
  });
  await pruneCache("real-apt-", basename(dir));
  return { dir, packages };
}
