/**
 * The stand-in providers' own logic, offline: what the engine sends them (URNs, secret wrappers), how they diff,
 * and how the command stand-in calls OpenSSH. The end-to-end tier runs them for real under the Pulumi engine.
 */
import { describe, expect, it } from "vitest";
import { knownHostsLine, sshArgs } from "./command";
import { kubernetesProvider } from "./kubernetes";
import { randomString } from "./random";
import { changedKeys, parseUrn } from "./server";
import { reveal, secret, stringProp } from "./values";

describe("the plugin server", () => {
  it.each([
    ["urn:pulumi:e2e::kubeherd::kubeherd:index:Cluster$kubeherd:index:PetsPool$command:remote:Command::workers-w-1", "command:remote:Command", "workers-w-1"],
    ["urn:pulumi:e2e::kubeherd::aws:ec2/instance:Instance::workers-0", "aws:ec2/instance:Instance", "workers-0"],
    ["urn:pulumi:e2e::kubeherd::a$b$kubernetes:core/v1:Secret::tok::en", "kubernetes:core/v1:Secret", "tok::en"],
  ])("reads the type and name of %s", (urn, type, name) => {
    expect(parseUrn(urn)).toEqual({ type, name });
  });

  it("compares inputs by value, ignoring the engine's own keys and the ones a type ignores", () => {
    expect(changedKeys({ a: 1, b: { c: [1] }, __provider: "x" }, { a: 1, b: { c: [2] }, __provider: "y" })).toEqual(["b"]);
    expect(changedKeys({ tagsAll: { a: "1" }, x: 1 }, { tagsAll: {}, x: 1 }, ["tagsAll"])).toEqual([]);
    expect(changedKeys({ gone: 1 }, { added: 2 }).sort()).toEqual(["added", "gone"]);
  });
});

describe("secret values", () => {
  it("reveals secrets at any depth and leaves the rest alone", () => {
    const value = { connection: secret({ host: "127.0.1.1", privateKey: secret("KEY") }), triggers: ["a", secret("b")] };
    expect(reveal(value)).toEqual({ connection: { host: "127.0.1.1", privateKey: "KEY" }, triggers: ["a", "b"] });
  });

  it("names the property a stand-in needs and did not get", () => {
    expect(() => stringProp({ host: "" }, "host", "command:remote:Command connection")).toThrow(/connection: property "host" must be a non-empty string/);
    expect(stringProp({ host: secret("h") }, "host", "x")).toBe("h");
  });
});

describe("the command stand-in", () => {
  const connection = { host: "127.0.1.3", port: 2222, user: "ubuntu", privateKey: "K", hostKey: "ssh-ed25519 AAAAC3Nz", perDialTimeout: 10, dialErrorLimit: 2 };

  it("pins the host key it is given, on the port it connects to", () => {
    expect(knownHostsLine("127.0.1.3", 2222, "ssh-ed25519 AAAAC3Nz\n")).toBe("[127.0.1.3]:2222 ssh-ed25519 AAAAC3Nz\n");
    expect(knownHostsLine("127.0.1.3", 22, "ssh-ed25519 AAAAC3Nz")).toBe("127.0.1.3 ssh-ed25519 AAAAC3Nz\n");
    const args = sshArgs(connection, { identity: "/k", knownHosts: "/kh" }, "sudo -n true");
    expect(args).toContain("StrictHostKeyChecking=yes");
    expect(args).toContain("UserKnownHostsFile=/kh");
  });

  it("reads no ssh config, uses only the stack's key, bounds the dial and passes the command as one argument", () => {
    const args = sshArgs(connection, { identity: "/k", knownHosts: "/kh" }, "sudo -n bash -c 'x y' kubeherd-converge");
    expect(args.slice(0, 2)).toEqual(["-F", "/dev/null"]);
    expect(args).toEqual(expect.arrayContaining(["BatchMode=yes", "IdentitiesOnly=yes", "ConnectTimeout=10", "ConnectionAttempts=2"]));
    expect(args.slice(-4)).toEqual(["2222", "ubuntu@127.0.1.3", "--", "sudo -n bash -c 'x y' kubeherd-converge"]);
  });

  it("trusts the first host key only when no host key is pinned, as the real provider does", () => {
    const args = sshArgs({ ...connection, hostKey: undefined }, { identity: "/k", knownHosts: "/kh" }, "true");
    expect(args).toContain("StrictHostKeyChecking=no");
    expect(args).toContain("UserKnownHostsFile=/dev/null");
  });
});

describe("the kubernetes stand-in", () => {
  const secretType = kubernetesProvider("4.34.2").types["kubernetes:core/v1:Secret"];
  const token = (name: string, type = "bootstrap.kubernetes.io/token") => ({ metadata: { name, namespace: "kube-system", labels: { a: "b" } }, type, stringData: { x: "1" } });

  it("replaces a Secret whose name or type changes, and updates one whose data changes", () => {
    expect(secretType.replaces?.(token("bootstrap-token-abc123"), token("bootstrap-token-def456"))).toEqual(["metadata"]);
    expect(secretType.replaces?.(token("t"), token("t", "Opaque"))).toEqual(["type"]);
    expect(secretType.replaces?.(token("t"), { ...token("t"), stringData: { x: "2" } })).toEqual([]);
  });
});

describe("the random stand-in", () => {
  it.each([
    [{ upper: false, lower: true, numeric: true, special: false }, /^[a-z0-9]{16}$/],
    [{ upper: true, lower: false, numeric: false, special: false }, /^[A-Z]{16}$/],
  ])("draws only from the enabled sets (%o)", (sets, pattern) => {
    for (let i = 0; i < 50; i++) expect(randomString(16, sets)).toMatch(pattern);
  });

  it("refuses to draw from no set at all", () => {
    expect(() => randomString(6, { upper: false, lower: false, numeric: false, special: false })).toThrow(/no character set/);
  });
});
