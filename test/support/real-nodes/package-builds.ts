/**
 * The programs of the real nodes' packages that the Kubernetes build does not make, built from the Go module proxy
 * as their projects release them: crictl (cri-tools), the CNI plugins kubernetes-cni ships, and containerd for
 * containerd.io. Each through a wrapper module that requires the release (their go.mod files carry `replace` or
 * `exclude` directives, so `go install pkg@version` refuses them), stamped as their own builds stamp the version.
 *
 * The versions are the ones pkgs.k8s.io's v1.34 repository and Docker's repository ship beside Kubernetes 1.34:
 * cri-tools 1.34.0, kubernetes-cni 1.7.1, and containerd 1.7.24 (Kubernetes 1.33+ needs containerd 1.6.36+, 1.7.24+
 * or 2.0.4+, which kubeherd's own rules enforce: Debian's 1.6.20 on the host is too old to be pinned).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { publish, recordBuild, runGo, testCache, withBuildLock } from "../../toolchain/go-build";

export interface PackageBuild {
  /** The release, as its project numbers it (no leading v). */
  readonly version: string;
  readonly module: string;
  /** Main packages, each built to a binary named after its last path element. */
  readonly packages: readonly string[];
  /** `-X` flags stamping the version as the project's own build does. */
  readonly ldflags: string;
  /** Build tags (containerd: the snapshotters that need cgo or kernel modules left out). */
  readonly tags?: string;
  /** The release whose source is built when it is not `version` (a version stamped at link time on it). */
  readonly source?: string;
}

export const CRI_TOOLS: PackageBuild = {
  version: "1.34.0",
  module: "sigs.k8s.io/cri-tools",
  packages: ["sigs.k8s.io/cri-tools/cmd/crictl"],
  ldflags: "-X sigs.k8s.io/cri-tools/pkg/version.Version=1.34.0",
};

export const CNI_PLUGINS: PackageBuild = {
  version: "1.7.1",
  module: "github.com/containernetworking/plugins",
  packages: ["main/bridge", "ipam/host-local", "main/loopback", "meta/portmap"].map((p) => `github.com/containernetworking/plugins/plugins/${p}`),
  ldflags: "-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v1.7.1",
};

export const CONTAINERD: PackageBuild = {
  version: "1.7.24",
  module: "github.com/containerd/containerd",
  packages: ["containerd", "containerd-shim-runc-v2", "ctr"].map((c) => `github.com/containerd/containerd/cmd/${c}`),
  ldflags: "-X github.com/containerd/containerd/version.Version=1.7.24 -X github.com/containerd/containerd/version.Package=containerd.io -X github.com/containerd/containerd/version.Revision=kubeherd",
  tags: "no_btrfs,no_devmapper,no_zfs,no_aufs",
};

/**
 * containerd.io's next pin for the runtime bump (real-pets.e2e.ts): the 1.7.24 source with 1.7.25 stamped where
 * containerd's own Makefile stamps it (`version.Version`, which `containerd --version` prints and the CRI's Version
 * call reports as the runtime version). A link, not a build: test/e2e/README.md says why and what it proves.
 */
export const CONTAINERD_NEXT: PackageBuild = {
  ...CONTAINERD,
  version: "1.7.25",
  source: CONTAINERD.version,
  ldflags: CONTAINERD.ldflags.replace("version.Version=1.7.24", "version.Version=1.7.25"),
};

export interface BuiltPrograms {
  /** Binary name -> path. */
  readonly paths: Record<string, string>;
  readonly version: string;
  readonly buildSeconds?: number;
}

const binaryName = (pkg: string) => pkg.split("/").pop() ?? pkg;

/** The build's binaries, built into `<cache>/<name>-v<version>/bin` when missing. */
export async function ensurePackageBuild(name: string, b: PackageBuild): Promise<BuiltPrograms> {
  const root = join(testCache(), `${name}-v${b.version}${b.source && b.source !== b.version ? `-from-v${b.source}` : ""}`);
  const names = b.packages.map(binaryName);
  const paths = Object.fromEntries(names.map((n) => [n, join(root, "bin", n)]));
  const done = () => names.every((n) => existsSync(paths[n] ?? "")) && readVersion(root) === b.version;
  if (done()) return { paths, version: b.version };
  return withBuildLock(root, async () => {
    if (done()) return { paths, version: b.version };
    const started = Date.now();
    const src = join(root, "src");
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(src, { recursive: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(src, "go.mod"), `module kubeherd.test/${name}\n\ngo 1.24.0\n\nrequire ${b.module} v${b.source ?? b.version}\n`);
    await runGo(`${name} ${b.version}`, src, [
      "build", "-mod=mod", "-trimpath", ...(b.tags ? ["-tags", b.tags] : []), "-ldflags", b.ldflags, "-o", `${staging}/`, ...b.packages,
    ], { CGO_ENABLED: "0" });
    publish(staging, root, names);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, b.version, buildSeconds);
    return { paths, version: b.version, buildSeconds };
  });
}

function readVersion(root: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(root, "build.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
