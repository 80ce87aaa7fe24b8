/**
 * The Debian bookworm root every script test starts from: made once by debootstrap and cached as a tarball in
 * `${KUBEHERD_TEST_CACHE:-/var/cache/kubeherd-test}`, keyed by a hash of the recipe, so only the first run on a
 * machine (or a recipe change) pays for debootstrap.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { removeTree } from "./mounts";
import { runOrThrow } from "./process";

/**
 * What the root is made of. `include` lists what the generated scripts call beyond minbase: curl and gnupg fetch
 * upstream signing keys (ca-certificates lets curl speak TLS); python3 runs the cattle boot script's SSM client,
 * as on Ubuntu's cloud images; sudo is how a pets script reaches root over SSH as the `ubuntu` user;
 * openssh-server is the real sshd the end-to-end tier's nodes serve (test/support/ssh-nodes). iptables, iproute2, ethtool
 * and the libraries docker-ce links (libapparmor1, libdevmapper1.02.1, libltdl7) are what the real kubelet and
 * docker-ce packages depend on (package-depends.ts) and an Ubuntu server already has: real Debian packages, so
 * apt checks those Depends against real installed versions. Bump `revision` when the steps of `ensureBaseRoot` change.
 */
export const RECIPE = {
  suite: "bookworm",
  variant: "minbase",
  include: [
    "ca-certificates",
    "curl",
    "gnupg",
    "python3",
    "sudo",
    "openssh-server",
    "iptables",
    "iproute2",
    "ethtool",
    "libapparmor1",
    "libdevmapper1.02.1",
    "libltdl7",
  ],
  revision: 2,
} as const;

const DEFAULT_MIRROR = "http://deb.debian.org/debian";
/** debootstrap takes about 25 s on an idle machine, and over 5 minutes (runOrThrow's default) on a busy one. */
const DEBOOTSTRAP_TIMEOUT_MS = 30 * 60_000;

export function testCacheDir(): string {
  return process.env.KUBEHERD_TEST_CACHE ?? "/var/cache/kubeherd-test";
}

/** The recipe's key. The mirror is left out: any Debian mirror yields the same root. */
export function recipeKey(recipe: typeof RECIPE = RECIPE): string {
  return createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 16);
}

const BASE_PREFIX = `debian-${RECIPE.suite}-${RECIPE.variant}-`;

export function baseRootTarball(): string {
  return join(testCacheDir(), `${BASE_PREFIX}${recipeKey()}.tar`);
}

/**
 * The Debian mirror this machine's apt already uses (so debootstrap reaches it as apt does), from deb822
 * `.sources` files or one-line `sources.list` entries; Debian's default mirror if none is found.
 */
export function hostMirror(aptDir = "/etc/apt"): string {
  const files: string[] = [];
  const listDir = join(aptDir, "sources.list.d");
  if (existsSync(listDir)) {
    for (const f of readdirSync(listDir).sort()) {
      if (f.endsWith(".sources") || f.endsWith(".list")) files.push(join(listDir, f));
    }
  }
  if (existsSync(join(aptDir, "sources.list"))) files.unshift(join(aptDir, "sources.list"));
  for (const file of files) {
    const found = mirrorIn(readFileSync(file, "utf8"), RECIPE.suite);
    if (found) return found;
  }
  return DEFAULT_MIRROR;
}

/** The first URI serving `suite` itself (not its -security or -updates companions) in a sources file's text. */
export function mirrorIn(text: string, suite: string): string | undefined {
  // deb822 stanzas
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "mi").exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
    if (!field("Types").includes("deb") || !field("Suites").includes(suite)) continue;
    if (/^Enabled:\s*no/mi.test(stanza)) continue;
    const uri = field("URIs")[0];
    if (uri) return uri;
  }
  // one-line format
  for (const line of text.split("\n")) {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
    if (m && m[2] === suite) return m[1];
  }
  return undefined;
}

/** Builds the cached root unless it is already there; returns the tarball's path. */
export async function ensureBaseRoot(): Promise<string> {
  const tarball = baseRootTarball();
  if (existsSync(tarball)) return tarball;
  mkdirSync(testCacheDir(), { recursive: true });
  // Built beside the cache and renamed into place: a concurrent or interrupted build never leaves a torn tarball.
  const work = join(testCacheDir(), `build-${process.pid}-${Date.now()}`);
  const root = join(work, "root");
  const log = `${work}.log`;
  mkdirSync(root, { recursive: true });
  try {
    await runOrThrow("sh", [
      "-c",
      'debootstrap --variant="$1" --include="$2" "$3" "$4" "$5" >"$6" 2>&1 || { echo "debootstrap failed; its log: $6" >&2; exit 1; }',
      "debootstrap",
      RECIPE.variant,
      RECIPE.include.join(","),
      RECIPE.suite,
      root,
      hostMirror(),
      log,
    ], { timeoutMs: DEBOOTSTRAP_TIMEOUT_MS });
    // Downloaded .debs and the mirror's package lists are dead weight: tests use their own repository.
    await runOrThrow("sh", ["-c", 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/etc/apt/sources.list', "clean", root]);
    await runOrThrow("tar", ["-C", root, "--numeric-owner", "-cf", `${tarball}.partial-${process.pid}`, "."]);
    renameSync(`${tarball}.partial-${process.pid}`, tarball);
    rmSync(log, { force: true });
    await pruneCache(BASE_PREFIX, basename(tarball));
  } finally {
    await removeTree(work);
    rmSync(`${tarball}.partial-${process.pid}`, { force: true });
  }
  return tarball;
}

/**
 * The cached root extracted once into the cache (beside its tarball), for test roots that overlay it instead of
 * extracting their own copy. Read-only by convention: overlays never write to it.
 */
export async function ensureExtractedBaseRoot(): Promise<string> {
  const tarball = await ensureBaseRoot();
  const dir = tarball.replace(/\.tar$/, ".root");
  if (existsSync(join(dir, ".complete"))) return dir;
  const work = `${dir}.partial-${process.pid}`;
  mkdirSync(work, { recursive: true });
  try {
    await runOrThrow("tar", ["-C", work, "--numeric-owner", "-xf", tarball]);
    writeFileSync(join(work, ".complete"), "");
    publishDir(work, dir);
  } finally {
    if (existsSync(work)) await removeTree(work);
  }
  return dir;
}

/**
 * How long an entry another recipe uses is kept: another checkout (a worktree, a second CI clone) on another recipe
 * may be running on it right now, with its repository bound into a node. Each use marks its entry as used.
 */
const PRUNE_AFTER_MS = 12 * 3600_000;

/**
 * Deletes cache entries named `<prefix>…` other than `keep` (and its extracted root) not used for PRUNE_AFTER_MS:
 * older recipes' roots and repositories. `keep` is marked as used now.
 */
export async function pruneCache(prefix: string, keep: string): Promise<void> {
  const keepStem = keep.replace(/\.tar$/, "");
  const now = new Date();
  for (const entry of readdirSync(testCacheDir())) {
    if (!entry.startsWith(prefix) || entry.includes(".partial-")) continue;
    const path = join(testCacheDir(), entry);
    if (entry.startsWith(keepStem)) {
      utimesSync(path, now, now);
      continue;
    }
    if (now.getTime() - statSync(path).mtimeMs < PRUNE_AFTER_MS) continue;
    await removeTree(path);
  }
}

/**
 * Moves a finished build into place. A directory only ever appears there complete (renamed whole), and another
 * process may already be using the one that is there (as an overlay's lower layer): if one is there, it is kept
 * and this build is dropped.
 */
export function publishDir(work: string, dir: string): void {
  if (existsSync(dir)) return;
  try {
    renameSync(work, dir);
  } catch (e) {
    // another process published the same build between the check and the rename
    if (!existsSync(dir)) throw e;
  }
}
