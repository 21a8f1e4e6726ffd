/**
 * How far back a certificate's notBefore is set from the moment it is issued.
 * A verifier checks notBefore against its own clock, and that clock may be
 * behind ours: other hosts drift, and OpenSSL reads time(), which glibc serves
 * from a coarse clock up to a kernel tick (~4 ms) behind the one Date.now()
 * reads. Without it, a certificate issued early in a second is "not yet
 * valid" to a peer that sees it at once. notAfter is counted from the moment
 * of issue, so the lifetime asked for is not shortened.
 */
export const CLOCK_SKEW_MS = 60_000;

export const backdated = (now: Date): Date => new Date(now.getTime() - CLOCK_SKEW_MS);
