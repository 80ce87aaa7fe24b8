import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, type ConfigSource } from "../../components/config/load";
import { pulumiConfigSource } from "../../components/stack/config-source";
import { readStackFile, stackFileSource } from "../../components/config/stackfile";
import { articleInput, currentInput, patched } from "../support/fixtures/config";
import { REPO_DIR, tempProject } from "../support/fixtures/stackfiles";
import { join } from "node:path";

/** A source as the YAML file gives it: objects for kubeherd:* values, `{secure}` for secrets. */
function source(values: Record<string, unknown>, secrets: Record<string, "secret" | "plain"> = { kubeconfig: "secret", sshPrivateKey: "secret" }): ConfigSource {
  const all: Record<string, unknown> = { ...values };
  for (const [k, state] of Object.entries(secrets)) all[k] = state === "secret" ? { secure: "v1:abc" } : "plain text";
  return stackFileSource({ path: "Pulumi.test.yaml", values: Object.fromEntries(Object.entries(all).map(([k, v]) => [`kubeherd:${k}`, v])) });
}

const errorsOf = (values: Record<string, unknown>, secrets?: Record<string, "secret" | "plain">) =>
  loadConfig(source(values, secrets), { secrets: "require" }).problems.filter((p) => p.severity === "error");

describe("loading a stack's config", () => {
  it.each([
    ["Pulumi.dev.yaml"],
    ["Pulumi.prod.yaml"],
  ])("accepts the example stack %s, warning only that the secrets are not set", (file) => {
    const result = loadConfig(stackFileSource(readStackFile(join(REPO_DIR, file))), { secrets: "warn" });
    expect(result.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(result.config?.pools.length).toBe(3);
    expect(result.problems.map((p) => p.key).sort()).toEqual(["kubeherd:kubeconfig", "kubeherd:sshPrivateKey"]);
  });

  it("requires the secrets when the program runs, naming the keys", () => {
    const problems = errorsOf(currentInput, {});
    expect(problems.map((p) => p.key).sort()).toEqual(["kubeherd:kubeconfig", "kubeherd:sshPrivateKey"]);
    expect(problems[0].message).toMatch(/pulumi config set --secret/);
  });

  it("refuses a secret stored in plain text", () => {
    expect(errorsOf(currentInput, { kubeconfig: "plain", sshPrivateKey: "secret" })).toEqual([
      expect.objectContaining({ key: "kubeherd:kubeconfig", message: expect.stringMatching(/must be a secret/) }),
    ]);
  });

  it.each([
    ["a floating pin", { versions: { kubelet: "latest" } }, "kubeherd:versions.kubelet", /floating/],
    ["a star pin", { versions: { kubeadm: "*" } }, "kubeherd:versions.kubeadm", /floating/],
    ["a minor-only pin", { versions: { kubectl: "1.30" } }, "kubeherd:versions.kubectl", /floating/],
    ["a pin carrying a shell command", { versions: { kubelet: "1.30.2-1.1; rm -rf /" } }, "kubeherd:versions.kubelet", /not an exact apt version/],
    ["a host with a command substitution", { pools: [{ ...(currentInput.pools as object[])[0], nodes: [{ name: "cp-1", host: "$(reboot)", hostKey: "ssh-ed25519 AAAA" }] }] }, "kubeherd:pools[0].nodes[0].host", /host name or IP/],
    ["an unknown mode", { pools: [{ name: "x", role: "worker", mode: "goats" }] }, "kubeherd:pools[0].mode", /./],
    ["an unknown role", { pools: [{ ...(currentInput.pools as object[])[0], role: "etcd" }] }, "kubeherd:pools[0].role", /./],
    ["an empty pool list", { pools: [] }, "kubeherd:pools", /at least one pool/],
    ["a repository line with a pipe", { repositories: { kubernetes: "deb https://x.example.com/ ./ | sh" } }, "kubeherd:repositories.kubernetes", /apt source/],
    ["a preflight check named all", { pools: [{ ...(currentInput.pools as object[])[0], rollout: { ignorePreflightErrors: ["CoreDNSMigration", "all"] } }] }, "kubeherd:pools[0].rollout.ignorePreflightErrors[1]", /name the checks one by one/],
    ["a preflight check carrying a shell command", { pools: [{ ...(currentInput.pools as object[])[0], rollout: { ignorePreflightErrors: ["Swap;reboot"] } }] }, "kubeherd:pools[0].rollout.ignorePreflightErrors[0]", /kubeadm preflight check/],
  ])("refuses %s, naming the key", (_, patch, key, message) => {
    const problems = errorsOf(patched(currentInput, patch));
    expect(problems).toContainEqual(expect.objectContaining({ key, message: expect.stringMatching(message) }));
  });

  it.each([
    ["a kubelet newer than the control plane", { versions: { kubelet: "1.31.0-1.1" } }, "kubeherd:versions.kubelet"],
    ["docker-ce with Kubernetes 1.24+ and no cri-dockerd", { versions: { runtime: "docker", "containerd.io": "1.7.19-1", "docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy", "docker-ce-cli": "5:27.3.1-1~ubuntu.22.04~jammy" } }, "kubeherd:versions.cri-dockerd"],
  ])("refuses %s through the version rules", (_, patch, key) => {
    expect(errorsOf(patched(currentInput, patch)).map((p) => p.key)).toContain(key);
  });

  it("refuses duplicate pool names, a cattle control plane, a pets pool without SSH and a rolling pool of one", () => {
    const [cp, workers, storage] = currentInput.pools as Record<string, unknown>[];
    const problems = errorsOf(patched(currentInput, {
      pools: [
        cp,
        { ...workers, size: 1 },
        { ...storage, name: "workers", ssh: undefined },
        { ...workers, name: "cattle-cp", role: "control-plane" },
      ].map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined))),
    }));
    expect(problems.map((p) => p.key)).toEqual(expect.arrayContaining([
      "kubeherd:pools[1].rollout.strategy",
      "kubeherd:pools[2].name",
      "kubeherd:pools[2].ssh",
      "kubeherd:pools[3].mode",
    ]));
  });

  it("takes rollout.ignorePreflightErrors on the control-plane pool, and warns that a worker pool's is ignored", () => {
    const [cp, workers, storage] = currentInput.pools as Record<string, unknown>[];
    const checks = ["CoreDNSMigration", "CoreDNSUnsupportedPlugins", "Port-6443"];
    const result = loadConfig(source(patched(currentInput, { pools: [{ ...cp, rollout: { ignorePreflightErrors: checks } }, { ...workers, rollout: { ignorePreflightErrors: ["Swap"] } }, storage] })), { secrets: "require" });
    expect(result.config?.pools[0]?.rollout.ignorePreflightErrors).toEqual(checks);
    expect(result.config?.pools[2]?.rollout.ignorePreflightErrors).toEqual([]);
    expect(result.problems).toEqual([expect.objectContaining({ severity: "warning", key: "kubeherd:pools[1].rollout.ignorePreflightErrors", message: expect.stringMatching(/control-plane pool only/) })]);
  });

  it("refuses a key kubeherd does not know (a typo), naming it", () => {
    expect(errorsOf({ ...currentInput, version: { kubelet: "1.30.2-1.1" } })).toContainEqual(
      expect.objectContaining({ key: "kubeherd:version" }),
    );
  });

  it("reports every problem at once, one per key", () => {
    const problems = errorsOf(patched(articleInput, { versions: { kubelet: "latest", kubectl: "1.13" }, os: { image: "ami-nope" } }));
    expect(problems.map((p) => p.key)).toEqual(["kubeherd:versions.kubelet", "kubeherd:versions.kubectl", "kubeherd:os.image"]);
  });
});

describe("one code path for the program and the plan command", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}, []));

  it("reads pulumi.Config exactly as it reads the stack file", () => {
    const project = tempProject();
    try {
      const file = readStackFile(project.write("dev", { ...currentInput, kubeconfig: { secure: "v1:x" }, sshPrivateKey: { secure: "v1:y" } }));
      const fromFile = loadConfig(stackFileSource(file), { secrets: "require" });
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(file.values)) flat[k] = typeof v === "string" ? v : JSON.stringify(v);
      pulumi.runtime.setAllConfig(flat, ["kubeherd:kubeconfig", "kubeherd:sshPrivateKey"]);
      const fromProgram = loadConfig(pulumiConfigSource(), { secrets: "require" });
      expect(fromProgram).toEqual(fromFile);
      expect(fromProgram.problems).toEqual([]);
    } finally {
      project.remove();
    }
  });
});
