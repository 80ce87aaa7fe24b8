/**
 * Every generated script passes shellcheck (and bash's own parser). Running them as root against real apt is the
 * Debian-root harness's part (test/debian/).
 */
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { convergeScript } from "../../components/scripts/converge";
import { bootScript } from "../../components/scripts/userdata";
import { bootTarget, CONVERGE_CASES, SCENARIOS } from "../support/scenarios/scripts";

function shellcheck(script: string): { status: number | null; output: string } {
  const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: script, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  const probe = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error("shellcheck is not installed: the script tests need it (apt-get install -y shellcheck)");
  }
});

describe("shellcheck", () => {
  it("flags a script with a quoting slip, so a pass means something", () => {
    const r = shellcheck("#!/usr/bin/env bash\nset -euo pipefail\npkg=$1\napt-get install -y $pkg\n");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("SC2086");
  });

  it.each(CONVERGE_CASES)("passes the converge script for %s", (_, target) => {
    const script = convergeScript(target);
    const r = shellcheck(script);
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
  });

  it.each(Object.entries(SCENARIOS))("passes the boot script for %s", (_, config) => {
    const script = bootScript(bootTarget(config));
    const r = shellcheck(script);
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
  });
});
