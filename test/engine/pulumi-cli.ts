/**
 * The Pulumi CLI for the engine test, built from the Go module proxy (its usual download host is unreachable here)
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
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

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

export function pulumiCliRoot(version = PULUMI_VERSION, cache = process.env.KUBEHERD_TEST_CACHE ?? "/var/cache/kubeherd-test"): string {
  return join(cache, `pulumi-${version}`);
}

/** The Go toolchain: `$GO`, else the machine's /usr/local/go, else `go` on PATH. */
export function goBinary(): string {
  if (process.env.GO) return process.env.GO;
  return existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";
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
  const binary = join(root, "bin", "pulumi");
  if (!existsSync(binary)) return undefined;
  try {
    const { stdout } = await run(binary, ["version"], { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** Returns the cached CLI, building it first when it is missing (a cold build takes minutes). */
export async function ensurePulumiCli(version = PULUMI_VERSION, root = pulumiCliRoot(version)): Promise<PulumiCli> {
  if ((await installedVersion(root)) === version) return { root, version };
  const started = Date.now();
  const go = goBinary();
  const src = join(root, "src");
  const staging = join(root, `bin.${process.pid}`);
  mkdirSync(src, { recursive: true });
  const inSrc = async (args: string[], env: Record<string, string> = {}) => {
    try {
      return await run(go, args, { cwd: src, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`building the Pulumi CLI: \`go ${args.join(" ")}\` failed in ${src}:\n${e.stderr ?? e.message}`, { cause: err });
    }
  };

  // A bare module first: `go mod download` runs inside one. Then pkg's own go.mod says which replaces to copy.
  writeFileSync(join(src, "go.mod"), wrapperGoMod([]));
  rmSync(join(src, "go.sum"), { force: true });
  const { stdout } = await inSrc(["mod", "download", "-json", `${PKG}@${version}`]);
  const pkgGoMod = readFileSync((JSON.parse(stdout) as { GoMod: string }).GoMod, "utf8");
  writeFileSync(join(src, "go.mod"), wrapperGoMod(remoteReplaces(pkgGoMod)));
  await inSrc(["get", `${PKG}/cmd/pulumi@${version}`, `${SDK}@${version}`]);
  await inSrc(["install", "-ldflags", `-X ${SDK}/go/common/version.Version=${version}`, `${PKG}/cmd/pulumi`], { GOBIN: staging });
  // Publish whole: a reader never sees a half-written binary.
  mkdirSync(join(root, "bin"), { recursive: true });
  renameSync(join(staging, "pulumi"), join(root, "bin", "pulumi"));
  rmSync(staging, { recursive: true, force: true });

  const got = await installedVersion(root);
  if (got !== version) throw new Error(`the Pulumi CLI built in ${root} reports version ${got ?? "(none)"}, not ${version}`);
  const buildSeconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(join(root, "build.json"), `${JSON.stringify({ version, buildSeconds, builtAt: new Date().toISOString() })}\n`);
  return { root, version, buildSeconds };
}
