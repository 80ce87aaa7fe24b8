/**
 * The harness's pure parts: reading dpkg's status and the call log, versions the stand-ins report, the mirror
 * debootstrap uses, symlink resolution inside a root, and the repository lines a stack is given.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../components/config/schema";
import { currentInput, patched } from "../support/fixtures/config";
import { mirrorIn, recipeKey, RECIPE } from "../support/node-root/base-root";
import { describeCall, parseCallLog } from "../support/node-root/call-log";
import { FakeAws } from "../support/cloud/fake-aws";
import { heldPackages, parseDpkgStatus } from "../support/debian/dpkg-status";
import { upstreamVersion } from "../support/debian/packages";
import { CATALOGUE, LOCAL_SOURCES, versionsIn } from "../support/debian/repository";
import { resolveInRoot } from "../support/node-root/root-path";
import { ROOT_PREFIX, sweepAbandonedRoots } from "../support/node-root/root-sweep";

describe("dpkg status", () => {
  const status = [
    "Package: kubelet\nStatus: hold ok installed\nVersion: 1.13.2-00\nArchitecture: all",
    "Package: kubectl\nStatus: install ok half-configured\nVersion: 1.13.3-00",
    "Package: docker-ce\nStatus: deinstall ok config-files\nVersion: 18.06.1~ce~3-0~ubuntu",
    "Package: bash\nStatus: install ok installed\nPriority: required\nVersion: 5.2.15-2+b2\nDescription: GNU Bourne Again SHell\n This is a: continuation line",
  ].join("\n\n");

  it("reads version, hold and state of each installed package, and skips removed ones", () => {
    const parsed = parseDpkgStatus(status);
    expect(Object.fromEntries(parsed)).toEqual({
      kubelet: { version: "1.13.2-00", held: true, state: "installed" },
      kubectl: { version: "1.13.3-00", held: false, state: "half-configured" },
      bash: { version: "5.2.15-2+b2", held: false, state: "installed" },
    });
    expect(heldPackages(parsed)).toEqual(["kubelet"]);
  });
});

describe("the call log", () => {
  it("keeps arguments with spaces whole and tells installs from commands", () => {
    const calls = parseCallLog("postinst\t1.13.3-00\tkubeadm\tconfigure\t1.13.2-00\nkubeadm\t1.13.3-00\tupgrade\tapply\t-y\tv1.13.3\nsystemctl\t-\tset-property\ta b\n");
    expect(calls.map(describeCall)).toEqual(["install kubeadm=1.13.3-00", "kubeadm upgrade apply -y v1.13.3", "systemctl set-property a b"]);
    expect(calls[2]?.args).toEqual(["set-property", "a b"]);
  });

  it("reads back any argument list the stand-ins write", () => {
    const arg = fc.string({ unit: fc.constantFrom("a", "b", " ", "-", "=", "'", '"', "$", "é") });
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (args) => {
        const [call] = parseCallLog(["kubeadm", "1.30.2-1.1", ...args].join("\t") + "\n");
        expect(call?.args).toEqual(args);
      }),
    );
  });
});

describe("versions the stand-in binaries report", () => {
  it.each([
    ["1.13.3-00", "1.13.3"],
    ["1.30.2-1.1", "1.30.2"],
    ["18.06.2~ce~3-0~ubuntu", "18.06.2-ce"],
    ["5:27.3.1-1~ubuntu.22.04~jammy", "27.3.1"],
    ["5:20.10.24~3-0~ubuntu-focal", "20.10.24"],
    ["1.7.19-1", "1.7.19"],
    ["0.3.14.3-0.ubuntu-jammy", "0.3.14"],
  ])("%s reports %s", (apt, upstream) => {
    expect(upstreamVersion(apt)).toBe(upstream);
  });
});

describe("the mirror debootstrap uses", () => {
  it.each([
    [
      "deb822",
      "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n",
      "http://mirror.example/debian",
    ],
    ["one-line", "deb http://security.example/debian-security bookworm-security main\ndeb [arch=amd64] http://mirror.example/debian bookworm main\n", "http://mirror.example/debian"],
    ["a disabled stanza", "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n", undefined],
    ["another suite only", "deb http://mirror.example/debian trixie main\n", undefined],
  ])("is found in %s sources", (_, text, mirror) => {
    expect(mirrorIn(text, "bookworm")).toBe(mirror);
  });

  it("does not change the cache key, which changes with the recipe", () => {
    expect(recipeKey({ ...RECIPE })).toBe(recipeKey());
    expect(recipeKey({ ...RECIPE, revision: 99 } as unknown as typeof RECIPE)).not.toBe(recipeKey());
  });
});

describe("paths inside a root", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeherd-rootpath-"));
  mkdirSync(join(dir, "run"));
  mkdirSync(join(dir, "var"));
  mkdirSync(join(dir, "usr/lib"), { recursive: true });
  mkdirSync(join(dir, "etc"));
  symlinkSync("/run", join(dir, "var/run"));
  symlinkSync("../usr/lib/os-release", join(dir, "etc/os-release"));
  symlinkSync("../../../../../etc", join(dir, "usr/lib/escape"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["/var/run/reboot-required", "run/reboot-required"],
    ["/etc/os-release", "usr/lib/os-release"],
    ["/usr/lib/escape/passwd", "etc/passwd"],
    ["/../../etc/shadow", "etc/shadow"],
  ])("%s resolves to <root>/%s, never onto the host", (inRoot, expected) => {
    expect(resolveInRoot(dir, inRoot)).toBe(join(dir, expected));
  });

  it("keeps a symlink itself as the last component when asked (to remove or replace the link)", () => {
    expect(resolveInRoot(dir, "/etc/os-release", false)).toBe(join(dir, "etc/os-release"));
    expect(resolveInRoot(dir, "/var/run/x", false)).toBe(join(dir, "run/x"));
  });
});

describe("the local repository", () => {
  it.each(Object.entries(LOCAL_SOURCES).filter(([k]) => k !== "ubuntu"))("line %s is a valid kubeherd:repositories value", (key, line) => {
    const repositories = key === "legacyKubernetes" ? { kubernetes: line } : { [key]: line };
    expect(() => configSchema.parse(patched(currentInput, { repositories }))).not.toThrow();
  });

  it("holds the article's versions and two pkgs.k8s.io minors, one repository per minor", () => {
    expect(versionsIn("kubernetes/legacy", "kubelet")).toEqual(expect.arrayContaining(["1.13.2-00", "1.13.3-00"]));
    expect(versionsIn("docker/bionic", "docker-ce")).toEqual(expect.arrayContaining(["18.06.1~ce~3-0~ubuntu", "18.06.2~ce~3-0~ubuntu"]));
    expect(versionsIn("kubernetes/v1.29", "kubeadm")).toEqual(["1.29.6-1.1"]);
    expect(versionsIn("kubernetes/v1.30", "kubeadm")).toEqual(expect.arrayContaining(["1.30.1-1.1", "1.30.2-1.1"]));
  });

  it("offers every pinned package at two or more versions somewhere", () => {
    for (const name of ["docker-ce", "docker-ce-cli", "containerd.io", "cri-dockerd", "kubeadm", "kubelet", "kubectl"]) {
      const versions = Object.values(CATALOGUE).flat().filter((p) => p.name === name);
      expect(new Set(versions.map((p) => p.version)).size, name).toBeGreaterThanOrEqual(2);
    }
  });
});

describe("the fake AWS endpoints", () => {
  const aws = new FakeAws({ region: "eu-west-1", parameters: { "/p": "v" } });
  let endpoint = "";
  beforeAll(async () => {
    endpoint = await aws.start();
  });
  afterAll(async () => {
    await aws.stop();
  });

  it("serve metadata only to an IMDSv2 session", async () => {
    expect((await fetch(`${endpoint}/latest/meta-data/iam/security-credentials/`)).status).toBe(401);
    const token = await (await fetch(`${endpoint}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } })).text();
    const role = await fetch(`${endpoint}/latest/meta-data/iam/security-credentials/`, { headers: { "X-aws-ec2-metadata-token": token } });
    expect(role.status).toBe(200);
  });

  it("refuse an SSM request whose SigV4 signature does not verify", async () => {
    const r = await fetch(`${endpoint}/`, {
      method: "POST",
      headers: {
        "X-Amz-Target": "AmazonSSM.GetParameter",
        Authorization: `AWS4-HMAC-SHA256 Credential=ASIAKUBEHERDTEST0001/20240101/eu-west-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`,
        "X-Amz-Date": "20240101T000000Z",
        "X-Amz-Security-Token": "kubeherd-session-token",
      },
      body: JSON.stringify({ Name: "/p", WithDecryption: true }),
    });
    expect(r.status).toBe(403);
    expect(aws.ssmRequests.at(-1)?.signatureProblem).toBe("signature does not match");
  });
});

describe("sweeping abandoned test roots", () => {
  it("removes the roots of processes that are gone and keeps this process's own unless asked", async () => {
    // pid 2^22 + 1 is above Linux's pid_max limit: never a live process
    const gone = join(tmpdir(), `${ROOT_PREFIX}4194305-sweeptest`);
    const own = join(tmpdir(), `${ROOT_PREFIX}${process.pid}-sweeptest`);
    mkdirSync(join(gone, "root"), { recursive: true });
    mkdirSync(join(own, "root"), { recursive: true });
    try {
      expect(await sweepAbandonedRoots()).toContain(`${ROOT_PREFIX}4194305-sweeptest`);
      expect(existsSync(gone)).toBe(false);
      expect(existsSync(own)).toBe(true);
      expect(await sweepAbandonedRoots(true)).toContain(`${ROOT_PREFIX}${process.pid}-sweeptest`);
      expect(existsSync(own)).toBe(false);
    } finally {
      rmSync(gone, { recursive: true, force: true });
      rmSync(own, { recursive: true, force: true });
    }
  });
});
