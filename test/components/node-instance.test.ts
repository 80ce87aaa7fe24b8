/**
 * A node's instance registers exactly as `aws.ec2.Instance` does (type, name, parent, inputs, dependencies, provider
 * version, options), while declaring only the outputs kubeherd reads (components/node-instance.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { NodeInstance } from "../../components/node-instance";
import { settle, useMocks, valueOf, type Registration } from "../support/fixtures/mocks";

async function register(declare: (template: aws.ec2.LaunchTemplate) => pulumi.CustomResource): Promise<{ reg: Registration; resource: pulumi.CustomResource }> {
  const registered = useMocks("dev", {});
  const template = new aws.ec2.LaunchTemplate("workers", { imageId: "ami-0abcdef1234567890" });
  const resource = declare(template);
  await valueOf(resource.urn);
  await settle();
  const reg = registered.find((r) => r.type === "aws:ec2/instance:Instance");
  if (!reg) throw new Error("no instance registered");
  return { reg, resource };
}

const args = (template: aws.ec2.LaunchTemplate) => ({
  launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
  subnetId: "subnet-0a1b2c3d4e5f60001",
  tags: { Name: "workers-0", "kubeherd:pool": "workers" },
});
const opts: pulumi.CustomResourceOptions = { deleteBeforeReplace: true, replacementTrigger: "sha256:abc", ignoreChanges: ["ami"] };

describe("NodeInstance", () => {
  it("registers what aws.ec2.Instance registers: type, inputs, dependencies, options and the aws package's provider version", async () => {
    const generated = await register((t) => new aws.ec2.Instance("workers-0", args(t), opts));
    const lean = await register((t) => new NodeInstance("workers-0", args(t), opts));
    const { urn: _u1, ...want } = generated.reg;
    const { urn: _u2, ...got } = lean.reg;
    expect(got).toEqual(want);
    expect(lean.reg.urn).toBe(generated.reg.urn);
    expect(lean.reg.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(lean.reg.version).toBe(generated.reg.version);
  });

  it("resolves the outputs kubeherd reads, and declares no others", async () => {
    const { resource } = await register((t) => new NodeInstance("workers-0", args(t)));
    const instance = resource as NodeInstance;
    expect(await valueOf(instance.id)).toBe("workers-0-id");
    expect(await valueOf(instance.privateIp)).toBe("10.0.0.1");
    expect(await valueOf(instance.privateDns)).toBe("ip-10-0-0-1.workers-0.internal");
    expect("arn" in instance).toBe(false);
    expect(aws.ec2.Instance.isInstance(instance)).toBe(true);
  });
});
