/**
 * The Node.js SDK wraps every promise behind a resource's outputs in `debuggablePromise`, which stores
 * `new Error().stack` on it for a leak report printed only when PULUMI_DEBUG_PROMISE_LEAKS is set: four for each
 * output of each resource. With the 63 outputs of aws.ec2.Instance, at 1,000 nodes the program formatted about
 * 250,000 stack traces (source-mapped, as under ts-node or tsx): 10 of its 21 s under mocks (`npm run bench`,
 * program-1000-nodes; node-instance.ts since cut the outputs). The resources' own source positions do not depend on
 * it (the SDK raises the limit for those).
 *
 * `withoutPromiseStacks` runs the cluster's construction with `Error.stackTraceLimit` at 0 and restores it however
 * it ends; with PULUMI_DEBUG_PROMISE_LEAKS set it changes nothing, so the leak report keeps its stacks.
 */
export function withoutPromiseStacks<T>(construct: () => T, env: NodeJS.ProcessEnv = process.env): T {
  if (env.PULUMI_DEBUG_PROMISE_LEAKS) return construct();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return construct();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
