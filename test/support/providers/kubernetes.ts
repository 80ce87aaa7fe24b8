/**
 * Stand-in for the Kubernetes provider plugin (no release of it can be fetched here; FACTS.md §8), for what the
 * program declares with it: the `k8s.Provider` itself (its `kubeconfig` input is the provider's configuration)
 * and `kubernetes:core/v1:Secret` (the pools' bootstrap tokens). Secrets are created and deleted in the REAL API
 * server the provider's kubeconfig names, as the real provider does; a change of name, namespace or type replaces.
 *
 * Its one backend switch, for the engine tier (whose in-process API server serves what the hooks use, not Secrets):
 * with `$KUBEHERD_STANDIN_KUBERNETES=records` a Secret is answered as a record (its id and inputs) and no API is called.
 */
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import type { ResourceContext, ResourceType, StandInProvider } from "./server";
import { reveal, type PropertyMap } from "./values";

/** The client for the provider's kubeconfig; the client library is loaded on first use (it takes seconds to load). */
async function api(ctx: ResourceContext): Promise<CoreV1Api> {
  const text = ctx.config.kubeconfig;
  if (typeof text !== "string" || text === "") throw new Error("kubernetes stand-in: the provider has no kubeconfig");
  const { CoreV1Api: Api, KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc.makeApiClient(Api);
}

const identity = (props: PropertyMap) => {
  const m = (reveal(props.metadata) ?? {}) as { name?: string; namespace?: string };
  return { name: m.name ?? "", namespace: m.namespace ?? "default", type: reveal(props.type) };
};

const records = () => process.env.KUBEHERD_STANDIN_KUBERNETES === "records";

const secretType: ResourceType = {
  replaces(olds, news) {
    const a = identity(olds);
    const b = identity(news);
    return [...(a.name !== b.name || a.namespace !== b.namespace ? ["metadata"] : []), ...(a.type !== b.type ? ["type"] : [])];
  },
  async create(inputs, ctx) {
    const body = reveal(inputs) as V1Secret;
    const { name, namespace } = identity(inputs);
    if (records()) return { id: `${namespace}/${name}`, outs: inputs };
    const created = await (await api(ctx)).createNamespacedSecret({ namespace, body: { apiVersion: "v1", kind: "Secret", ...body } });
    return { id: `${namespace}/${created.metadata?.name ?? ""}`, outs: { ...inputs, metadata: { ...(inputs.metadata as object), uid: created.metadata?.uid } } };
  },
  async update(_id, _olds, news, ctx) {
    const body = reveal(news) as V1Secret;
    const { name, namespace } = identity(news);
    if (records()) return news;
    await (await api(ctx)).replaceNamespacedSecret({ name, namespace, body: { apiVersion: "v1", kind: "Secret", ...body } });
    return news;
  },
  async delete(_id, props, ctx) {
    const { name, namespace } = identity(props);
    if (records()) return;
    try {
      await (await api(ctx)).deleteNamespacedSecret({ name, namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  },
};

export function kubernetesProvider(version: string): StandInProvider {
  return { name: "kubernetes", version, types: { "kubernetes:core/v1:Secret": secretType } };
}

/** The provider's configuration: `kubeconfig` as the `k8s.Provider` resource was given it. */
export function kubernetesConfig(args: PropertyMap): Record<string, unknown> {
  const kubeconfig = reveal(args.kubeconfig ?? args["kubernetes:config:kubeconfig"]);
  return { kubeconfig };
}
