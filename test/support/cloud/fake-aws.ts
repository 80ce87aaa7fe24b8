/**
 * The two AWS endpoints a cattle node's boot script calls, served on 127.0.0.1 for the script tests, the Debian
 * roots and the fake cloud (cloud.ts): IMDSv2 (session token, then the instance role's temporary credentials) and
 * SSM GetParameter. SSM checks the request's SigV4 signature (node:crypto, written from AWS's SigV4 description)
 * with the credentials it handed out, so a signing mistake in the boot script fails the test as it would fail on AWS.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";

export interface FakeAwsOptions {
  region: string;
  /** SSM parameters by name (SecureString values, returned decrypted). */
  parameters: Record<string, string>;
  /** The secret SSM checks signatures with, when not the one it handed out: to test a rejection. */
  verifyWithSecret?: string;
}

export interface SsmRequest {
  readonly target: string;
  readonly body: unknown;
  /** Why the signature was refused, or undefined when it verified. */
  readonly signatureProblem?: string;
}

const ROLE = "kubeherd-node";
const CREDENTIALS = { AccessKeyId: "ASIAKUBEHERDTEST0001", SecretAccessKey: "kubeherd/test/secret/key/0000000000000000", Token: "kubeherd-session-token" };
const IMDS_TOKEN = "kubeherd-imds-session";

export class FakeAws {
  readonly ssmRequests: SsmRequest[] = [];
  readonly imdsRequests: string[] = [];
  private server?: Server;
  private unixServer?: Server;

  constructor(private readonly options: FakeAwsOptions) {}

  /** The GetParameter requests SSM answered with a value. */
  get accepted(): { name: string; withDecryption: boolean }[] {
    return this.answered;
  }

  private readonly answered: { name: string; withDecryption: boolean }[] = [];

  /** Starts serving; returns the endpoint both KUBEHERD_IMDS_ENDPOINT and KUBEHERD_SSM_ENDPOINT take. */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, Buffer.concat(chunks), res));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Serves the same endpoints on a unix socket too (removed again by stop). */
  async listenUnix(path: string): Promise<void> {
    rmSync(path, { force: true });
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, Buffer.concat(chunks), res));
    });
    this.unixServer = server;
    await new Promise<void>((resolve) => server.listen(path, resolve));
  }

  async stop(): Promise<void> {
    for (const server of [this.server, this.unixServer]) {
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const url = req.url ?? "/";
    const reply = (status: number, text: string, type = "text/plain") => {
      res.writeHead(status, { "Content-Type": type });
      res.end(text);
    };
    if (url.startsWith("/latest/")) {
      this.imdsRequests.push(`${req.method} ${url}`);
      if (url === "/latest/api/token") {
        return req.method === "PUT" && req.headers["x-aws-ec2-metadata-token-ttl-seconds"] ? reply(200, IMDS_TOKEN) : reply(400, "IMDSv2 token needs PUT with a TTL");
      }
      // IMDSv2 only (httpTokens = required): no session token, no metadata
      if (req.headers["x-aws-ec2-metadata-token"] !== IMDS_TOKEN) return reply(401, "");
      if (url === "/latest/meta-data/iam/security-credentials/") return reply(200, ROLE);
      if (url === `/latest/meta-data/iam/security-credentials/${ROLE}`) {
        return reply(200, JSON.stringify({ Code: "Success", Type: "AWS-HMAC", ...CREDENTIALS }), "application/json");
      }
      return reply(404, "");
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    let parsed: { Name?: string; WithDecryption?: boolean } = {};
    try {
      parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
    } catch {
      parsed = {};
    }
    const signatureProblem = this.checkSignature(req, body);
    this.ssmRequests.push({ target, body: parsed, signatureProblem });
    const error = (status: number, type: string, message: string) =>
      reply(status, JSON.stringify({ __type: type, message }), "application/x-amz-json-1.1");
    if (signatureProblem) return error(403, "InvalidSignatureException", signatureProblem);
    if (target !== "AmazonSSM.GetParameter") return error(400, "InvalidAction", target);
    const value = parsed.Name === undefined ? undefined : this.options.parameters[parsed.Name];
    if (value === undefined) return error(400, "ParameterNotFound", String(parsed.Name));
    if (parsed.WithDecryption !== true) return error(400, "ValidationException", "SecureString read without decryption");
    this.answered.push({ name: parsed.Name ?? "", withDecryption: true });
    reply(200, JSON.stringify({ Parameter: { Name: parsed.Name, Type: "SecureString", Value: value, Version: 1 } }), "application/x-amz-json-1.1");
  }

  /** SigV4 as AWS checks it, for the credentials this fake handed out. */
  private checkSignature(req: IncomingMessage, body: Buffer): string | undefined {
    const auth = String(req.headers.authorization ?? "");
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return `malformed Authorization header: ${auth.slice(0, 80)}`;
    const [, accessKey, day, region, service, signedHeaders, signature] = m;
    if (accessKey !== CREDENTIALS.AccessKeyId) return `unknown access key ${accessKey}`;
    if (region !== this.options.region || service !== "ssm") return `scope ${region}/${service}, expected ${this.options.region}/ssm`;
    if (req.headers["x-amz-security-token"] !== CREDENTIALS.Token) return "missing or wrong X-Amz-Security-Token";
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    if (!amzDate.startsWith(day)) return `X-Amz-Date ${amzDate} does not match the scope's day ${day}`;
    const names = signedHeaders.split(";");
    if (!names.includes("host") || !names.includes("x-amz-date")) return "host and x-amz-date must be signed";
    const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
    const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
    const [path = "/", query = ""] = (req.url ?? "/").split("?");
    const canonical = [req.method, path, query, canonicalHeaders, signedHeaders, sha(body)].join("\n");
    const scope = `${day}/${region}/${service}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha(canonical)].join("\n");
    let key: Buffer = Buffer.from(`AWS4${this.options.verifyWithSecret ?? CREDENTIALS.SecretAccessKey}`);
    for (const part of [day, region, service, "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
    const expected = createHmac("sha256", key).update(toSign).digest("hex");
    return expected === signature ? undefined : "signature does not match";
  }
}
