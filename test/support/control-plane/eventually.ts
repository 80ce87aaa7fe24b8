/** Bounded waits for the e2e tier: every wait on a real cluster has a deadline and says what it waited for. */
export async function eventually<T>(what: string, seconds: number, check: () => Promise<T | undefined | false>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`${what}: not within ${seconds} s${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
