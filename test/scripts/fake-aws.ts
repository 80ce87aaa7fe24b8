/**
 * A local stand-in for the two AWS endpoints a cattle node talks to at boot: the instance metadata service
 * (IMDSv2 only: a session token is required) and SSM's GetParameter, which checks the SigV4 signature with its own
 * implementation (node:crypto, written from AWS's SigV4 description) before it answers.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { type AddressInfo } from "node:net";

export const ROLE = "kubeherd-workers";
export const CREDENTIALS = { AccessKeyId: "ASIAKUBEHERDEXAMPLE", SecretAccessKey: "wJalr/K7MDENG+bPxRfi/EXAMPLE", Token: "IQoJb3JpZ2luX2VjEXAMPLE//session+token=" };

export interface FakeAws {
  url: string;
  /** Requests SSM accepted, with the parameter name each asked for. */
  accepted: { name: string; withDecryption: boolean }[];
  close(): Promise<void>;
}

export interface FakeAwsOptions {
  region: string;
  parameters: Record<string, string>;
  /** The secret SSM checks signatures with; differs from CREDENTIALS' to test a rejection. */
  verifyWithSecret?: string;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** SigV4 signature of a received request, for the headers it says it signed. */
export function expectedSignature(req: { method: string; path: string; headers: Record<string, string>; body: Buffer }, signedHeaders: string[], secret: string, scope: string, amzDate: string): string {
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${req.headers[h].trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [req.method, req.path, "", canonicalHeaders, signedHeaders.join(";"), sha256(req.body)].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const key = scope.split("/").reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${secret}`);
  return createHmac("sha256", key).update(stringToSign).digest("hex");
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeAws(o: FakeAwsOptions): Promise<FakeAws> {
  const session = "imds-session-abc";
  const accepted: FakeAws["accepted"] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const send = (status: number, payload: string, type = "text/plain") => {
        res.writeHead(status, { "content-type": type });
        res.end(payload);
      };
      const ssmError = (status: number, type: string, message: string) => send(status, JSON.stringify({ __type: type, message }), "application/x-amz-json-1.1");

      if (req.url === "/latest/api/token") {
        if (req.method !== "PUT" || !headers["x-aws-ec2-metadata-token-ttl-seconds"]) return send(400, "IMDSv2 token request must be a PUT with a TTL");
        return send(200, session);
      }
      if (req.url?.startsWith("/latest/meta-data/")) {
        if (headers["x-aws-ec2-metadata-token"] !== session) return send(401, "IMDSv2 session token required");
        if (req.url === "/latest/meta-data/iam/security-credentials/") return send(200, `${ROLE}\n`);
        if (req.url === `/latest/meta-data/iam/security-credentials/${ROLE}`) return send(200, JSON.stringify({ Code: "Success", ...CREDENTIALS }));
        return send(404, "not found");
      }
      if (req.method !== "POST" || req.url !== "/") return send(404, "not found");
      if (headers["x-amz-target"] !== "AmazonSSM.GetParameter") return ssmError(400, "UnknownOperationException", "unknown target");
      const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(headers.authorization ?? "");
      if (!auth) return ssmError(400, "IncompleteSignatureException", "no SigV4 authorization");
      const [, accessKey, scope, signed, signature] = auth;
      const amzDate = headers["x-amz-date"];
      const signedHeaders = signed.split(";");
      const mustSign = ["host", "x-amz-date", "x-amz-target", "x-amz-security-token", "content-type"];
      if (accessKey !== CREDENTIALS.AccessKeyId || scope !== `${amzDate.slice(0, 8)}/${o.region}/ssm/aws4_request` || !mustSign.every((h) => signedHeaders.includes(h))) {
        return ssmError(403, "InvalidSignatureException", "wrong credential scope or unsigned headers");
      }
      if (headers["x-amz-security-token"] !== CREDENTIALS.Token) return ssmError(403, "UnrecognizedClientException", "bad session token");
      const want = expectedSignature({ method: "POST", path: "/", headers, body }, signedHeaders, o.verifyWithSecret ?? CREDENTIALS.SecretAccessKey, scope, amzDate);
      if (want !== signature) return ssmError(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
      const request = JSON.parse(body.toString("utf8")) as { Name: string; WithDecryption?: boolean };
      const value = o.parameters[request.Name];
      if (value === undefined) return ssmError(400, "ParameterNotFound", "");
      accepted.push({ name: request.Name, withDecryption: request.WithDecryption === true });
      return send(200, JSON.stringify({ Parameter: { Name: request.Name, Type: "SecureString", Value: value, Version: 1 } }), "application/x-amz-json-1.1");
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
