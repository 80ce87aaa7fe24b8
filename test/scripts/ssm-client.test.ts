/**
 * The python3 SSM client of the cattle boot script: its SigV4 signing against AWS's published test vectors
 * (aws-sig-v4-test-suite: get-vanilla, get-vanilla-query-order-key-case, post-vanilla, post-sts-header-before),
 * and the whole exchange against a local IMDSv2 + SSM that checks signatures with its own implementation.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SSM_CLIENT_PY } from "../../components/scripts/ssm-client";
import { bootScript } from "../../components/scripts/userdata";
import { currentConfig } from "../support/fixtures/config";
import { FakeAws } from "../support/cloud/fake-aws";
import { bootTarget } from "../support/scenarios/scripts";

const REGION = "eu-west-1";
const PARAMETER = "/kubeherd/test/workers/join";
const TOKEN = "abcdef.0123456789abcdef";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kubeherd-ssm-"));
  writeFileSync(join(dir, "kubeherd_ssm.py"), SSM_CLIENT_PY);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Vector {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** `authorization(...)` of the python module, for AWS's example credentials and scope. */
function pythonAuthorization(v: Vector): string {
  const program = [
    "import json, sys",
    `sys.path.insert(0, ${JSON.stringify(dir)})`,
    "import kubeherd_ssm as m",
    "v = json.load(sys.stdin)",
    'print(m.authorization(v["method"], v["url"], v["headers"], b"", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service", "20150830T123600Z"))',
  ].join("\n");
  const r = spawnSync("python3", ["-c", program], { input: JSON.stringify(v), encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

const base = { Host: "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z" };
const credential = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
const STS_TOKEN =
  "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

describe("SigV4 signing (python client)", () => {
  it.each([
    ["get-vanilla", { method: "GET", url: "https://example.amazonaws.com/", headers: base }, "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"],
    [
      "get-vanilla-query-order-key-case",
      { method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", headers: base },
      "host;x-amz-date",
      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ],
    ["post-vanilla", { method: "POST", url: "https://example.amazonaws.com/", headers: base }, "host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"],
    [
      "post-sts-header-before",
      { method: "POST", url: "https://example.amazonaws.com/", headers: { ...base, "X-Amz-Security-Token": STS_TOKEN } },
      "host;x-amz-date;x-amz-security-token",
      "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    ],
  ])("matches AWS's test vector %s", (_, vector, signed, signature) => {
    expect(pythonAuthorization(vector)).toBe(`${credential}, SignedHeaders=${signed}, Signature=${signature}`);
  });

  it("is Python 3.5 syntax (Ubuntu 16.04's python3): no f-strings or newer forms", () => {
    const r = spawnSync("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read(), feature_version=(3, 5))"], { input: SSM_CLIENT_PY, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

function run(file: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("reading the join token through IMDSv2 and SSM", () => {
  const aws = new FakeAws({ region: REGION, parameters: { [PARAMETER]: TOKEN } });
  const wrongKey = new FakeAws({ region: REGION, parameters: { [PARAMETER]: TOKEN }, verifyWithSecret: "another-secret" });
  const urls = new Map<FakeAws, string>();
  beforeAll(async () => {
    for (const fake of [aws, wrongKey]) urls.set(fake, await fake.start());
  });
  afterAll(async () => {
    await aws.stop();
    await wrongKey.stop();
  });
  const env = (fake: FakeAws) => ({ KUBEHERD_IMDS_ENDPOINT: urls.get(fake) ?? "", KUBEHERD_SSM_ENDPOINT: urls.get(fake) ?? "", KUBEHERD_SSM_ATTEMPTS: "1" });

  it("prints the decrypted value and nothing else, signed with the role's session credentials", async () => {
    const r = await run("python3", ["-c", SSM_CLIENT_PY, REGION, PARAMETER], env(aws));
    expect(r).toEqual({ code: 0, stdout: TOKEN, stderr: "" });
    expect(aws.accepted).toContainEqual({ name: PARAMETER, withDecryption: true });
  });

  it("fails, naming the parameter and AWS's error, when SSM rejects the signature", async () => {
    const r = await run("python3", ["-c", SSM_CLIENT_PY, REGION, PARAMETER], env(wrongKey));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`reading SSM parameter ${PARAMETER} failed (1/1): HTTP 403 InvalidSignatureException`);
  });

  it("fails without retrying forever when the parameter does not exist", async () => {
    const r = await run("python3", ["-c", SSM_CLIENT_PY, REGION, "/kubeherd/test/other/join"], env(aws));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("HTTP 400 ParameterNotFound");
  });

  it("hands the token from SSM to kubeadm join in the boot script, never printing it", async () => {
    // The boot script's own join function and SSM client, with kubeadm replaced by a recorder and the node not
    // yet joined; everything else in the script needs root and apt (the Debian-root harness runs it whole).
    const script = bootScript(bootTarget(currentConfig()));
    const fn = (name: string) => {
      const m = new RegExp(`^${name}\\(\\) \\{[\\s\\S]*?^\\}$`, "m").exec(script) ?? new RegExp(`^${name}\\(\\) \\{.*\\}$`, "m").exec(script);
      if (!m) throw new Error(`no function ${name} in the boot script`);
      return m[0];
    };
    const client = /^ssm_client="\$\(cat <<'KUBEHERD_SSM_CLIENT'$[\s\S]*?^\)"$/m.exec(script);
    const joinCall = /^join_cluster .*$/m.exec(script);
    expect(client).not.toBeNull();
    expect(joinCall).not.toBeNull();
    const recorded = join(dir, "kubeadm-args");
    const harness = [
      "set -euo pipefail",
      "node=test-node",
      "changed=()",
      fn("say"),
      fn("die"),
      fn("join_cluster"),
      "joined() { return 1; }",
      `kubeadm() { printf '%s\\n' "$@" >${JSON.stringify(recorded)}; }`,
      client?.[0],
      joinCall?.[0],
    ].join("\n");
    const r = await run("bash", ["-c", harness], env(aws));
    expect(r.stderr).not.toContain(TOKEN);
    expect(r.stdout).not.toContain(TOKEN);
    expect(r.code).toBe(0);
    expect(readFileSync(recorded, "utf8").split("\n").filter(Boolean)).toEqual([
      "join",
      "k8s-test.internal.example.com:6443",
      "--token",
      TOKEN,
      "--discovery-token-ca-cert-hash",
      `sha256:${"ab".repeat(32)}`,
      "--cri-socket",
      "unix:///run/containerd/containerd.sock",
    ]);
  });
});
