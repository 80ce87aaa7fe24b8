/** What a transition is judged from (./transition.ts, ./journey.ts): the versions that run on the nodes. */
import type { Runtime } from "../config/schema";
import type { PinnedPackage } from "./pins";

/** What runs on the nodes: the deployed config's versions, or a stack's `rolledOut` output. */
export interface Deployed {
  /** The control plane's release, without the `v`. */
  kubernetes: string;
  pins: Partial<Record<PinnedPackage, string>>;
  /** The Ubuntu release (`22.04`). */
  release: string;
  /** Undefined when unknown (an older `rolledOut`): then a `docker-ce` pin means docker. */
  runtime?: Runtime;
  /** What each pool's nodes ran, by pool name (`rolledOut.pools[].pins`); a pool not listed ran `pins`. */
  pools?: Record<string, Partial<Record<PinnedPackage, string>>>;
  /** `os.image` that the cattle pools booted (./placement.ts); undefined when unknown or none did. */
  image?: string;
  /** `aws:region` of the instances kubeherd created (./placement.ts); undefined when unknown or none. */
  region?: string;
}
