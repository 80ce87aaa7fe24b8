/**
 * A KubeClient that can only read: the live preview and `npm run status` get one, so that no code path of theirs
 * can cordon, evict or delete, whatever the kubeconfig's rights. (The README's ClusterRole grants reads only, so the
 * API server refuses writes too.)
 */
import type { KubeClient } from "./client";

export class WriteRefused extends Error {
  constructor(what: string) {
    super(`${what}: refused, this client is read-only`);
    this.name = "WriteRefused";
  }
}

export function readOnly(client: KubeClient): KubeClient {
  return {
    list: (kind, query) => client.list(kind, query),
    get: (kind, name, namespace) => client.get(kind, name, namespace),
    watch: (kind, query, onEvent, onClose) => client.watch(kind, query, onEvent, onClose),
    patchNode: (name) => Promise.reject(new WriteRefused(`patch node ${name}`)),
    deleteNode: (name) => Promise.reject(new WriteRefused(`delete node ${name}`)),
    evictPod: (namespace, name) => Promise.reject(new WriteRefused(`evict ${namespace}/${name}`)),
    mayDo: (access) => client.mayDo(access),
    recordNodeEvent: (node) => Promise.reject(new WriteRefused(`record an event on node ${node}`)),
    servedGroups: () => client.servedGroups(),
    servedResources: (groupVersion) => client.servedResources(groupVersion),
    listResource: (groupVersion, resource) => client.listResource(groupVersion, resource),
    readMetrics: () => client.readMetrics(),
  };
}
