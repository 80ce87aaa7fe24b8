/**
 * A Pulumi resource provider plugin served over gRPC, for the providers the end-to-end tier cannot build here
 * (FACTS.md §7–8: aws and command are refused by the module proxy; kubernetes and random stand in beside them).
 * The engine starts it like any plugin (`pulumi-resource-<name> <engine address>`) and reads the port it prints.
 *
 * @pulumi/pulumi's own provider server cannot serve these: it never hands the provider its configuration (the
 * Kubernetes stand-in needs the kubeconfig a `k8s.Provider` is given). This one speaks the same protocol for the
 * calls the engine makes of a custom-resource provider, and nothing else.
 */
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import type { PropertyMap } from "./values";

/** What one stand-in resource type does. Inputs and outputs are plain property maps, secrets still wrapped. */
export interface ResourceType {
  /** Inputs whose change the real provider answers with "replace". */
  replaceOn?: readonly string[];
  /** Inputs that are not compared (the real provider ignores them in its diff). */
  ignoreInDiff?: readonly string[];
  /** Where a replacement depends on more than a top-level key (a Kubernetes object's name): the keys it names. */
  replaces?(olds: PropertyMap, news: PropertyMap): string[];
  create(inputs: PropertyMap, ctx: ResourceContext): Promise<{ id: string; outs: PropertyMap }>;
  update?(id: string, olds: PropertyMap, news: PropertyMap, ctx: ResourceContext): Promise<PropertyMap>;
  delete?(id: string, props: PropertyMap, ctx: ResourceContext): Promise<void>;
  /** A refresh: the resource's outputs as they are now, undefined when it is gone. Without it, what the state holds. */
  read?(id: string, props: PropertyMap, ctx: ResourceContext): Promise<PropertyMap | undefined>;
}

export interface ResourceContext {
  urn: string;
  /** The resource's name (the last URN segment). */
  name: string;
  /** The provider's configuration (`k8s.Provider` inputs, `aws:region`, ...), secrets unwrapped. */
  config: Record<string, unknown>;
}

export interface StandInProvider {
  name: string;
  version: string;
  types: Record<string, ResourceType>;
}

/** `urn:pulumi:stack::project::parent$type::name` → type and name. */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  const name = parts.slice(3).join("::");
  const chain = parts[2] ?? "";
  return { type: chain.split("$").pop() ?? chain, name };
}

const toStruct = (value: PropertyMap | undefined) => structproto.Struct.fromJavaScript((value ?? {}) as Record<string, structproto.JavaScriptValue>);
const fromStruct = (s: structproto.Struct | undefined): PropertyMap => (s ? (s.toJavaScript() as PropertyMap) : {});

function typeOf(provider: StandInProvider, urn: string): ResourceType {
  const { type } = parseUrn(urn);
  const t = provider.types[type];
  if (!t) throw new Error(`the ${provider.name} stand-in does not model ${type} (urn ${urn})`);
  return t;
}

/** A failure the engine shows as the resource's error. */
function grpcError(err: unknown): grpc.ServiceError {
  const message = err instanceof Error ? err.message : String(err);
  return Object.assign(new Error(message), { code: grpc.status.UNKNOWN, details: message, metadata: new grpc.Metadata() });
}

function unary<Req, Res>(fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then((res) => callback(null, res), (err: unknown) => callback(grpcError(err)));
  };
}

/** Compares two property maps for the inputs a diff looks at. */
export function changedKeys(olds: PropertyMap, news: PropertyMap, ignore: readonly string[] = []): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => !ignore.includes(k) && !k.startsWith("__") && JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
}

export async function serve(provider: StandInProvider, configOf: (args: PropertyMap) => Record<string, unknown>): Promise<void> {
  let config: Record<string, unknown> = {};
  const ctx = (urn: string): ResourceContext => ({ urn, name: parseUrn(urn).name, config });

  const impl: Partial<provrpc.IResourceProviderServer> = {
    getPluginInfo: unary(async () => new plugproto.PluginInfo().setVersion(provider.version)),
    getSchema: unary(async () => new provproto.GetSchemaResponse().setSchema("{}")),
    attach: unary(async () => new emptyproto.Empty()),
    cancel: unary(async () => new emptyproto.Empty()),
    checkConfig: unary(async (req: provproto.CheckRequest) => new provproto.CheckResponse().setInputs(req.getNews())),
    diffConfig: unary(async (req: provproto.DiffRequest) => {
      const changed = changedKeys(fromStruct(req.getOlds()), fromStruct(req.getNews()), ["version"]);
      return new provproto.DiffResponse().setChanges(changed.length ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
    }),
    configure: unary(async (req: provproto.ConfigureRequest) => {
      const args = fromStruct(req.getArgs());
      const vars = Object.fromEntries(req.getVariablesMap().toArray());
      config = configOf({ ...vars, ...args });
      // No preview support: the engine never calls create or update during a preview.
      return new provproto.ConfigureResponse().setAcceptsecrets(true).setSupportspreview(false);
    }),
    check: unary(async (req: provproto.CheckRequest) => {
      typeOf(provider, req.getUrn());
      return new provproto.CheckResponse().setInputs(req.getNews());
    }),
    diff: unary(async (req: provproto.DiffRequest) => {
      const t = typeOf(provider, req.getUrn());
      // A provider diffs the old INPUTS against the new ones: `olds` are the old outputs (stdout, ids, ...).
      const olds = req.hasOldInputs() ? fromStruct(req.getOldInputs()) : fromStruct(req.getOlds());
      const changed = changedKeys(olds, fromStruct(req.getNews()), t.ignoreInDiff);
      const replaces = t.replaces?.(olds, fromStruct(req.getNews())) ?? changed.filter((k) => (t.replaceOn ?? []).includes(k));
      const res = new provproto.DiffResponse()
        .setChanges(changed.length ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE)
        .setDiffsList(changed);
      if (replaces.length) res.setReplacesList(replaces);
      return res;
    }),
    create: unary(async (req: provproto.CreateRequest) => {
      const t = typeOf(provider, req.getUrn());
      const inputs = fromStruct(req.getProperties());
      if (req.getPreview()) return new provproto.CreateResponse().setProperties(toStruct(inputs));
      const { id, outs } = await t.create(inputs, ctx(req.getUrn()));
      return new provproto.CreateResponse().setId(id).setProperties(toStruct(outs));
    }),
    read: unary(async (req: provproto.ReadRequest) => {
      const t = typeOf(provider, req.getUrn());
      if (!t.read) return new provproto.ReadResponse().setId(req.getId()).setProperties(req.getProperties()).setInputs(req.getInputs());
      const outs = await t.read(req.getId(), fromStruct(req.getProperties()), ctx(req.getUrn()));
      // An empty id tells the engine the resource no longer exists.
      return outs ? new provproto.ReadResponse().setId(req.getId()).setProperties(toStruct(outs)).setInputs(req.getInputs()) : new provproto.ReadResponse().setId("");
    }),
    update: unary(async (req: provproto.UpdateRequest) => {
      const t = typeOf(provider, req.getUrn());
      const news = fromStruct(req.getNews());
      if (req.getPreview() || !t.update) return new provproto.UpdateResponse().setProperties(toStruct({ ...fromStruct(req.getOlds()), ...news }));
      const outs = await t.update(req.getId(), fromStruct(req.getOlds()), news, ctx(req.getUrn()));
      return new provproto.UpdateResponse().setProperties(toStruct(outs));
    }),
    delete: unary(async (req: provproto.DeleteRequest) => {
      const t = typeOf(provider, req.getUrn());
      await t.delete?.(req.getId(), fromStruct(req.getProperties()), ctx(req.getUrn()));
      return new emptyproto.Empty();
    }),
  };

  const server = new grpc.Server();
  server.addService(provrpc.ResourceProviderService, impl as provrpc.IResourceProviderServer);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  // The engine reads the port from the plugin's first line of stdout.
  process.stdout.write(`${port}\n`);
}
