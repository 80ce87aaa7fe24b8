/**
 * The Kubernetes control plane binaries for the e2e tier (kube-apiserver, kube-controller-manager, kube-scheduler and
 * kubectl of one release), built from the Go module proxy into `<cache>/kubernetes-<version>/bin` and reused when
 * present (shared/docs/FACTS.md §8). No release download host is reachable here, and Debian's kubectl is 1.20.
 *
 * `go install k8s.io/kubernetes/cmd/...@v1.34.2` refuses: kubernetes' go.mod replaces every k8s.io/X library with
 * its own `./staging/src/k8s.io/X` directory. Those libraries are published as modules `k8s.io/X v0.<minor>.<patch>`
 * from the same tree, so a wrapper module requires k8s.io/kubernetes and replaces each staging directory with the
 * published module, keeps kubernetes' `godebug default=go1.24`, and builds the four commands in ONE `go build` (they
 * share most packages: one invocation compiles each once). The version is stamped in as hack/lib/version.sh does;
 * without it the binaries say v0.0.0-master and kubectl's skew warnings and the apiserver's /version lie.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { outputOf, publish, recordBuild, runGo, testCache, withBuildLock } from "./go-build";

export const KUBERNETES_VERSION = "v1.34.2";
export const KUBERNETES_COMMANDS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"] as const;
export type KubernetesCommand = (typeof KUBERNETES_COMMANDS)[number];

export interface KubernetesBinaries {
  /** `<root>/bin`, holding the four commands. */
  bin: string;
  version: string;
  paths: Record<KubernetesCommand, string>;
  /** Seconds the build took in this call; undefined when cached binaries were reused. */
  buildSeconds?: number;
}

export function kubernetesRoot(version = KUBERNETES_VERSION, cache = testCache()): string {
  return join(cache, `kubernetes-${version}`);
}

/** The modules kubernetes' go.mod points at its staging tree, as `k8s.io/X`. */
export function stagingModules(kubernetesGoMod: string): string[] {
  return [...kubernetesGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\/src\/\1\s*$/gm)].map((m) => m[1]);
}

/** v1.34.2 -> v0.34.2: the version the staging libraries are published at for a release. */
export function stagingVersion(version: string): string {
  const m = /^v1\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`kubernetes version ${version}: expected v1.MINOR.PATCH`);
  return `v0.${m[1]}.${m[2]}`;
}

export function kubernetesWrapperGoMod(version: string, staging: readonly string[]): string {
  const v = stagingVersion(version);
  return [
    "module kubeherd.test/kubernetes",
    "",
    "go 1.24.0",
    "",
    // kubernetes' own go.mod says so; a main module's godebug is what the binaries get.
    "godebug default=go1.24",
    "",
    `require k8s.io/kubernetes ${version}`,
    "",
    "replace (",
    ...staging.map((m) => `\t${m} => ${m} ${v}`),
    ")",
    "",
  ].join("\n");
}

/** The `-X` flags hack/lib/version.sh sets for a release build. */
export function versionLdflags(version: string): string {
  const [major, minor] = version.replace(/^v/, "").split(".");
  const vars = { gitVersion: version, gitMajor: major, gitMinor: minor, gitTreeState: "clean", buildDate: "1970-01-01T00:00:00Z" };
  const pkgs = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"];
  return pkgs.flatMap((p) => Object.entries(vars).map(([k, v]) => `-X ${p}.${k}=${v}`)).join(" ");
}

function pathsIn(bin: string): Record<KubernetesCommand, string> {
  return Object.fromEntries(KUBERNETES_COMMANDS.map((c) => [c, join(bin, c)])) as Record<KubernetesCommand, string>;
}

/** The version every command in `bin` reports, or undefined unless all four report the same one. */
async function installedVersion(bin: string): Promise<string | undefined> {
  const paths = pathsIn(bin);
  const reported = await Promise.all(
    KUBERNETES_COMMANDS.map(async (c) => {
      if (c === "kubectl") {
        const out = await outputOf(paths.kubectl, ["version", "--client", "-o", "json"]);
        try {
          return out === undefined ? undefined : (JSON.parse(out) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
        } catch {
          return undefined;
        }
      }
      // "Kubernetes v1.34.2"
      return (await outputOf(paths[c], ["--version"]))?.split(/\s+/)[1];
    }),
  );
  return reported.every((v) => v !== undefined && v === reported[0]) ? reported[0] : undefined;
}

/** Returns the cached binaries, building them first when missing (a cold build takes about 16 min on 2 cores). */
export async function ensureKubernetes(version = KUBERNETES_VERSION, root = kubernetesRoot(version)): Promise<KubernetesBinaries> {
  const bin = join(root, "bin");
  const cached = async () => ((await installedVersion(bin)) === version ? { bin, version, paths: pathsIn(bin) } : undefined);
  const found = await cached();
  if (found) return found;
  return withBuildLock(root, async () => {
    const built = await cached(); // another run may have built it while we waited for the lock
    if (built) return built;
    const started = Date.now();
    const what = `Kubernetes ${version}`;
    const src = join(root, "src");
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "go.mod"), "module kubeherd.test/kubernetes\n\ngo 1.24.0\n");
    rmSync(join(src, "go.sum"), { force: true });
    const { stdout } = await runGo(what, src, ["mod", "download", "-json", `k8s.io/kubernetes@${version}`]);
    const staged = stagingModules(readFileSync((JSON.parse(stdout) as { GoMod: string }).GoMod, "utf8"));
    if (staged.length === 0) throw new Error(`building ${what}: its go.mod names no ./staging/src modules; the recipe no longer fits`);
    writeFileSync(join(src, "go.mod"), kubernetesWrapperGoMod(version, staged));
    // -mod=mod lets go resolve the wrapper's module graph and record go.sum as it loads the four commands.
    const pkgs = KUBERNETES_COMMANDS.map((c) => `k8s.io/kubernetes/cmd/${c}`);
    mkdirSync(staging, { recursive: true });
    await runGo(what, src, ["build", "-mod=mod", "-trimpath", "-ldflags", versionLdflags(version), "-o", staging, ...pkgs], { CGO_ENABLED: "0" });
    publish(staging, root, KUBERNETES_COMMANDS);
    const got = await installedVersion(bin);
    if (got !== version) throw new Error(`the Kubernetes binaries built in ${bin} report version ${got ?? "(none, or not all the same)"}, not ${version}`);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, version, buildSeconds);
    return { bin, version, paths: pathsIn(bin), buildSeconds };
  });
}
