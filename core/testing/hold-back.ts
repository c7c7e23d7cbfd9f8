// Test support: a transport wrapper that holds back some entries (pushed or read from the logs) until released.
import type { Transport } from '../consensus/transport.js'

/**
 * Wraps a transport so that the entries `hold` picks (told their author, bytes and whether pushed) wait until
 * `release`, which hands them over in the order they came; nothing is held after it.
 */
export function holdingBack(hold: (author: number, bytes: Uint8Array, pushed: boolean | undefined) => boolean) {
  let held: Array<() => void> | undefined = []
  const wrap = (t: Transport): Transport => ({
    ...t,
    subscribe: (h) =>
      t.subscribe((author, position, bytes, pushed) => {
        if (held && hold(author, bytes, pushed)) held.push(() => h(author, position, bytes, pushed))
        else h(author, position, bytes, pushed)
      }),
  })
  const release = (): void => {
    const waiting = held ?? []
    held = undefined
    for (const deliver of waiting) deliver()
  }
  return { wrap, release }
}
