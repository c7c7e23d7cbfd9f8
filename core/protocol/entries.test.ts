import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Wallet, hexlify, randomBytes } from 'ethers'
import { EntryDecodeError, MAX_ENTRY_BYTES, decodeEntry, encodeEntry, type Entry } from './entries.js'
import type { Hex, Transfer } from './types.js'

const rand = (n: number): Hex => hexlify(randomBytes(n)) as Hex
const transfer = (): Transfer => ({
  id: rand(16),
  epoch: 7n,
  from: Wallet.createRandom().address,
  to: Wallet.createRandom().address,
  amount: 10n ** 18n + 1n,
})

function samples(): Entry[] {
  const t = transfer()
  return [
    { type: 'request', transfer: t, senderSig: rand(65) },
    { type: 'countersign', transfer: t, senderSig: rand(65), receiverSig: rand(65) },
    { type: 'receipt', tx: { transfer: t, seq: 41, senderSig: rand(65), receiverSig: rand(65), leaderSig: rand(65) } },
    { type: 'reject', epoch: 7n, id: t.id, transfer: `0x${'cd'.repeat(32)}`, reason: 'OVERDRAFT' },
    {
      type: 'proposal',
      checkpoint: {
        epoch: 7n,
        leader: 2,
        nextLeader: 3,
        balances: [1n, (1n << 256n) - 1n, 0n],
        deposited: [5n, 6n, 7n],
        exitMask: 4n,
        txRoot: rand(32),
        txCount: 12,
      },
      sig: rand(65),
    },
    { type: 'vote', epoch: 7n, leader: 2, sig: rand(65) },
    { type: 'confirm', epoch: 7n, leader: 2, txHash: rand(32) },
    { type: 'view-change', epoch: 7n, leader: 2 },
    { type: 'exit', epoch: 9n },
  ]
}

function onlyDecodeErrors(bytes: Uint8Array): void {
  try {
    decodeEntry(bytes)
  } catch (err) {
    assert.ok(err instanceof EntryDecodeError, `unexpected ${String(err)}`)
  }
}

describe('trade-log entries', () => {
  it('round-trip every entry type', () => {
    for (const e of samples()) assert.deepEqual(decodeEntry(encodeEntry(e)), e)
  })

  it('refuse another version, an unknown type, trailing bytes and oversize records', () => {
    const bytes = encodeEntry(samples()[7] as Entry)
    assert.throws(() => decodeEntry(Uint8Array.from([2, ...bytes.subarray(1)])), EntryDecodeError)
    assert.throws(() => decodeEntry(Uint8Array.from([1, 200, ...bytes.subarray(2)])), EntryDecodeError)
    assert.throws(() => decodeEntry(Uint8Array.from([...bytes, 0])), EntryDecodeError)
    assert.throws(() => decodeEntry(new Uint8Array(MAX_ENTRY_BYTES + 1)), EntryDecodeError)
    assert.throws(() => decodeEntry(new Uint8Array(0)), EntryDecodeError)
  })

  it('a proposal claiming more than 64 members is refused before it is read', () => {
    const bytes = Uint8Array.from([1, 4, ...new Uint8Array(8 + 4 + 4), 0xfe, 0xff, 0xff, 0xff, 0x00])
    assert.throws(() => decodeEntry(bytes), /exceeds 64/)
  })

  it('garbage, truncations and bit flips never throw anything but EntryDecodeError', () => {
    for (let i = 0; i < 2000; i++) onlyDecodeErrors(randomBytes(1 + (i % 300)))
    for (const e of samples()) {
      const bytes = encodeEntry(e)
      for (let n = 0; n < bytes.length; n++) onlyDecodeErrors(bytes.subarray(0, n))
      for (let i = 0; i < 200; i++) {
        const flipped = Uint8Array.from(bytes)
        const at = i % flipped.length
        flipped[at] = (flipped[at] as number) ^ (1 << i % 8)
        onlyDecodeErrors(flipped)
      }
    }
  })
})
