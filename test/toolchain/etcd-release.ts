/**
 * etcd of the release kubeadm 1.34 deploys by default (3.6.5; its constants say `DefaultEtcdVersion = "3.6.5-0"`),
 * for the real nodes' etcd static pod. Debian's etcd-server is 3.4.23, older than kubeadm's
 * `MinExternalEtcdVersion` (3.5.24) and without the watch progress notifications kube-apiserver 1.34's WatchList
 * needs, so it is built from the Go module proxy: `go.etcd.io/etcd/server/v3` is the `etcd` main package, and its
 * go.mod replaces its sibling modules with `../api` and the like, so `go install` refuses; a wrapper module requires
 * it (the siblings resolve to their published versions of the same release) and builds it, stamped as etcd's own
 * build stamps it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { outputOf, publish, recordBuild, runGo, testCache, withBuildLock } from "./go-build";

export const ETCD_RELEASE = "3.6.5";

export interface EtcdRelease {
  path: string;
  version: string;
  buildSeconds?: number;
}

export function etcdReleaseRoot(version = ETCD_RELEASE, cache = testCache()): string {
  return join(cache, `etcd-v${version}`);
}

async function installedVersion(path: string): Promise<string | undefined> {
  // "etcd Version: 3.6.5\nGit SHA: …"
  return /etcd Version:\s*(\S+)/.exec((await outputOf(path, ["--version"])) ?? "")?.[1];
}

/** The etcd of `version`, built when missing (a few minutes cold). */
export async function ensureEtcdRelease(version = ETCD_RELEASE, root = etcdReleaseRoot(version)): Promise<EtcdRelease> {
  const path = join(root, "bin", "etcd");
  if ((await installedVersion(path)) === version) return { path, version };
  return withBuildLock(root, async () => {
    if ((await installedVersion(path)) === version) return { path, version };
    const started = Date.now();
    const what = `etcd ${version}`;
    const src = join(root, "src");
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(src, { recursive: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(src, "go.mod"), `module kubeherd.test/etcd\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 v${version}\n`);
    await runGo(what, src, [
      "build",
      "-mod=mod",
      "-trimpath",
      "-ldflags",
      "-X go.etcd.io/etcd/api/v3/version.GitSHA=kubeherd",
      "-o",
      join(staging, "etcd"),
      "go.etcd.io/etcd/server/v3",
    ], { CGO_ENABLED: "0" });
    publish(staging, root, ["etcd"]);
    const got = await installedVersion(path);
    if (got !== version) throw new Error(`the etcd built at ${path} reports ${got ?? "nothing"}, not ${version}`);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, version, buildSeconds);
    return { path, version, buildSeconds };
  });
}

export function etcdctlRoot(version = ETCD_RELEASE, cache = testCache()): string {
  return join(cache, `etcdctl-v${version}`);
}

async function etcdctlVersion(path: string): Promise<string | undefined> {
  // "etcdctl version: 3.6.5\nAPI version: 3.6"
  return /etcdctl version:\s*(\S+)/.exec((await outputOf(path, ["version"])) ?? "")?.[1];
}

/**
 * etcdctl of `version`, built when missing: the etcd image carries it as the release's image does
 * (`registry.k8s.io/etcd` ships etcd, etcdctl and etcdutl), so kubeherd's converge script finds it in the etcd
 * container. Its own wrapper module (`go.etcd.io/etcd/etcdctl/v3`, siblings at the same release) and cache entry;
 * the module and build caches are the server's, so it costs etcdctl's own packages and a link.
 */
export async function ensureEtcdctl(version = ETCD_RELEASE, root = etcdctlRoot(version)): Promise<EtcdRelease> {
  const path = join(root, "bin", "etcdctl");
  if ((await etcdctlVersion(path)) === version) return { path, version };
  return withBuildLock(root, async () => {
    if ((await etcdctlVersion(path)) === version) return { path, version };
    const started = Date.now();
    const src = join(root, "src");
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(src, { recursive: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(src, "go.mod"), `module kubeherd.test/etcdctl\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/etcdctl/v3 v${version}\n`);
    await runGo(`etcdctl ${version}`, src, [
      "build",
      "-mod=mod",
      "-trimpath",
      "-ldflags",
      "-X go.etcd.io/etcd/api/v3/version.GitSHA=kubeherd",
      "-o",
      join(staging, "etcdctl"),
      "go.etcd.io/etcd/etcdctl/v3",
    ], { CGO_ENABLED: "0" });
    publish(staging, root, ["etcdctl"]);
    const got = await etcdctlVersion(path);
    if (got !== version) throw new Error(`the etcdctl built at ${path} reports ${got ?? "nothing"}, not ${version}`);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, version, buildSeconds);
    return { path, version, buildSeconds };
  });
}
