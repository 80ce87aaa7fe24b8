/**
 * The bootstrap token's rotation window, as plain arithmetic (what Terraform's time_rotating does, without another
 * provider). Time is cut into periods of the token's TTL; the token's random parts are keyed on the period, so the
 * first `pulumi up` in a new period makes a new token. A token is valid until the end of the period after the one it
 * was made in, so a long `pulumi up` that crosses a period boundary still joins its nodes with the token it started
 * with. Nodes only join during `pulumi up`, which refreshes the token first.
 */
export interface TokenWindow {
  /** The period's index since the epoch; the key of the token's random parts. */
  period: number;
  /** RFC 3339 expiration for the `bootstrap.kubernetes.io/token` Secret. */
  expiration: string;
}

export function tokenWindow(nowMs: number, ttlHours: number): TokenWindow {
  const periodMs = ttlHours * 3_600_000;
  const period = Math.floor(nowMs / periodMs);
  const expiration = new Date((period + 2) * periodMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  return { period, expiration };
}
