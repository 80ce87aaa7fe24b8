/**
 * `npm run promote` on copies of the repository's stack files: GIVEN dev ahead of prod, WHEN dev is promoted to
 * prod, THEN exactly the version keys of Pulumi.prod.yaml change and the plan of the promoted prod is printed;
 * a dry run writes nothing; a promotion whose result would be invalid is refused, naming the key.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runPromote, type PromoteOptions } from "../../cli/promote";
import { REPO_DIR } from "../support/fixtures/stackfiles";

let dir: string;
const file = (stack: string) => join(dir, `Pulumi.${stack}.yaml`);
const read = (stack: string) => readFileSync(file(stack), "utf8");
const configOf = (text: string) => (parse(text) as { config: Record<string, unknown> }).config;
const promote = (opts: Partial<PromoteOptions> = {}) => runPromote({ from: "dev", to: "prod", dir, dryRun: false, format: "text", ...opts });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kubeherd-promote-test-"));
  for (const name of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]) copyFileSync(join(REPO_DIR, name), join(dir, name));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run promote -- --from dev --to prod", () => {
  it("changes exactly the version keys of the prod file, line for line", () => {
    const before = read("prod");
    const result = promote();
    expect(result.code).toBe(0);
    expect(result.written).toBe(true);
    const after = read("prod");
    const changedLines = before.split("\n").map((line, i) => [line, after.split("\n")[i]]).filter(([a, b]) => a !== b);
    expect(changedLines).toEqual([
      ["    kubernetes: 1.32.9", "    kubernetes: 1.33.5"],
      ["    kubeadm: 1.32.9-1.1", "    kubeadm: 1.33.5-1.1"],
      ["    kubelet: 1.32.9-1.1", "    kubelet: 1.33.5-1.1"],
      ["    kubectl: 1.32.9-1.1", "    kubectl: 1.33.5-1.1"],
    ]);
    expect(after.split("\n")).toHaveLength(before.split("\n").length);
    expect(configOf(after)["kubeherd:versions"]).toEqual(configOf(read("dev"))["kubeherd:versions"]);
    expect(result.changed).toEqual(["kubeherd:versions.kubernetes", "kubeherd:versions.kubeadm", "kubeherd:versions.kubelet", "kubeherd:versions.kubectl"]);
  });

  it("prints the plan from the old prod file to the promoted one", () => {
    const { stdout } = promote();
    expect(stdout).toContain("kubeherd plan for stack prod from ");
    expect(stdout).toMatch(/kubeherd:versions\.kubelet\s+1\.32\.9-1\.1 -> 1\.33\.5-1\.1/);
    expect(stdout).toMatch(/control-plane\/prod-cp-1\s+drain/);
  });

  it("with --dry-run prints the diff and the plan and writes nothing", () => {
    const before = read("prod");
    const result = promote({ dryRun: true });
    expect(result.code).toBe(0);
    expect(result.written).toBe(false);
    expect(read("prod")).toBe(before);
    expect(result.stdout).toContain("\n-    kubelet: 1.32.9-1.1\n");
    expect(result.stdout).toContain("\n+    kubelet: 1.33.5-1.1\n");
    expect(result.stdout).toContain("kubeherd plan for stack prod");
  });

  it("passes --format through: markdown for a pull request, JSON kept machine-readable", () => {
    expect(promote({ dryRun: true, format: "markdown" }).stdout).toContain("## kubeherd plan: `prod`");
    const json = promote({ dryRun: true, format: "json" });
    expect((JSON.parse(json.stdout) as { stack: string }).stack).toBe("prod");
    expect(json.stderr.join("\n")).toContain("+    kubelet: 1.33.5-1.1");
  });

  it("says there is nothing to promote the second time", () => {
    promote();
    const again = promote();
    expect(again).toMatchObject({ code: 0, written: false, changed: [] });
    expect(again.stdout).toContain("nothing to promote");
  });

  it("refuses a promotion whose result would be invalid, naming the key, and writes nothing", () => {
    // prod two minors behind dev: kubeadm cannot skip a minor.
    writeFileSync(file("prod"), read("prod").replace(/1\.32\.9/g, "1.31.9"));
    const before = read("prod");
    const result = promote();
    expect(result.code).toBe(2);
    expect(result.written).toBe(false);
    expect(result.stderr.join("\n")).toMatch(/^kubeherd:versions\.\S+: /m);
    expect(result.stderr.at(-1)).toContain("nothing written");
    expect(read("prod")).toBe(before);
  });

  it("refuses to promote from a stack other than the one prod promotes from", () => {
    copyFileSync(file("dev"), file("staging"));
    const result = promote({ from: "staging" });
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual(["kubeherd:promotion.from: prod promotes from dev, not staging: its pulumi up would refuse these pins"]);
  });

  it("refuses an invalid source, naming its key and file", () => {
    writeFileSync(file("dev"), read("dev").replace("kubelet: 1.33.5-1.1", "kubelet: latest"));
    const result = promote();
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toMatch(/^kubeherd:versions\.kubelet: .*floating version.*\(in Pulumi\.dev\.yaml\)$/);
  });

  it.each([
    [{ from: "prod", to: "prod" }, /both prod/],
    [{ from: "qa" }, /Pulumi\.qa\.yaml: no such stack file/],
  ])("refuses %o", (opts, message) => {
    const result = promote(opts);
    expect(result.code).toBe(2);
    expect(result.stderr.join("\n")).toMatch(message);
  });
});

describe("npm run promote when dev is two minors ahead (a journey)", () => {
  /** dev walked 1.32 -> 1.34 in one up: its file pins 1.34.2 and gives 1.33.5 as its journey's release of 1.33. */
  const devAtJourneyEnd = () => {
    const text = read("dev").replace(/1\.33\.5/g, "1.34.2").replace(
      "    containerd.io: 1.7.27-1\n",
      "    containerd.io: 1.7.27-1\n    journey:\n      - kubernetes: 1.33.5\n        kubeadm: 1.33.5-1.1\n        kubelet: 1.33.5-1.1\n        kubectl: 1.33.5-1.1\n",
    );
    writeFileSync(file("dev"), text);
  };

  it("proposes the next stage (1.33, with the release dev's journey gives), then the rest on the next promotion", () => {
    devAtJourneyEnd();
    const first = promote();
    expect(first.code).toBe(0);
    expect(first.stderr.join("\n")).toContain("prod is 2 minors behind dev (1.32 → 1.33 → 1.34): promoting the next stage, 1.33 (1.33.5)");
    const versions = configOf(read("prod"))["kubeherd:versions"] as Record<string, unknown>;
    expect([versions.kubernetes, versions.kubeadm, versions.kubelet, versions.kubectl]).toEqual(["1.33.5", "1.33.5-1.1", "1.33.5-1.1", "1.33.5-1.1"]);
    expect(versions.journey).toBeUndefined();
    const second = promote();
    expect(second.code).toBe(0);
    expect((configOf(read("prod"))["kubeherd:versions"] as Record<string, unknown>).kubernetes).toBe("1.34.2");
  });

  it("refuses, naming the key, when dev's file does not give the next minor's release", () => {
    writeFileSync(file("dev"), read("dev").replace(/1\.33\.5/g, "1.34.2"));
    const before = read("prod");
    const result = promote();
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toMatch(/^kubeherd:versions\.journey: the source runs 1\.34\.2, 2 minors ahead of the target's 1\.32\.9 .*gives no release of 1\.33/);
    expect(read("prod")).toBe(before);
  });
});
