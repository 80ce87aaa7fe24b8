/**
 * Time as the node operations see it. The engine puts no deadline on a hook, so every wait below takes its own,
 * measured on this clock; tests and the benchmark pass the system clock, unit tests of pure waits may script one.
 */
import { setTimeout as delay } from "node:timers/promises";

export interface Clock {
  /** Milliseconds since an arbitrary origin; only differences matter. */
  now(): number;
  /** Resolves after `ms`, or early (without error) when `signal` aborts, so a finished wait leaves no timer behind. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    if (signal?.aborted) return;
    try {
      await delay(Math.max(0, ms), undefined, { signal });
    } catch (err) {
      if (!signal?.aborted) throw err;
    }
  },
};

/** A point in time by which a wait must be over, with the words to use when it is not. */
export class Deadline {
  readonly at: number;
  constructor(
    readonly clock: Clock,
    readonly seconds: number,
  ) {
    this.at = clock.now() + seconds * 1000;
  }
  remainingMs(): number {
    return Math.max(0, this.at - this.clock.now());
  }
  passed(): boolean {
    return this.clock.now() >= this.at;
  }
}

/** Seconds elapsed since `start` (a `clock.now()` value), for log lines: `2.1s`. */
export function elapsed(clock: Clock, start: number): string {
  return `${((clock.now() - start) / 1000).toFixed(1)}s`;
}
