// The benchmarks' load of one member: payments kept `window` in flight, each timed from request to receipt.

/**
 * Starts the payment `next()` gives, keeping at most `window` open, until it gives none; resolves with the
 * request-to-receipt milliseconds of those that were receipted (a refused one counts as not receipted).
 */
export async function payInWindow(window: number, next: () => (() => Promise<unknown>) | undefined, latencies: number[] = []): Promise<number[]> {
  const inflight = new Set<Promise<void>>()
  for (let pay = next(); pay; pay = next()) {
    const t0 = performance.now()
    const done: Promise<void> = pay()
      .then(
        () => void latencies.push(performance.now() - t0),
        () => {},
      )
      .finally(() => inflight.delete(done))
    inflight.add(done)
    if (inflight.size >= window) await Promise.race(inflight)
  }
  await Promise.all(inflight)
  return latencies
}
