/**
 * The node programs of a Kubernetes release (kubelet, kubeadm, kube-proxy) for the real-node harness (test/support/real-nodes/),
 * built from the same wrapper module, module cache and build cache as the control plane (kubernetes.ts): it first
 * makes sure the control plane is built (waiting on its lock), so most packages are in GOCACHE and this costs the
 * node commands' own packages and three links, not a second Kubernetes build.
 *
 * `stampedAs` builds the same source with another version stamped at link time (`-X …gitVersion=…`), for scenarios
 * that need two versions: it proves what a version string drives (kubeadm's upgrade plan and skew checks, the
 * kubelet's reported version, package pins) and nothing about what changed between the real releases' code.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { outputOf, publish, recordBuild, runGo, testCache, withBuildLock } from "./go-build";
import { ensureKubernetes, KUBERNETES_VERSION, kubernetesRoot, versionLdflags } from "./kubernetes";

export const NODE_COMMANDS = ["kubelet", "kubeadm", "kube-proxy", "kubectl"] as const;
export type NodeCommand = (typeof NODE_COMMANDS)[number];
/** The control plane's commands, for a stamped build (the release's own build is kubernetes.ts's). */
export const CONTROL_PLANE_COMMANDS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;
type Command = NodeCommand | (typeof CONTROL_PLANE_COMMANDS)[number];

export interface KubernetesNodeBinaries {
  bin: string;
  /** The version the binaries report (the release built, or the one stamped). */
  version: string;
  /** The release whose source was built. */
  source: string;
  paths: Record<NodeCommand, string>;
  buildSeconds?: number;
}

export function kubernetesNodeRoot(version = KUBERNETES_VERSION, source = KUBERNETES_VERSION, cache = testCache()): string {
  return join(cache, version === source ? `kubernetes-node-${version}` : `kubernetes-node-${version}-from-${source}`);
}

function pathsIn<C extends Command>(bin: string, commands: readonly C[]): Record<C, string> {
  return Object.fromEntries(commands.map((c) => [c, join(bin, c)])) as Record<C, string>;
}

/** The version every command reports, or undefined unless all report the same one. */
async function installedVersion(bin: string, commands: readonly Command[]): Promise<string | undefined> {
  const paths = pathsIn(bin, commands);
  const reported = await Promise.all(
    commands.map(async (c) => {
      if (c === "kubeadm") return outputOf(paths[c], ["version", "-o", "short"]);
      if (c === "kubectl") {
        const out = await outputOf(paths[c], ["version", "--client", "-o", "json"]);
        try {
          return out === undefined ? undefined : (JSON.parse(out) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
        } catch {
          return undefined;
        }
      }
      return (await outputOf(paths[c], ["--version"]))?.split(/\s+/)[1]; // "Kubernetes v1.34.2"
    }),
  );
  return reported.every((v) => v !== undefined && v === reported[0]) ? reported[0] : undefined;
}

/**
 * Returns the cached node programs of `source` reporting `version`, building them first when missing. Builds in the
 * control plane's wrapper module directory (its go.mod and go.sum already resolved), after the control plane.
 */
export async function ensureKubernetesNode(version = KUBERNETES_VERSION, source = KUBERNETES_VERSION): Promise<KubernetesNodeBinaries> {
  const root = kubernetesNodeRoot(version, source);
  const built = await ensureStamped(root, NODE_COMMANDS, version, source, "Kubernetes node programs");
  return { bin: join(root, "bin"), version, source, paths: pathsIn(join(root, "bin"), NODE_COMMANDS), buildSeconds: built };
}

export interface StampedControlPlane {
  version: string;
  source: string;
  paths: Record<(typeof CONTROL_PLANE_COMMANDS)[number], string>;
  buildSeconds?: number;
}

/**
 * The control plane's commands of `source` stamped as `version` (for a patch bump over real kubeadm: the static
 * pods' images of the "new" release). Links only: every package is in the build cache after the release's build.
 */
export async function ensureStampedControlPlane(version: string, source = KUBERNETES_VERSION): Promise<StampedControlPlane> {
  if (version === source) throw new Error(`the control plane of ${source} itself is kubernetes.ts's build, not a stamped one`);
  const root = join(testCache(), `kubernetes-${version}-from-${source}`);
  const buildSeconds = await ensureStamped(root, CONTROL_PLANE_COMMANDS, version, source, "Kubernetes control plane (stamped)");
  return { version, source, paths: pathsIn(join(root, "bin"), CONTROL_PLANE_COMMANDS), buildSeconds };
}

/** Builds `commands` of `source` stamped `version` into `<root>/bin` when missing; the seconds it took, if it built. */
async function ensureStamped(root: string, commands: readonly Command[], version: string, source: string, what: string): Promise<number | undefined> {
  const bin = join(root, "bin");
  if ((await installedVersion(bin, commands)) === version) return undefined;
  await ensureKubernetes(source);
  const src = join(kubernetesRoot(source), "src");
  if (!existsSync(join(src, "go.mod"))) throw new Error(`the control plane's build left no wrapper module in ${src}`);
  return withBuildLock(root, async () => {
    if ((await installedVersion(bin, commands)) === version) return undefined;
    const started = Date.now();
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(staging, { recursive: true });
    // The wrapper module is the control plane's; only one `go build` may write its go.sum at a time.
    await withBuildLock(join(kubernetesRoot(source), "src-lock"), () =>
      runGo(`${what} ${version} (source ${source})`, src, [
        "build",
        "-mod=mod",
        "-trimpath",
        "-ldflags",
        versionLdflags(version),
        "-o",
        staging,
        ...commands.map((c) => `k8s.io/kubernetes/cmd/${c}`),
      ], { CGO_ENABLED: "0" }),
    );
    publish(staging, root, commands);
    const got = await installedVersion(bin, commands);
    if (got !== version) throw new Error(`the programs built in ${bin} report ${got ?? "(none, or not all the same)"}, not ${version}`);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, version, buildSeconds);
    writeFileSync(join(root, "source"), `${source}\n`);
    return buildSeconds;
  });
}

/** The release a stamped build came from (the `source` file beside its bin), for reports. */
export function builtFrom(root: string): string | undefined {
  try {
    return readFileSync(join(root, "source"), "utf8").trim();
  } catch {
    return undefined;
  }
}
