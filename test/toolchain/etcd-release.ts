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

/** The two programs of an etcd release built here: the server (the static pod's) and etcdctl (the nodes' host). */
const PROGRAMS = {
  // "etcd Version: 3.6.5\nGit SHA: …"
  etcd: { module: "go.etcd.io/etcd/server/v3", versionArgs: ["--version"], reports: /etcd Version:\s*(\S+)/ },
  // "etcdctl version: 3.6.5\nAPI version: 3.6"
  etcdctl: { module: "go.etcd.io/etcd/etcdctl/v3", versionArgs: ["version"], reports: /etcdctl version:\s*(\S+)/ },
} as const;
type Program = keyof typeof PROGRAMS;

export function etcdReleaseRoot(version = ETCD_RELEASE, cache = testCache()): string {
  return join(cache, `etcd-v${version}`);
}

export function etcdctlRoot(version = ETCD_RELEASE, cache = testCache()): string {
  return join(cache, `etcdctl-v${version}`);
}

async function installedVersion(program: Program, path: string): Promise<string | undefined> {
  return PROGRAMS[program].reports.exec((await outputOf(path, [...PROGRAMS[program].versionArgs])) ?? "")?.[1];
}

/**
 * `program` of etcd `version` in `<root>/bin`, built when missing through its own wrapper module (its siblings at
 * the same release), stamped as etcd's own build stamps it.
 */
async function ensureProgram(program: Program, version: string, root: string): Promise<EtcdRelease> {
  const path = join(root, "bin", program);
  if ((await installedVersion(program, path)) === version) return { path, version };
  return withBuildLock(root, async () => {
    if ((await installedVersion(program, path)) === version) return { path, version };
    const started = Date.now();
    const src = join(root, "src");
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(src, { recursive: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(src, "go.mod"), `module kubeherd.test/${program}\n\ngo 1.24.0\n\nrequire ${PROGRAMS[program].module} v${version}\n`);
    await runGo(`${program} ${version}`, src, [
      "build",
      "-mod=mod",
      "-trimpath",
      "-ldflags",
      "-X go.etcd.io/etcd/api/v3/version.GitSHA=kubeherd",
      "-o",
      join(staging, program),
      PROGRAMS[program].module,
    ], { CGO_ENABLED: "0" });
    publish(staging, root, [program]);
    const got = await installedVersion(program, path);
    if (got !== version) throw new Error(`the ${program} built at ${path} reports ${got ?? "nothing"}, not ${version}`);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, version, buildSeconds);
    return { path, version, buildSeconds };
  });
}

/** The etcd of `version`, built when missing (a few minutes cold). */
export async function ensureEtcdRelease(version = ETCD_RELEASE, root = etcdReleaseRoot(version)): Promise<EtcdRelease> {
  return ensureProgram("etcd", version, root);
}

/**
 * etcdctl of `version`, built when missing: the real nodes carry it on their host (`/usr/bin/etcdctl`, where
 * Ubuntu's etcd-client puts it) for kubeherd's etcd check and snapshot. The module and build caches are the
 * server's, so it costs etcdctl's own packages and a link.
 */
export async function ensureEtcdctl(version = ETCD_RELEASE, root = etcdctlRoot(version)): Promise<EtcdRelease> {
  return ensureProgram("etcdctl", version, root);
}
