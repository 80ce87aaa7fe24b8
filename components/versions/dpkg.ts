/**
 * Debian version ordering exactly as dpkg does it (deb-version(7), dpkg's lib/dpkg/version.c): apt picks, holds
 * and upgrades packages by this order, so a pin is "lower" or "higher" only in its terms, never by semver.
 *
 * A version is `[epoch:]upstream[-revision]`. Versions dpkg refuses (empty parts, a bad epoch) throw, and so do
 * the ones it only warns about (upstream not starting with a digit, characters outside the allowed sets): a pin
 * with bad syntax is a config error here, not a warning on a node.
 */

export interface DebianVersion {
  /** 0 when the version has no `epoch:` prefix. */
  epoch: number;
  upstream: string;
  /** "" when the version has no `-revision`; dpkg orders "" like "0". */
  revision: string;
}

/** dpkg refuses epochs above INT_MAX ("epoch in version is too big"). */
const MAX_EPOCH = 2_147_483_647;
const UPSTREAM_WITH_EPOCH = /^[0-9][A-Za-z0-9.+~:-]*$/;
const UPSTREAM = /^[0-9][A-Za-z0-9.+~-]*$/;
const REVISION = /^[A-Za-z0-9.+~]+$/;

export class DebianVersionError extends Error {
  constructor(readonly version: string, reason: string) {
    super(`version '${version}' has bad syntax: ${reason}`);
    this.name = "DebianVersionError";
  }
}

export function parseDebianVersion(v: string): DebianVersion {
  // dpkg trims surrounding white space but refuses it inside.
  const text = v.trim();
  if (text === "") throw new DebianVersionError(v, "version string is empty");
  if (/\s/.test(text)) throw new DebianVersionError(v, "version string has embedded spaces");

  let epoch = 0;
  let rest = text;
  const colon = text.indexOf(":");
  if (colon >= 0) {
    const epochText = text.slice(0, colon);
    if (epochText === "") throw new DebianVersionError(v, "epoch in version is empty");
    if (!/^[0-9]+$/.test(epochText)) throw new DebianVersionError(v, "epoch in version is not number");
    epoch = Number(epochText);
    if (epoch > MAX_EPOCH) throw new DebianVersionError(v, "epoch in version is too big");
    rest = text.slice(colon + 1);
    if (rest === "") throw new DebianVersionError(v, "nothing after colon in version number");
  }

  // The revision is what follows the LAST hyphen: the upstream part may itself contain hyphens.
  const hyphen = rest.lastIndexOf("-");
  const upstream = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const revision = hyphen >= 0 ? rest.slice(hyphen + 1) : "";
  if (hyphen >= 0 && revision === "") throw new DebianVersionError(v, "revision number is empty");
  if (upstream === "") throw new DebianVersionError(v, "version number is empty");
  if (!/^[0-9]/.test(upstream)) throw new DebianVersionError(v, "version number does not start with digit");
  if (!(colon >= 0 ? UPSTREAM_WITH_EPOCH : UPSTREAM).test(upstream)) {
    throw new DebianVersionError(v, "invalid character in version number");
  }
  if (hyphen >= 0 && !REVISION.test(revision)) throw new DebianVersionError(v, "invalid character in revision number");
  return { epoch, upstream, revision };
}

/** The parsed version, or undefined where `parseDebianVersion` would throw. */
export function tryParseDebianVersion(v: string): DebianVersion | undefined {
  try {
    return parseDebianVersion(v);
  } catch (e) {
    if (e instanceof DebianVersionError) return undefined;
    throw e;
  }
}

/** Compares two version strings as `dpkg --compare-versions` does. Throws on bad syntax. */
export function compareDebianVersions(a: string, b: string): -1 | 0 | 1 {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  return sign(comparePart(va.upstream, vb.upstream) || comparePart(va.revision, vb.revision));
}

const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const isLetter = (c: string): boolean => (c >= "A" && c <= "Z") || (c >= "a" && c <= "z");

/**
 * The weight of one character in a non-digit run: `~` before the end of the string (so `1.0~rc1` < `1.0`),
 * the end before letters, letters before every other character. Digits weigh 0 because they end the run.
 */
function order(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (isLetter(c)) return c.charCodeAt(0);
  if (c === "~") return -1;
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternate non-digit runs (by `order`) and digit runs (numerically). */
function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    // Digit runs compare as numbers of any length: skip leading zeros, then the longer run wins, then the first
    // differing digit.
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    let firstDiff = 0;
    while (i < a.length && j < b.length && isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a[i])) return 1;
    if (j < b.length && isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}
