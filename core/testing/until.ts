// Test support: waits, polling, until a condition holds, or fails saying what did not happen.

/** Resolves once `what()` is true; rejects with "timed out: `why`" after `ms`. */
export async function until(what: () => boolean, why: string, ms = 20_000): Promise<void> {
  for (const deadline = Date.now() + ms; !what(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${why}`)
  }
}
