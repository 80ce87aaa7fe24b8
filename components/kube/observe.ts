/**
 * Waiting on the Kubernetes API the way informers do: list, then watch from the list's resourceVersion, and list
 * again whenever the watch ends. A condition is checked after the list and after every event, so a change is seen
 * as soon as the API server sends it, never on the next tick of a fixed interval.
 */
import { KubeApiError, type Kind, type KubeClient, type ObjectOf, type Query, type Watcher } from "./client";
import type { Clock, Deadline } from "./clock";

/** The objects currently seen, keyed by uid. */
export type Snapshot<T> = ReadonlyMap<string, T>;

export interface ObserveSpec<K extends Kind> {
  kind: K;
  query?: Query;
}

/** After a list or watch failure, wait this long before listing again (doubling up to the cap). */
const RETRY_START_MS = 100;
const RETRY_CAP_MS = 2_000;
const MIN_HEALTHY_WATCH_MS = 1_000;

const keyOf = (o: { metadata?: { uid?: string; name?: string; namespace?: string } }): string =>
  o.metadata?.uid ?? `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** Errors that another list will not cure: say so at once instead of retrying until the deadline. */
const isPermanent = (err: unknown) => err instanceof KubeApiError && [400, 401, 403, 404].includes(err.status);

/**
 * Resolves with the first non-undefined value of `check`, or with `undefined` when the deadline passes or
 * `signal` aborts. Transient API failures are retried until the deadline; the last one is passed to `onError`.
 */
export function watchUntil<K extends Kind, R>(
  client: KubeClient,
  clock: Clock,
  spec: ObserveSpec<K>,
  check: (objects: Snapshot<ObjectOf[K]>) => R | undefined,
  deadline: Deadline,
  options: { signal?: AbortSignal; onError?: (err: unknown) => void } = {},
): Promise<R | undefined> {
  const stop = new AbortController();
  return new Promise<R | undefined>((resolve, reject) => {
    let finished = false;
    let watcher: Watcher | undefined;
    const finish = (value: R | undefined, err?: unknown) => {
      if (finished) return;
      finished = true;
      watcher?.stop();
      stop.abort();
      options.signal?.removeEventListener("abort", onAbort);
      if (err !== undefined) reject(err);
      else resolve(value);
    };
    const onAbort = () => finish(undefined);
    if (options.signal?.aborted) return finish(undefined);
    options.signal?.addEventListener("abort", onAbort);
    void clock.sleep(deadline.remainingMs(), stop.signal).then(() => finish(undefined));

    const objects = new Map<string, ObjectOf[K]>();
    const evaluate = () => {
      if (finished) return;
      let value: R | undefined;
      try {
        value = check(objects);
      } catch (err) {
        return finish(undefined, err);
      }
      if (value !== undefined) finish(value);
    };

    const cycle = async () => {
      let retryMs = RETRY_START_MS;
      while (!finished) {
        try {
          const list = await client.list(spec.kind, spec.query);
          if (finished) return;
          objects.clear();
          for (const item of list.items) objects.set(keyOf(item), item);
          evaluate();
          if (finished) return;
          const closed = new Promise<Error | undefined>((closedWith) => {
            void client
              .watch(
                spec.kind,
                { ...spec.query, resourceVersion: list.resourceVersion },
                (type, object) => {
                  if (type === "DELETED") objects.delete(keyOf(object));
                  else objects.set(keyOf(object), object);
                  evaluate();
                },
                closedWith,
              )
              .then((w) => {
                watcher = w;
                if (finished) w.stop();
              }, closedWith);
          });
          const watchedFrom = clock.now();
          const err = await closed;
          // A watch the server ended normally after a while is simply renewed; one that ends at once, with or
          // without an error, is retried with backoff so a misbehaving server is not hammered.
          if (err === undefined && clock.now() - watchedFrom >= MIN_HEALTHY_WATCH_MS) {
            retryMs = RETRY_START_MS;
            continue;
          }
          if (err) options.onError?.(err);
        } catch (err) {
          if (isPermanent(err)) return finish(undefined, err);
          options.onError?.(err);
        }
        await clock.sleep(Math.min(retryMs, deadline.remainingMs()), stop.signal);
        retryMs = Math.min(retryMs * 2, RETRY_CAP_MS);
      }
    };
    cycle().catch((err: unknown) => finish(undefined, err));
  });
}
