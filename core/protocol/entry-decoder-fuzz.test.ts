// Property tests of the trade-log entry codec (fast-check, seeded; FUZZ_SCALE times more in `npm run fuzz`): every
// valid entry survives a round trip, and no byte string (random, or a valid entry truncated, extended or with bytes
// changed) makes the decoder throw anything but EntryDecodeError. What it does accept decodes to an entry that
// encodes and decodes to itself again. Peeking at a request or countersign agrees with decoding it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { FUZZ_SEED, fuzzRuns } from '../../build/fuzz-settings.js'
import { checksum, toHex } from './bytes.js'
import { EntryDecodeError, MAX_ENTRY_BYTES, decodeEntry, encodeEntry, peekTransferEntry, type Entry } from './entries.js'
import type { Checkpoint, Hex, ReceiptedTransfer, Transfer } from './types.js'

/** Plain objects, as the decoder makes (fast-check's records have no prototype by default). */
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>
const hex = (n: number): fc.Arbitrary<Hex> => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => toHex(b))
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => checksum(toHex(b)))
const epoch = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 })
const uint256 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.constantFrom(0n, 1n, 2n ** 88n - 1n, 2n ** 256n - 1n))
const sig = hex(65)

const transfer: fc.Arbitrary<Transfer> = record({ id: hex(16), epoch, from: address, to: address, amount: uint256 })
const receipted: fc.Arbitrary<ReceiptedTransfer> = record({ transfer, seq: u32, senderSig: sig, receiverSig: sig, leaderSig: sig })
const members = (max: number): fc.Arbitrary<bigint[]> => fc.array(uint256, { maxLength: max })
const checkpoint: fc.Arbitrary<Checkpoint> = record({
  epoch,
  leader: u32,
  nextLeader: u32,
  balances: fc.oneof({ weight: 9, arbitrary: members(8) }, { weight: 1, arbitrary: members(64) }),
  deposited: members(8),
  exitMask: uint256,
  txRoot: hex(32),
  txCount: u32,
})

const entry: fc.Arbitrary<Entry> = fc.oneof(
  record({ type: fc.constant('request' as const), transfer, senderSig: sig }),
  record({ type: fc.constant('countersign' as const), transfer, senderSig: sig, receiverSig: sig }),
  record({ type: fc.constant('receipt' as const), tx: receipted }),
  record({ type: fc.constant('reject' as const), epoch, id: hex(16), transfer: hex(32), reason: fc.stringMatching(/^[A-Z_]{0,64}$/) }),
  record({ type: fc.constant('proposal' as const), checkpoint, sig }),
  record({ type: fc.constant('vote' as const), epoch, leader: u32, sig }),
  record({ type: fc.constant('confirm' as const), epoch, leader: u32, txHash: hex(32) }),
  record({ type: fc.constant('view-change' as const), epoch, leader: u32 }),
  record({ type: fc.constant('exit' as const), epoch }),
)

/** Decodes `bytes`: only EntryDecodeError may be thrown, and an accepted entry must be stable. */
function decodesSafely(bytes: Uint8Array): void {
  let decoded: Entry
  try {
    decoded = decodeEntry(bytes)
  } catch (err) {
    assert.ok(err instanceof EntryDecodeError, `a ${err instanceof Error ? err.name : typeof err} escaped: ${String(err)}`)
    return
  }
  assert.deepEqual(decodeEntry(encodeEntry(decoded)), decoded)
}

/** A valid entry's bytes, damaged: cut short, extended, bytes overwritten or inserted. */
const damaged: fc.Arbitrary<Uint8Array> = fc
  .tuple(entry.map(encodeEntry), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'cut', 'extend')), { minLength: 1, maxLength: 4 }))
  .map(([bytes, edits]) => {
    let b = Array.from(bytes)
    for (const [at, value, how] of edits) {
      const i = b.length === 0 ? 0 : at % b.length
      if (how === 'set') b[i] = value
      else if (how === 'insert') b.splice(i, 0, value)
      else if (how === 'cut') b = b.slice(0, i)
      else b.push(value)
    }
    return Uint8Array.from(b)
  })

const options = (runs: number): fc.Parameters<unknown> => ({ seed: FUZZ_SEED, numRuns: fuzzRuns(runs) })

describe('entry decoder (property tests)', () => {
  it('every valid entry round-trips', () => {
    fc.assert(fc.property(entry, (e) => assert.deepEqual(decodeEntry(encodeEntry(e)), e)), options(1000))
  })

  it('arbitrary bytes give an EntryDecodeError, never another kind of throw', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 700 }),
      // A valid version and tag in front of noise reaches every body's decoder.
      fc.tuple(fc.integer({ min: 0, max: 10 }), fc.uint8Array({ maxLength: 400 })).map(([tag, rest]) => Uint8Array.from([1, tag, ...rest])),
    )
    fc.assert(fc.property(bytes, decodesSafely), options(5000))
  })

  it('damaged valid entries give an EntryDecodeError or a stable entry', () => {
    fc.assert(fc.property(damaged, decodesSafely), options(3000))
  })

  it('peeking at a request or countersign reads the epoch and parties decoding does, and nothing else', () => {
    fc.assert(
      fc.property(entry, (e) => {
        const head = peekTransferEntry(encodeEntry(e))
        if (e.type !== 'request' && e.type !== 'countersign') return assert.equal(head, undefined)
        assert.ok(head)
        assert.deepEqual([head.type, head.epoch, checksum(toHex(head.from)), checksum(toHex(head.to))], [e.type, e.transfer.epoch, e.transfer.from, e.transfer.to])
      }),
      options(1000),
    )
    // Noise and damaged entries: never a throw; a head only for bytes of a request's or countersign's exact length.
    fc.assert(
      fc.property(fc.oneof(damaged, fc.uint8Array({ maxLength: 300 })), (bytes) => {
        const head = peekTransferEntry(bytes)
        if (head) assert.equal(bytes.length, head.type === 'request' ? 163 : 228)
      }),
      options(3000),
    )
  })

  it('oversized input is refused before it is read', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_ENTRY_BYTES + 1, max: 4 * MAX_ENTRY_BYTES }), (n) => {
        assert.throws(() => decodeEntry(new Uint8Array(n).fill(1)), EntryDecodeError)
      }),
      options(20),
    )
  })
})
