import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareDebianVersions, parseDebianVersion, tryParseDebianVersion } from "../../components/versions/dpkg";

/** The real dpkg on this machine: -1, 0 or 1, found with two `--compare-versions` calls. */
function dpkgCompare(a: string, b: string): -1 | 0 | 1 {
  const holds = (op: string) => {
    const r = spawnSync("dpkg", ["--compare-versions", a, op, b]);
    if (r.status !== 0 && r.status !== 1) throw new Error(`dpkg refused ${a} ${op} ${b}: ${r.stderr.toString()}`);
    return r.status === 0;
  };
  if (holds("lt")) return -1;
  return holds("eq") ? 0 : 1;
}

// Real pins from the field article, Docker's and Kubernetes' repositories, and the corner cases of deb-version(7).
const pairs: [string, string, -1 | 0 | 1][] = [
  ["1.13.2-00", "1.13.3-00", -1],
  ["1.13.3-00", "1.13.10-00", -1],
  ["1.29.6-1.1", "1.30.2-1.1", -1],
  ["1.30.2-1.1", "1.30.2-2.1", -1],
  ["1.24.17-00", "1.24.17-1.1", -1],
  ["18.06.1~ce~3-0~ubuntu", "18.06.2~ce~3-0~ubuntu", -1],
  ["18.06.2~ce~3-0~ubuntu", "5:18.09.0~3-0~ubuntu-bionic", -1],
  ["5:18.09.2~3-0~ubuntu-bionic", "5:18.09.10~3-0~ubuntu-bionic", -1],
  ["5:20.10.24~3-0~ubuntu-jammy", "5:27.3.1-1~ubuntu.24.04~noble", -1],
  ["5:20.10.24~3-0~ubuntu-focal", "5:20.10.24~3-0~ubuntu-jammy", -1],
  ["1.7.13-1", "1.7.2-1", 1],
  ["1.6.36-1", "2.0.0-1", -1],
  ["0.3.9.3-0.ubuntu-jammy", "0.3.15.3-0.ubuntu-jammy", -1],
  ["1:0.1", "2.0", 1],
  ["0:1.0", "1.0", 0],
  ["01:1.0", "1:1.0", 0],
  ["1.0", "1.0-0", 0],
  ["1.0~rc1", "1.0", -1],
  ["1.0~~", "1.0~", -1],
  ["1.0~", "1.0", -1],
  ["1.0", "1.0a", -1],
  ["1.0a", "1.0+", -1],
  ["1.0+", "1.0.", -1],
  ["1.0-1", "1.0-1ubuntu1", -1],
  ["1.0-a", "1.0-0", 1],
  ["1.007", "1.7", 0],
  ["1.0-1-2", "1.0-1", 1],
  ["2:1:2", "2:1:10", -1],
  ["99999999999999999999.1", "99999999999999999998.2", 1],
];

describe("compareDebianVersions", () => {
  it.each(pairs)("orders %s against %s as %i, like dpkg", (a, b, expected) => {
    expect(compareDebianVersions(a, b)).toBe(expected);
    expect(compareDebianVersions(b, a)).toBe(0 - expected);
    expect(dpkgCompare(a, b)).toBe(expected);
  });

  it.each([["1.0-"], [":1"], ["1:"], ["a1"], ["x:1"], ["1 2"], [""], ["1.0-a_b"], ["1_0"], ["2147483648:1"]])(
    "refuses %j, which dpkg reports as bad syntax",
    (v) => {
      expect(() => parseDebianVersion(v)).toThrow(/bad syntax/);
      expect(tryParseDebianVersion(v)).toBeUndefined();
    },
  );
});

describe("parseDebianVersion", () => {
  it.each([
    ["1.13.3-00", { epoch: 0, upstream: "1.13.3", revision: "00" }],
    ["5:18.09.2~3-0~ubuntu-bionic", { epoch: 5, upstream: "18.09.2~3-0~ubuntu", revision: "bionic" }],
    ["5:27.3.1-1~ubuntu.24.04~noble", { epoch: 5, upstream: "27.3.1", revision: "1~ubuntu.24.04~noble" }],
    ["18.06.2~ce~3-0~ubuntu", { epoch: 0, upstream: "18.06.2~ce~3", revision: "0~ubuntu" }],
    ["2.0", { epoch: 0, upstream: "2.0", revision: "" }],
  ])("splits %s at the epoch colon and the last hyphen", (v, parts) => {
    expect(parseDebianVersion(v)).toEqual(parts);
  });
});

// Versions built from the pieces that matter to the ordering: epochs, digit runs with leading zeros, letters,
// `~`, `+`, `.`, and hyphens inside the upstream part. Random versions mostly differ in their first digit, so
// pairs are also built from one shared prefix and two tails, where `~` against the end of a string decides.
const fragment = fc.constantFrom("0", "1", "2", "9", "10", "01", "a", "b", "z", "A", "~", "+", ".", "ubuntu", "ce");
const word = (maxLength: number) => fc.array(fragment, { maxLength }).map((parts) => parts.join(""));
const valid = (v: string) => tryParseDebianVersion(v) !== undefined;
const debianVersion = fc
  .record({
    epoch: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined, freq: 3 }),
    upstream: fc.tuple(fc.integer({ min: 0, max: 3 }), word(5), fc.option(word(3), { nil: undefined })),
    revision: fc.option(fc.tuple(fc.constantFrom("0", "1", "a", "00", "1.1"), word(3)), { nil: undefined }),
  })
  .map(({ epoch, upstream: [lead, rest, inner], revision }) => {
    const hyphenated = inner !== undefined && revision !== undefined ? `-${inner}` : "";
    const upstream = `${lead}${rest}${hyphenated}`;
    return `${epoch === undefined ? "" : `${epoch}:`}${upstream}${revision === undefined ? "" : `-${revision.join("")}`}`;
  })
  .filter(valid);
const versionPair = fc.oneof(
  fc.tuple(debianVersion, debianVersion),
  fc.tuple(debianVersion, word(3), word(3)).map(([v, x, y]) => [`${v}${x}`, `${v}${y}`] as const).filter(([x, y]) => valid(x) && valid(y)),
);

describe("compareDebianVersions against generated versions", () => {
  it("agrees with dpkg --compare-versions", () => {
    fc.assert(
      fc.property(versionPair, ([a, b]) => compareDebianVersions(a, b) === dpkgCompare(a, b)),
      { numRuns: 200 },
    );
  });

  it("is antisymmetric", () => {
    fc.assert(
      fc.property(versionPair, ([a, b]) => compareDebianVersions(a, b) === -compareDebianVersions(b, a)),
      { numRuns: 500 },
    );
  });

  it("is transitive", () => {
    const atMost = (x: string, y: string) => compareDebianVersions(x, y) <= 0;
    fc.assert(
      fc.property(debianVersion, debianVersion, debianVersion, (a, b, c) =>
        [[a, b, c], [a, c, b], [b, a, c], [b, c, a], [c, a, b], [c, b, a]].every(
          ([x, y, z]) => !(atMost(x, y) && atMost(y, z)) || atMost(x, z),
        ),
      ),
      { numRuns: 500 },
    );
  });
});
