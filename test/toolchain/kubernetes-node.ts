/**
 * The node programs of a Kubernetes release (kubelet, kubeadm, kube-proxy) for the real-node harness (test/real/),
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

function pathsIn(bin: string): Record<NodeCommand, string> {
  return Object.fromEntries(NODE_COMMANDS.map((c) => [c, join(bin, c)])) as Record<NodeCommand, string>;
}

/** The version every command reports, or undefined unless all report the same one. */
async function installedVersion(bin: string): Promise<string | undefined> {
  const paths = pathsIn(bin);
  const reported = await Promise.all(
    NODE_COMMANDS.map(async (c) => {
      if (c === "kubeadm") return outputOf(paths.kubeadm, ["version", "-o", "short"]);
      if (c === "kubectl") {
        const out = await outputOf(paths.kubectl, ["version", "--client", "-o", "json"]);
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
  const bin = join(root, "bin");
  const cached = async () => ((await installedVersion(bin)) === version ? { bin, version, source, paths: pathsIn(bin) } : undefined);
  const found = await cached();
  if (found) return found;
  await ensureKubernetes(source);
  const src = join(kubernetesRoot(source), "src");
  if (!existsSync(join(src, "go.mod"))) throw new Error(`the control plane's build left no wrapper module in ${src}`);
  return withBuildLock(root, async () => {
    const built = await cached();
    if (built) return built;
    const started = Date.now();
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(staging, { recursive: true });
    // The wrapper module is the control plane's; only one `go build` may write its go.sum at a time.
    await withBuildLock(join(kubernetesRoot(source), "src-lock"), () =>
      runGo(`Kubernetes node programs ${version} (source ${source})`, src, [
        "build",
        "-mod=mod",
        "-trimpath",
        "-ldflags",
        versionLdflags(version),
        "-o",
        staging,
        ...NODE_COMMANDS.map((c) => `k8s.io/kubernetes/cmd/${c}`),
      ], { CGO_ENABLED: "0" }),
    );
    publish(staging, root, NODE_COMMANDS);
    const got = await installedVersion(bin);
    if (got !== version) throw new Error(`the node programs built in ${bin} report ${got ?? "(none, or not all the same)"}, not ${version}`);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, version, buildSeconds);
    writeFileSync(join(root, "source"), `${source}\n`);
    return { bin, version, source, paths: pathsIn(bin), buildSeconds };
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
