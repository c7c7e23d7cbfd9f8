// The in-memory logs behind the cluster tests hand a late subscriber every log whole and in order (found by CI: an
// entry appended just before a restarted member subscribed reached it ahead of the history, and the history of that
// log, older receipts included, was then passed over as already seen).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryBus } from './memory-bus.js'

const entry = (n: number): Uint8Array => Uint8Array.of(n)

describe('memory bus', () => {
  it('gives a subscriber that comes while an append is in flight each log once, in order, its own first', async () => {
    const bus = new MemoryBus()
    const writer = bus.connect(1)
    const reader = bus.connect(0)
    await reader.append([entry(100)])
    await writer.append([entry(1), entry(2)])
    await new Promise((r) => setImmediate(r))
    await writer.append([entry(3)]) // delivery still pending when the reader subscribes
    const got: Array<[number, number, number]> = []
    reader.subscribe((author, position, bytes) => got.push([author, position, bytes[0]!]))
    await writer.append([entry(4)])
    await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(got, [
      [0, 0, 100],
      [1, 0, 1],
      [1, 1, 2],
      [1, 2, 3],
      [1, 3, 4],
    ])
  })
})
