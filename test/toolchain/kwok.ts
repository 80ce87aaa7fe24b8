/**
 * KWOK, the controller that plays the kubelets of the e2e tier's simulated nodes, built with
 * `go install sigs.k8s.io/kwok/cmd/kwok@<version>` (its module has no local replaces, so this works as is) into
 * `<cache>/kwok-<version>/bin/kwok`, and reused when present. About 5 min cold here.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { outputOf, publish, recordBuild, runGo, testCache, withBuildLock } from "./go-build";

export const KWOK_VERSION = "v0.7.0";

export interface KwokBinary {
  path: string;
  version: string;
  /** Seconds the build took in this call; undefined when a cached binary was reused. */
  buildSeconds?: number;
}

export function kwokRoot(version = KWOK_VERSION, cache = testCache()): string {
  return join(cache, `kwok-${version}`);
}

/** `kwok --version` says "kwok version v0.7.0 go1.26.8 (linux/amd64)". */
async function installedVersion(path: string): Promise<string | undefined> {
  return (await outputOf(path, ["--version"]))?.split(/\s+/).find((w) => /^v\d+\.\d+\.\d+/.test(w));
}

export async function ensureKwok(version = KWOK_VERSION, root = kwokRoot(version)): Promise<KwokBinary> {
  const path = join(root, "bin", "kwok");
  if ((await installedVersion(path)) === version) return { path, version };
  return withBuildLock(root, async () => {
    if ((await installedVersion(path)) === version) return { path, version };
    const started = Date.now();
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(staging, { recursive: true });
    await runGo(`KWOK ${version}`, root, ["install", `sigs.k8s.io/kwok/cmd/kwok@${version}`], { GOBIN: staging, CGO_ENABLED: "0" });
    publish(staging, root, ["kwok"]);
    const got = await installedVersion(path);
    if (got !== version) throw new Error(`the KWOK built in ${path} reports version ${got ?? "(none)"}, not ${version}`);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, version, buildSeconds);
    return { path, version, buildSeconds };
  });
}
