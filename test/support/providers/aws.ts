/**
 * Stand-in for the AWS provider (a Terraform bridge that cannot be built or fetched here; FACTS.md §7), for the
 * resources kubeherd declares: KMS key, IAM role, role policy and instance profile, SSM parameter, EC2 launch
 * template and instance. Like the real provider it is a thin client of a cloud API: it forwards each create,
 * update and delete to the end-to-end tier's fake cloud (test/support/cloud/), on 127.0.0.1 at
 * `$KUBEHERD_E2E_CLOUD`, which boots instances as node roots. What forces a replacement is the real provider's
 * schema's: an instance's launch template, subnet or AMI; a parameter's or key's name.
 */
import type { ResourceType, StandInProvider } from "./server";
import { reveal, secret, type PropertyMap } from "./values";

/** The fake cloud's request and answer, one per provider call. */
export interface CloudCall {
  type: string;
  op: "create" | "update" | "delete" | "read";
  name: string;
  id?: string;
  inputs: PropertyMap;
  olds?: PropertyMap;
  region: string;
}
export interface CloudAnswer {
  id: string;
  outs: PropertyMap;
  error?: string;
}

async function call(c: CloudCall): Promise<CloudAnswer> {
  const url = process.env.KUBEHERD_E2E_CLOUD;
  if (!url) throw new Error("aws stand-in: KUBEHERD_E2E_CLOUD is not set (no fake cloud to call)");
  const res = await fetch(`${url}/call`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(c) });
  const answer = (await res.json()) as CloudAnswer;
  if (!res.ok || answer.error) throw new Error(`${c.type} ${c.name}: ${answer.error ?? `HTTP ${res.status}`}`);
  return answer;
}

/** Outputs the real provider marks secret stay secret. */
const SECRET_OUTPUTS: Record<string, readonly string[]> = { "aws:ssm/parameter:Parameter": ["value"] };

function forwarded(type: string, replaceOn: readonly string[]): ResourceType {
  const rewrap = (outs: PropertyMap) => {
    const copy = { ...outs };
    for (const k of SECRET_OUTPUTS[type] ?? []) if (k in copy) copy[k] = secret(copy[k]);
    return copy;
  };
  return {
    replaceOn,
    ignoreInDiff: ["tagsAll"],
    async create(inputs, ctx) {
      const a = await call({ type, op: "create", name: ctx.name, inputs: reveal(inputs) as PropertyMap, region: String(ctx.config.region ?? "") });
      return { id: a.id, outs: rewrap({ ...inputs, ...a.outs }) };
    },
    async update(id, olds, news, ctx) {
      const a = await call({ type, op: "update", name: ctx.name, id, inputs: reveal(news) as PropertyMap, olds: reveal(olds) as PropertyMap, region: String(ctx.config.region ?? "") });
      return rewrap({ ...olds, ...news, ...a.outs });
    },
    async delete(id, props, ctx) {
      await call({ type, op: "delete", name: ctx.name, id, inputs: reveal(props) as PropertyMap, region: String(ctx.config.region ?? "") });
    },
    // A refresh asks the cloud whether the resource is still there (an instance terminated while no one recorded it is not).
    async read(id, props, ctx) {
      const a = await call({ type, op: "read", name: ctx.name, id, inputs: reveal(props) as PropertyMap, region: String(ctx.config.region ?? "") });
      return a.id === "" ? undefined : rewrap({ ...props, ...a.outs });
    },
  };
}

export const AWS_TYPES: Record<string, readonly string[]> = {
  "aws:kms/key:Key": [],
  "aws:iam/role:Role": ["name", "assumeRolePolicy"],
  "aws:iam/rolePolicy:RolePolicy": ["role", "name"],
  "aws:iam/instanceProfile:InstanceProfile": ["name"],
  "aws:ssm/parameter:Parameter": ["name"],
  "aws:ec2/launchTemplate:LaunchTemplate": [],
  "aws:ec2/instance:Instance": ["launchTemplate", "subnetId", "ami"],
};

export function awsProvider(version: string): StandInProvider {
  return { name: "aws", version, types: Object.fromEntries(Object.entries(AWS_TYPES).map(([t, r]) => [t, forwarded(t, r)])) };
}

/** `aws:region` and the rest of the provider's configuration, plain. */
export function awsConfig(args: PropertyMap): Record<string, unknown> {
  const plain = reveal(args) as Record<string, unknown>;
  return { ...plain, region: plain.region ?? plain["aws:config:region"] };
}
