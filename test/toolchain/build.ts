/**
 * `npm run toolchain`: builds (or finds cached) everything the test tiers build for themselves, and says what it
 * built and how long it took. The tiers' global setups do the same on their own; this is for filling a cache ahead.
 */
import { testCache } from "./go-build";
import { ensureToolchain } from "./toolchain";

const started = Date.now();
ensureToolchain((built) => {
  for (const b of built) console.log(`built ${b.tool} in ${b.seconds} s`);
  if (built.length === 0) console.log("nothing to build: every tool was cached");
}).then(
  (t) => {
    console.log(`toolchain in ${testCache()} ready in ${Math.round((Date.now() - started) / 1000)} s:`);
    for (const [k, v] of Object.entries(t)) console.log(`  ${k}: ${v}`);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
