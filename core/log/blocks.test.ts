import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { MAX_ENTRY_BYTES } from '../protocol/entries.js'
import { BlockDecodeError, MAX_BLOCK_BYTES, MAX_BLOCK_ENTRIES, decodeBlock, encodeBlocks } from './blocks.js'

describe('trade-log blocks', () => {
  it('packs a tick of entries into one block and back, in order', () => {
    const entries = Array.from({ length: 10 }, (_, i) => randomBytes(1 + i * 50))
    const blocks = encodeBlocks(entries)
    assert.equal(blocks.length, 1)
    assert.deepEqual(decodeBlock(blocks[0]!).map((e) => Buffer.from(e)), entries)
  })

  it('splits a long batch into blocks of at most MAX_BLOCK_ENTRIES', () => {
    const entries = Array.from({ length: MAX_BLOCK_ENTRIES * 2 + 1 }, (_, i) => Buffer.from([i & 0xff, i >> 8]))
    const blocks = encodeBlocks(entries)
    assert.deepEqual(blocks.map((b) => decodeBlock(b).length), [MAX_BLOCK_ENTRIES, MAX_BLOCK_ENTRIES, 1])
    assert.deepEqual(blocks.flatMap((b) => decodeBlock(b)).map((e) => Buffer.from(e)), entries)
  })

  it('closes a block before its entries pass MAX_BLOCK_BYTES', () => {
    const size = 1000
    const perBlock = Math.floor(MAX_BLOCK_BYTES / size)
    const entries = Array.from({ length: perBlock * 2 + 1 }, () => randomBytes(size))
    const blocks = encodeBlocks(entries)
    assert.deepEqual(blocks.map((b) => decodeBlock(b).length), [perBlock, perBlock, 1])
    assert.deepEqual(blocks.flatMap((b) => decodeBlock(b)).map((e) => Buffer.from(e)), entries)
    assert.equal(encodeBlocks([randomBytes(MAX_ENTRY_BYTES)]).length, 1)
  })

  it('refuses garbage, truncation, trailing bytes, empty and oversized blocks with a BlockDecodeError', () => {
    const good = encodeBlocks([randomBytes(40), randomBytes(40)])[0]!
    const bad: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array()],
      ['wrong magic', Buffer.concat([Buffer.from([0x01]), good.subarray(1)])],
      ['truncated', good.subarray(0, good.length - 3)],
      ['trailing', Buffer.concat([good, Buffer.from([0])])],
      ['no entries', Buffer.from([0xb1, 0])],
      ['oversized entry', encodeBlocks([new Uint8Array(MAX_ENTRY_BYTES + 1)])[0]!],
    ]
    for (let i = 0; i < 200; i++) bad.push([`random ${i}`, randomBytes(1 + (i % 64))])
    for (const [what, bytes] of bad) {
      try {
        decodeBlock(bytes)
        if (!what.startsWith('random')) assert.fail(`${what} decoded`)
      } catch (err) {
        assert.ok(err instanceof BlockDecodeError, `${what}: ${String(err)}`)
      }
    }
  })
})
