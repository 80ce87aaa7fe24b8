/**
 * How a node script runs over SSH: to the end, whatever happens to the connection. A `pulumi up` killed outright (a
 * cancelled CI job, a lost laptop) drops the SSH session; a converge script that then died half-way between
 * `apt-mark unhold` and `apt-mark hold` would leave the node worse off than one that completes, and the next `up`'s
 * converge is idempotent. So the script runs in a session of its own (`setsid`: no hang-up reaches it), with its
 * input from /dev/null and its output to files under the state directory (no write to a closed connection kills it);
 * the SSH session only waits for it and prints its output and exit status. One lock per node (`flock`, not passed on
 * to the script's children) makes a later run wait for a run still going, so two converges never overlap.
 */
import { STATE_DIR } from "./prelude";
import { shellQuote } from "./quote";

/** Runs "$1" (the node script) detached, as above; the script's own name in messages is `kubeherd-converge`. */
export const DETACHED_RUN = `set -uo pipefail
state=${shellQuote(STATE_DIR)}
mkdir -p "$state"
out=$(mktemp "$state/converge.XXXXXX")
setsid -w flock -o "$state/converge.lock" bash -c "$1" kubeherd-converge </dev/null >"$out.stdout" 2>"$out.stderr" &
wait "$!"
status=$?
cat "$out.stdout"
cat "$out.stderr" >&2
rm -f "$out" "$out.stdout" "$out.stderr"
exit "$status"`;
