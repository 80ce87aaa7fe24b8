/**
 * The Pulumi CLI for the engine and e2e tiers, built from the Go module proxy (its usual download host is unreachable here)
 * into `${KUBEHERD_TEST_CACHE:-/var/cache/kubeherd-test}/pulumi-<version>/bin/pulumi`, and reused when present.
 *
 * `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@<version>` refuses to build: pkg/go.mod has `replace`
 * directives (sdk/v3 => ../sdk, and a forked clipboard module). So the build goes through a small wrapper module
 * that requires pkg/v3 and sdk/v3 at the same version and copies pkg's non-local replaces, then `go install`s the
 * command from it, with the version stamped in as Pulumi's release build does (the Automation API checks it).
 *
 * The Node.js language host is not built: its module
 * (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, its own go.mod in the pulumi repository) is not
 * served by the proxy ("403 This module version is not available"). The test does not need it: the Automation API
 * serves the program's language runtime itself (`pulumi up --client`), see program/up.ts.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { outputOf, publish, recordBuild, runGo, testCache, withBuildLock } from "./go-build";

export const PULUMI_VERSION = "v3.274.1";
const PKG = "github.com/pulumi/pulumi/pkg/v3";
const SDK = "github.com/pulumi/pulumi/sdk/v3";

export interface PulumiCli {
  /** The installation root: the Automation API's `PulumiCommand.get({ root })` runs `<root>/bin/pulumi`. */
  root: string;
  version: string;
  /** Seconds the build took in this call; undefined when a cached binary was reused. */
  buildSeconds?: number;
}

export function pulumiCliRoot(version = PULUMI_VERSION, cache = testCache()): string {
  return join(cache, `pulumi-${version}`);
}

/** The `replace` directives of a go.mod that do not point at a local directory, as `old => new version` lines. */
export function remoteReplaces(goMod: string): string[] {
  const lines: string[] = [];
  const block = /^replace\s*\(\s*$([\s\S]*?)^\)/gm;
  const single = /^replace\s+(?!\()(.+)$/gm;
  for (const m of goMod.matchAll(block)) lines.push(...m[1].split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("//")));
  for (const m of goMod.matchAll(single)) lines.push(m[1].trim());
  return lines.filter((l) => {
    const target = l.split("=>")[1]?.trim() ?? "";
    return target !== "" && !target.startsWith(".") && !target.startsWith("/");
  });
}

/** The wrapper module's go.mod: the version is pinned by `go get` afterwards. */
export function wrapperGoMod(replaces: string[]): string {
  return ["module kubeherd.test/pulumi-cli", "", "go 1.26", "", ...replaces.map((r) => `replace ${r}`), ""].join("\n");
}

async function installedVersion(root: string): Promise<string | undefined> {
  return outputOf(join(root, "bin", "pulumi"), ["version"], { PULUMI_SKIP_UPDATE_CHECK: "true" });
}

/** Returns the cached CLI, building it first when it is missing (a cold build takes minutes). */
export async function ensurePulumiCli(version = PULUMI_VERSION, root = pulumiCliRoot(version)): Promise<PulumiCli> {
  if ((await installedVersion(root)) === version) return { root, version };
  return withBuildLock(root, async () => {
    if ((await installedVersion(root)) === version) return { root, version }; // built by the run we waited for
    const started = Date.now();
    const what = `the Pulumi CLI ${version}`;
    const src = join(root, "src");
    const staging = join(root, `bin.${process.pid}`);
    mkdirSync(src, { recursive: true });

    // A bare module first: `go mod download` runs inside one. Then pkg's own go.mod says which replaces to copy.
    writeFileSync(join(src, "go.mod"), wrapperGoMod([]));
    rmSync(join(src, "go.sum"), { force: true });
    const { stdout } = await runGo(what, src, ["mod", "download", "-json", `${PKG}@${version}`]);
    const pkgGoMod = readFileSync((JSON.parse(stdout) as { GoMod: string }).GoMod, "utf8");
    writeFileSync(join(src, "go.mod"), wrapperGoMod(remoteReplaces(pkgGoMod)));
    await runGo(what, src, ["get", `${PKG}/cmd/pulumi@${version}`, `${SDK}@${version}`]);
    await runGo(what, src, ["install", "-ldflags", `-X ${SDK}/go/common/version.Version=${version}`, `${PKG}/cmd/pulumi`], { GOBIN: staging });
    publish(staging, root, ["pulumi"]);

    const got = await installedVersion(root);
    if (got !== version) throw new Error(`the Pulumi CLI built in ${root} reports version ${got ?? "(none)"}, not ${version}`);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    recordBuild(root, version, buildSeconds);
    return { root, version, buildSeconds };
  });
}
