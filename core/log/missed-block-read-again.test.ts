// A follower whose Hypercore hands a block over as null (its bitfield counted the block before its storage held it)
// reads that block again later instead of passing it over. Passed over, every later entry of that log was numbered
// wrongly: in the soak (issue 12) a member's copy of a leader's log lacked one block of two requests, the leader's
// next pushes no longer matched their log copies ("pushed an entry its log does not hold") and were dropped with
// them, and the member challenged an honest leader over a proposal it could not recount.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Hypercore from 'hypercore'
import { createPeerKey } from './peer-key.js'
import type { TradeLogs } from './trade-logs.js'
import { followingPair } from '../testing/trade-log-pair.js'

describe('a block its follower misses once', () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'missed-block-')), mkdtempSync(join(tmpdir(), 'missed-block-'))]
  const keys = [createPeerKey(), createPeerKey()]
  const realGet = Hypercore.prototype.get
  const opened: TradeLogs[] = []

  after(async () => {
    Hypercore.prototype.get = realGet
    for (const l of opened) await l.close().catch(() => {})
    for (const d of dirs) for (const p of [d, `${d}.journal`]) rmSync(p, { recursive: true, force: true }) // TradeLogs journals beside its store
  })

  it('is read again: every entry arrives once, at the position its author gave it', async () => {
    const { writer, reader } = await followingPair(dirs, keys)
    opened.push(writer, reader)

    // The follower's session of the writer's log answers null once for block 1, as Hypercore did in the soak.
    let missed = 0
    Hypercore.prototype.get = function (this: Hypercore, index, opts) {
      if (!this.writable && this.key.equals(writerKey()) && index === 1 && missed === 0) {
        missed++
        return Promise.resolve(null)
      }
      return realGet.call(this, index, opts)
    }
    const writerKey = (): Buffer => writerCoreKey
    const writerCoreKey = writer.store.get({ keyPair: keys[0]! }).key

    const got: Array<{ position: number; text: string }> = []
    writer.subscribe(() => {})
    reader.subscribe((author, position, bytes) => {
      if (author === 0) got.push({ position, text: Buffer.from(bytes).toString() })
    })
    // Three blocks: [a0 a1] [b0 b1] [c0], each stored at once and before the next is journaled.
    const own = writer.store.get({ keyPair: keys[0]! })
    await own.ready()
    for (const [i, tick] of [['a0', 'a1'], ['b0', 'b1'], ['c0']].entries()) {
      await writer.append(tick.map((t) => Buffer.from(t)), undefined, true)
      while (own.length < i + 1) await new Promise((r) => setTimeout(r, 5))
    }
    await own.close()

    const deadline = Date.now() + 15_000
    while (got.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    assert.equal(missed, 1, 'the follower was handed null once')
    assert.deepEqual(got, ['a0', 'a1', 'b0', 'b1', 'c0'].map((text, position) => ({ position, text })))
  })
})
