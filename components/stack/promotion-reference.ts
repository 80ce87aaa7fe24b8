/**
 * The promotion gate's Pulumi glue: reads what the source stack (and this stack itself) has rolled out through
 * `StackReference`s and hands it to the pure gate. `index.ts` awaits `enforcePromotion` before it builds the
 * cluster, so `pulumi preview` and `pulumi up` both refuse unpromoted pins before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { configKey, error, formatProblem, type Problem } from "../config/problems";
import type { KubeherdConfig } from "../config/schema";
import { checkPromotion } from "../promotion/gate";
import type { RolledOut } from "../promotion/rolled-out";

/** The stack output the program exports once every node is back (see rolled-out.ts). */
export const ROLLED_OUT_OUTPUT = "rolledOut";

/**
 * The fully qualified name of a stack named in `kubeherd:promotion.from`: `dev` and `acme/dev` are in this project,
 * `acme/kubeherd/dev` is used as written.
 */
export function qualifiedStackName(name: string, organization: string, project: string): string {
  const parts = name.split("/");
  if (parts.length === 1) return `${organization}/${project}/${name}`;
  if (parts.length === 2) return `${parts[0]}/${project}/${parts[1]}`;
  return name;
}

const pinsSchema = z.record(z.string(), z.string());

/**
 * Another stack's `rolledOut` comes from outside this program (its state, possibly written by an older kubeherd),
 * so it is checked rather than trusted.
 */
const rolledOutSchema: z.ZodType<RolledOut> = z.object({
  kubernetes: z.string(),
  pins: pinsSchema,
  release: z.string(),
  systemUpgrade: z.string().optional(),
  pools: z.record(z.string(), z.object({ pins: pinsSchema, nodes: z.array(z.string()), launched: z.object({ pins: pinsSchema, digest: z.string() }).optional() })),
  passed: z.array(z.object({ kubernetes: z.string(), pins: pinsSchema })).optional(),
  image: z.string().optional(),
  region: z.string().optional(),
});

export interface Read {
  value?: RolledOut;
  problems: Problem[];
}

export async function readRolledOut(resourceName: string, stack: string): Promise<Read> {
  const ref = new pulumi.StackReference(resourceName, { name: stack });
  const details = await ref.getOutputDetails(ROLLED_OUT_OUTPUT);
  const raw: unknown = details.value ?? details.secretValue;
  if (raw === undefined || raw === null) return { problems: [] };
  const parsed = rolledOutSchema.safeParse(raw);
  if (parsed.success) return { value: parsed.data, problems: [] };
  const why = parsed.error.issues.map((i) => `${i.path.join(".") || "(value)"}: ${i.message}`).join("; ");
  return { problems: [error(configKey("promotion", ["from"]), `the ${ROLLED_OUT_OUTPUT} output of ${stack} is not what kubeherd exports (${why})`)] };
}

/**
 * The promotion problems of this stack's config: none when it promotes from no stack. Reads the source stack's
 * `rolledOut` and this stack's own (what its nodes already run, which needs no promotion).
 */
export async function promotionProblems(config: KubeherdConfig): Promise<Problem[]> {
  const promotion = config.promotion;
  if (!promotion) return [];
  const organization = pulumi.getOrganization();
  const project = pulumi.getProject();
  const source = await readRolledOut("kubeherd-promotion-from", qualifiedStackName(promotion.from, organization, project));
  if (source.problems.length > 0) return source.problems;
  // A stack's own last output is trusted less than the source's: if it cannot be read, nothing counts as running.
  const self = await readRolledOut("kubeherd-promotion-self", `${organization}/${project}/${pulumi.getStack()}`);
  return checkPromotion(config, source.value, promotion.from, self.value);
}

/** Logs the gate's warnings and throws a RunError listing its errors, one line per config key. */
export async function enforcePromotion(config: KubeherdConfig): Promise<Problem[]> {
  const problems = await promotionProblems(config);
  // pulumi.log.warn already says "warning": the line is the key and the message.
  for (const p of problems.filter((p) => p.severity === "warning")) void pulumi.log.warn(`${p.key}: ${p.message}`);
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    throw new pulumi.RunError(`promotion refused:\n${errors.map(formatProblem).join("\n")}`);
  }
  return problems;
}
