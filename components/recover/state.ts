/**
 * The part of a stack's state (`pulumi stack export`) that `npm run recover` reads: the resources and the pending
 * operations an interrupted `pulumi up` left (an operation is written as pending before the provider is called and
 * removed once its result is recorded; a killed `up` leaves it there). Plain data, no Pulumi.
 */

export type PendingKind = "creating" | "updating" | "deleting" | "reading" | "importing";

export interface StateResource {
  urn: string;
  type: string;
  id?: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

export interface PendingOperation {
  type: PendingKind;
  resource: StateResource;
}

export interface Deployment {
  resources: StateResource[];
  pending: PendingOperation[];
}

export const INSTANCE = "aws:ec2/instance:Instance";
export const COMMAND = "command:remote:Command";

const record = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function resourceOf(v: unknown): StateResource {
  const r = record(v);
  return {
    urn: String(r.urn ?? ""),
    type: String(r.type ?? ""),
    id: typeof r.id === "string" && r.id !== "" ? r.id : undefined,
    inputs: record(r.inputs),
    outputs: record(r.outputs),
  };
}

/** Reads `pulumi stack export`'s JSON (`{version, deployment: {resources, pending_operations}}`). */
export function readDeployment(exported: unknown): Deployment {
  const deployment = record(record(exported).deployment);
  const resources = Array.isArray(deployment.resources) ? deployment.resources.map(resourceOf) : [];
  const pending = Array.isArray(deployment.pending_operations)
    ? deployment.pending_operations.map((op) => ({ type: String(record(op).type) as PendingKind, resource: resourceOf(record(op).resource) }))
    : [];
  return { resources, pending };
}

/** The export with only the pending operations `keep` says to keep (what `pulumi stack import` then takes). */
export function withPending(exported: unknown, keep: (op: PendingOperation, index: number) => boolean): unknown {
  const copy = structuredClone(exported) as { deployment?: { pending_operations?: unknown[] } };
  const ops = copy.deployment?.pending_operations;
  if (!copy.deployment || !Array.isArray(ops)) return copy;
  const read = readDeployment(exported).pending;
  copy.deployment.pending_operations = ops.filter((_, i) => keep(read[i], i));
  return copy;
}

/** The URN's last segment: the resource's name (`workers-0`, `workers-w-2`). */
export function urnName(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

/** A tag of an instance's inputs (`kubeherd:node`). */
export function tagOf(r: StateResource, key: string): string | undefined {
  const v = record(r.inputs.tags)[key] ?? record(r.outputs.tags)[key];
  return typeof v === "string" ? v : undefined;
}
