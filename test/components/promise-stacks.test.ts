import { describe, expect, it } from "vitest";
import { withoutPromiseStacks } from "../../components/promise-stacks";

describe("withoutPromiseStacks", () => {
  it("captures no stack frames while the cluster is constructed, and restores the limit after", () => {
    const before = Error.stackTraceLimit;
    const stack = withoutPromiseStacks(() => new Error("x").stack, {});
    expect(stack).toBe("Error: x");
    expect(Error.stackTraceLimit).toBe(before);
  });

  it("restores the limit when the construction throws", () => {
    const before = Error.stackTraceLimit;
    expect(() => withoutPromiseStacks(() => {
      throw new Error("invalid pool");
    }, {})).toThrow("invalid pool");
    expect(Error.stackTraceLimit).toBe(before);
  });

  it("keeps every stack when PULUMI_DEBUG_PROMISE_LEAKS asks for the leak report", () => {
    const stack = withoutPromiseStacks(() => new Error("x").stack, { PULUMI_DEBUG_PROMISE_LEAKS: "1" });
    expect(stack?.split("\n").length).toBeGreaterThan(1);
  });
});
