import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BOOT_SCRIPT_PATH, bootScript, cattleUserData, encodeUserData, USER_DATA_LIMIT } from "../../components/scripts/userdata";
import { articleConfig, currentConfig } from "../support/fixtures/config";
import { bootTarget, SCENARIOS } from "../support/scenarios/scripts";

let dir: string;
beforeAll(() => {
  const probe = spawnSync("cloud-init", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error("cloud-init is not installed: the user data tests need `cloud-init schema` (apt-get install -y cloud-init)");
  }
  dir = mkdtempSync(join(tmpdir(), "kubeherd-userdata-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function schema(userData: string, name: string): { status: number | null; output: string } {
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.yaml`);
  writeFileSync(file, userData);
  const r = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface CloudConfig {
  write_files: { path: string; owner: string; permissions: string; content: string }[];
  runcmd: string[][];
}

describe("cattleUserData", () => {
  it("is refused by cloud-init schema when a key is misspelt, so a pass means something", () => {
    const r = schema("#cloud-config\nwrite_files:\n- path: /x\n  contnet: hi\n", "broken");
    expect(r.status).not.toBe(0);
  });

  it.each(Object.entries(SCENARIOS))("passes cloud-init schema for %s", (name, config) => {
    const r = schema(cattleUserData(bootTarget(config)), name);
    expect(r.output).toContain("Valid cloud-config");
    expect(r.status).toBe(0);
  });

  it("writes the boot script, byte for byte, root-only, and runs it with bash", () => {
    const target = bootTarget(currentConfig());
    const userData = cattleUserData(target);
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(userData) as CloudConfig;
    expect(doc.write_files).toEqual([{ path: BOOT_SCRIPT_PATH, owner: "root:root", permissions: "0700", content: bootScript(target) }]);
    expect(doc.runcmd).toEqual([["bash", BOOT_SCRIPT_PATH]]);
  });

  it("shows the script readably (a literal block, not an escaped string)", () => {
    expect(cattleUserData(bootTarget(currentConfig()))).toContain("  content: |\n    #!/usr/bin/env bash\n");
  });

  it.each(Object.entries(SCENARIOS))("holds no secret for %s: no bootstrap token, no credential", (_, config) => {
    const userData = cattleUserData(bootTarget(config));
    expect(userData).not.toMatch(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/);
    expect(userData).not.toMatch(/AKIA|ASIA|BEGIN [A-Z ]*PRIVATE KEY/);
    expect(userData).toContain("/kubeherd/test/workers/join");
  });

  it("stays under EC2's 16 KB as text, and far under it as the packed launch template field", () => {
    for (const config of Object.values(SCENARIOS)) {
      const userData = cattleUserData(bootTarget(config));
      expect(Buffer.byteLength(userData)).toBeLessThan(USER_DATA_LIMIT);
      const packed = encodeUserData(userData);
      expect(gunzipSync(Buffer.from(packed, "base64")).toString("utf8")).toBe(userData);
      expect(packed.length).toBeLessThan(USER_DATA_LIMIT / 2);
      expect(encodeUserData(userData)).toBe(packed);
    }
  });
});

describe("bootScript", () => {
  const lines = (script: string) => script.slice(script.indexOf("\n# --- 0.")).split("\n").filter((l) => l && !l.startsWith("#"));

  it("installs and holds exactly the pins, configures the runtime, then joins", () => {
    const script = bootScript(bootTarget(currentConfig()));
    const steps = lines(script);
    const at = (f: string) => steps.findIndex((l) => l.includes(f));
    const order = [
      "require_release '22.04'",
      "write_source '/etc/apt/sources.list.d/kubeherd-kubernetes.list'",
      'preflight "${pins[@]}"',
      "install_pins 'containerd.io' '1.7.19-1'",
      "configure_containerd",
      "install_pins 'kubeadm' '1.30.2-1.1' 'kubelet' '1.30.2-1.1' 'kubectl' '1.30.2-1.1'",
      'ensure_held "${pinned_packages[@]}"',
      "join_cluster 'k8s-test.internal.example.com:6443'",
    ].map(at);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it.each([
    ["containerd on 1.30", currentConfig(), "'unix:///run/containerd/containerd.sock'"],
    ["docker with cri-dockerd on 1.30", SCENARIOS["docker with cri-dockerd on Kubernetes 1.30"], "'unix:///var/run/cri-dockerd.sock'"],
  ])("joins with the CRI socket of %s", (_, config, socket) => {
    expect(lines(bootScript(bootTarget(config))).find((l) => l.startsWith("join_cluster"))?.endsWith(` 'eu-west-1' '/kubeherd/test/workers/join' ${socket}`)).toBe(true);
  });

  it("joins docker 18.06 nodes through dockershim, without --cri-socket", () => {
    const join = lines(bootScript(bootTarget(articleConfig()))).find((l) => l.startsWith("join_cluster"));
    expect(join).toBe(
      `join_cluster 'k8s-test.internal.example.com:6443' 'sha256:${"ab".repeat(32)}' 'eu-west-1' '/kubeherd/test/workers/join'`,
    );
  });

  it("does not upgrade anything: a cattle node is replaced, not converged", () => {
    const script = bootScript(bootTarget(currentConfig({ os: { systemUpgrade: "2026-11" } })));
    expect(script).not.toContain("dist-upgrade");
    expect(script).not.toContain("do-release-upgrade");
    expect(script).not.toContain("kubeadm upgrade");
  });
});
