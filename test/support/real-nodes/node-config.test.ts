/**
 * The real nodes' configuration as plain data: kubeadm's configurations parse as the documents kubeadm reads, the
 * bootstrap token has kubeadm's shape, and the CA hash is the SPKI hash kubeadm computes.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { cniConfig, CRI_SOCKET, initConfiguration, joinConfiguration, realSystemctl, superviseScript } from "./node-config";
import { bootstrapToken, caCertHash } from "./real-cluster";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubeadm's documents, read field by field below
type Doc = Record<string, any>;

const node = { name: "cp-1", address: "10.217.0.11", cgroupRoot: "/khrabc-cp-1" };

describe("real node configuration", () => {
  it("init: InitConfiguration, ClusterConfiguration and KubeletConfiguration as kubeadm reads them", () => {
    const docs = parseAllDocuments(initConfiguration({ ...node, version: "v1.34.2", imageRepository: "kubeherd.test", token: "abcdef.0123456789abcdef" })).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs.map((d) => d.kind)).toEqual(["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]);
    const [init, cluster, kubelet] = docs as [Doc, Doc, Doc];
    expect(init.nodeRegistration).toMatchObject({ name: "cp-1", criSocket: CRI_SOCKET, imagePullPolicy: "Never" });
    expect(init.nodeRegistration.kubeletExtraArgs).toEqual([
      { name: "node-ip", value: "10.217.0.11" },
      { name: "cgroup-root", value: "/khrabc-cp-1" },
    ]);
    expect(init.skipPhases).toEqual(["addon/coredns", "addon/kube-proxy"]);
    expect(cluster).toMatchObject({ kubernetesVersion: "v1.34.2", imageRepository: "kubeherd.test", controlPlaneEndpoint: "10.217.0.11:6443" });
    expect(kubelet).toMatchObject({ cgroupDriver: "cgroupfs", failCgroupV1: false, protectKernelDefaults: true });
  });

  it("join: the discovery token and CA hash", () => {
    const [join] = parseAllDocuments(
      joinConfiguration({ ...node, name: "worker-1", apiServer: "10.217.0.11:6443", token: "abcdef.0123456789abcdef", caCertHash: "sha256:00" }),
    ).map((d) => d.toJS() as Doc);
    expect(join?.discovery.bootstrapToken).toEqual({ apiServerEndpoint: "10.217.0.11:6443", token: "abcdef.0123456789abcdef", caCertHashes: ["sha256:00"] });
    expect(join?.nodeRegistration.name).toBe("worker-1");
  });

  it("CNI: a bridge with the node's own pod range", () => {
    const conf = JSON.parse(cniConfig(3)) as { plugins: { type: string; ipam: { ranges: { subnet: string }[][] } }[] };
    expect(conf.plugins[0]?.type).toBe("bridge");
    expect(conf.plugins[0]?.ipam.ranges[0]?.[0]?.subnet).toBe("10.244.3.0/24");
  });

  it("init with kubeadm's CoreDNS addon skips only kube-proxy", () => {
    const [init] = parseAllDocuments(initConfiguration({ ...node, version: "v1.34.2", imageRepository: "kubeherd.test", token: "abcdef.0123456789abcdef", coreDns: true })).map((d) => d.toJS() as Doc);
    expect(init?.skipPhases).toEqual(["addon/kube-proxy"]);
  });

  it("the node's systemctl restarts, stops and starts what its service manager runs, and knows no other unit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeherd-units-"));
    writeFileSync(join(dir, "supervise"), superviseScript(join(dir, "state")), { mode: 0o755 });
    writeFileSync(join(dir, "systemctl"), `#!/bin/sh\n${realSystemctl(join(dir, "state"))}\n`, { mode: 0o755 });
    const manager = spawn(join(dir, "supervise"), ["demo", "0.2", "sleep", "600"], { detached: true, stdio: "ignore" });
    const systemctl = (...args: string[]) => spawnSync(join(dir, "systemctl"), args, { encoding: "utf8" });
    const pid = () => readFileSync(join(dir, "state", "demo.pid"), "utf8").trim();
    try {
      for (let i = 0; i < 100 && systemctl("is-active", "demo").status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(systemctl("is-active", "demo.service").stdout.trim()).toBe("active");
      const before = pid();
      expect(systemctl("restart", "demo").status).toBe(0);
      expect(pid()).not.toBe(before);
      expect(readFileSync(`/proc/${pid()}/cmdline`, "utf8").split("\0")[0]).toBe("sleep");
      expect(systemctl("stop", "demo").status).toBe(0);
      expect(systemctl("is-active", "demo")).toMatchObject({ status: 3, stdout: "inactive\n" });
      expect(systemctl("start", "demo").status).toBe(0);
      expect(systemctl("is-active", "demo").stdout.trim()).toBe("active");
      expect(systemctl("is-active", "systemd-resolved").stdout.trim()).toBe("active");
      expect(systemctl("is-active", "firewalld")).toMatchObject({ status: 3, stdout: "inactive\n" });
      expect(systemctl("status", "firewalld").status).toBe(4);
      expect(systemctl("restart", "firewalld").status).toBe(5);
    } finally {
      if (manager.pid !== undefined) process.kill(-manager.pid, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bootstrap tokens have kubeadm's shape", () => {
    for (let i = 0; i < 20; i++) expect(bootstrapToken()).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  });

  it("the CA hash is sha256 of the certificate's public key info, as openssl computes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeherd-ca-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k"), "-out", join(dir, "c"), "-subj", "/CN=kubernetes", "-days", "1"], { stdio: "ignore" });
      const pub = execFileSync("openssl", ["x509", "-pubkey", "-noout", "-in", join(dir, "c")]);
      const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: pub });
      const want = execFileSync("sha256sum", [], { input: der }).toString().split(" ")[0];
      expect(caCertHash(readFileSync(join(dir, "c"), "utf8"))).toBe(`sha256:${want}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
