/**
 * Stand-in for the `aws` CLI (not installable here, and no AWS to call), for the two EC2 calls `npm run recover`
 * makes, with the real CLI's arguments and its `--output json` answer shape:
 *
 *   aws ec2 describe-instances --region R --filters Name=tag:K,Values=V[,V…] … --output json
 *   aws ec2 terminate-instances --region R --instance-ids ID … --output json
 *
 * It forwards them to the end-to-end tier's fake cloud (cloud.ts, `POST /ec2`) at `$KUBEHERD_E2E_CLOUD`. Anything
 * else exits 252 with the real CLI's kind of usage error. `installAwsCli` puts an `aws` wrapper in a directory for PATH.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { shellQuote } from "../../../components/scripts/quote";
import type { Ec2Request } from "./cloud";

const ROOT = resolve(__dirname, "../../..");

/** Parses the CLI's argv into the fake cloud's request; a string is a usage error. */
export function ec2Request(argv: readonly string[]): Ec2Request | string {
  const [service, command, ...rest] = argv;
  if (service !== "ec2") return `aws: unknown service ${service ?? ""}`;
  const action = command === "describe-instances" ? "DescribeInstances" : command === "terminate-instances" ? "TerminateInstances" : undefined;
  if (!action) return `aws ec2: unknown command ${command ?? ""}`;
  const req: Ec2Request = { action, region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "" };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const values: string[] = [];
    while (rest[i + 1] !== undefined && !rest[i + 1].startsWith("--")) values.push(rest[++i]);
    if (arg === "--region") req.region = values[0] ?? "";
    else if (arg === "--output") {
      if (values[0] !== "json") return "aws: only --output json is modelled";
    } else if (arg === "--instance-ids") req.instanceIds = values;
    else if (arg === "--filters") {
      req.filters = {};
      for (const f of values) {
        const m = /^Name=([^,]+),Values=(.+)$/.exec(f);
        if (!m) return `aws: bad filter ${f}`;
        req.filters[m[1]] = m[2].split(",");
      }
    } else return `aws: unknown option ${arg}`;
  }
  return req;
}

async function main(argv: string[]): Promise<number> {
  const req = ec2Request(argv);
  if (typeof req === "string") {
    process.stderr.write(`${req}\n`);
    return 252;
  }
  const url = process.env.KUBEHERD_E2E_CLOUD;
  if (!url) {
    process.stderr.write("aws stand-in: KUBEHERD_E2E_CLOUD is not set\n");
    return 255;
  }
  const res = await fetch(`${url}/ec2`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(req) });
  const body = (await res.json()) as { error?: string };
  if (!res.ok || body.error) {
    process.stderr.write(`An error occurred when calling the ${req.action} operation: ${body.error ?? res.status}\n`);
    return 254;
  }
  process.stdout.write(`${JSON.stringify(body, null, 4)}\n`);
  return 0;
}

/** Writes an `aws` wrapper into `dir` (put it first on PATH) that calls the fake cloud at `cloudUrl`. */
export function installAwsCli(dir: string, cloudUrl: string): void {
  mkdirSync(dir, { recursive: true });
  const tsx = join(ROOT, "node_modules", ".bin", "tsx");
  const script = ["#!/usr/bin/env bash", "set -euo pipefail", `export KUBEHERD_E2E_CLOUD=${shellQuote(cloudUrl)}`, `exec ${shellQuote(tsx)} ${shellQuote(__filename)} "$@"`, ""].join("\n");
  writeFileSync(join(dir, "aws"), script);
  chmodSync(join(dir, "aws"), 0o755);
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
