/**
 * dpkg's view of a root, read straight from /var/lib/dpkg/status: which version of each package is installed,
 * whether it is held, and whether dpkg left it half done.
 */

export interface PackageState {
  readonly version: string;
  /** `apt-mark hold` (dpkg selection `hold`). */
  readonly held: boolean;
  /** dpkg's package state: `installed`, or `half-configured`, `unpacked`, … when an install died half way. */
  readonly state: string;
}

/** Every package dpkg knows that is not `not-installed`/`config-files`, by name. */
export function parseDpkgStatus(text: string): Map<string, PackageState> {
  const out = new Map<string, PackageState>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(stanza)?.[1]?.trim();
    const name = field("Package");
    const status = field("Status")?.split(/\s+/);
    const version = field("Version");
    if (!name || !status || status.length !== 3 || !version) continue;
    const [selection, , state] = status;
    if (state === "not-installed" || state === "config-files") continue;
    out.set(name, { version, held: selection === "hold", state });
  }
  return out;
}

/** `{ pkg: version }` for the named packages that are installed (absent ones are left out). */
export function versionsOf(status: Map<string, PackageState>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (status.has(n) ? [[n, status.get(n)?.version ?? ""]] : [])));
}

/** The held packages among `status`, sorted. */
export function heldPackages(status: Map<string, PackageState>): string[] {
  return [...status.entries()].filter(([, s]) => s.held).map(([n]) => n).sort();
}
