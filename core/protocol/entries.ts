// Trade-log entries: every message a member originates, as a versioned binary record (compact-encoding).
// Decoding is strict: a wrong version or tag, a short or over-long record, a bad field: an EntryDecodeError, never
// a throw of anything else, never a partly decoded value.
import c from 'compact-encoding'
import { checksum, fromHex, toHex } from './bytes.js'
import { makeReceipted, makeTransfer, type Checkpoint, type Hex, type ReceiptedTransfer, type Transfer } from './types.js'
import { errorMessage } from '../util/error-message.js'

export const ENTRY_VERSION = 1
/** Larger entries are refused before decoding; the largest real one (a 64-member proposal) is about 4.3 KiB. */
export const MAX_ENTRY_BYTES = 8192
const MAX_MEMBERS = 64

export type Entry =
  /** A sender asks the receiver to countersign. */
  | { type: 'request'; transfer: Transfer; senderSig: Hex }
  /** The receiver countersigns and hands the transfer to the leader. */
  | { type: 'countersign'; transfer: Transfer; senderSig: Hex; receiverSig: Hex }
  /** The leader receipts a doubly signed transfer with its seq; the leader's log fixes the order. */
  | { type: 'receipt'; tx: ReceiptedTransfer }
  /**
   * The leader (or a receiver) refuses a transfer, with the ledger's rejection code. `transfer` is the refused
   * transfer's hash: an id alone could be copied into someone else's transfer to fake a refusal of the original.
   */
  | { type: 'reject'; epoch: bigint; id: Hex; transfer: Hex; reason: string }
  /** The leader proposes the epoch's checkpoint, signed like a vote. */
  | { type: 'proposal'; checkpoint: Checkpoint; sig: Hex }
  /** A member's signature on the proposal of `leader` for `epoch`. */
  | { type: 'vote'; epoch: bigint; leader: number; sig: Hex }
  /** The leader reports the checkpoint's chain transaction. */
  | { type: 'confirm'; epoch: bigint; leader: number; txHash: Hex }
  /** A member gives up on `leader` for `epoch` (leader timeout). */
  | { type: 'view-change'; epoch: bigint; leader: number }
  /** A member asks to leave with the checkpoint of `epoch`. */
  | { type: 'exit'; epoch: bigint }

export type EntryType = Entry['type']

export class EntryDecodeError extends Error {
  override readonly name = 'EntryDecodeError'
}

type Enc<T> = c.Encoder<T>

/** Wraps a raw codec with a conversion; `decode` may throw to reject a value. */
function mapped<Raw, T>(raw: Enc<Raw>, to: (v: T) => Raw, from: (r: Raw) => T): Enc<T> {
  return {
    preencode: (s, v) => raw.preencode(s, to(v)),
    encode: (s, v) => raw.encode(s, to(v)),
    decode: (s) => from(raw.decode(s)),
  }
}


const fixedHex = (n: number): Enc<Hex> =>
  mapped<Uint8Array, Hex>(c.fixed(n), (v) => fromHex(v, n), (b) => toHex(b))
const address = mapped<Uint8Array, string>(c.fixed(20), (v) => fromHex(checksum(v), 20), (b) => checksum(toHex(b)))
const uint256 = mapped<Uint8Array, bigint>(
  c.fixed32,
  (v) => {
    if (v < 0n || v >= 1n << 256n) throw new RangeError('uint256 out of range')
    return fromHex(`0x${v.toString(16).padStart(64, '0')}`, 32)
  },
  (b) => BigInt(toHex(b)),
)
const sig = fixedHex(65)
const bytes16 = fixedHex(16)
const bytes32 = fixedHex(32)
const epoch = c.biguint64
const u32 = c.uint32

function boundedArray<T>(item: Enc<T>, max: number): Enc<T[]> {
  const inner = c.array(item)
  return {
    preencode: inner.preencode,
    encode: inner.encode,
    decode(s) {
      // Peek at the length so garbage cannot make us loop over a huge count.
      const start = s.start
      const n = c.uint.decode(s)
      if (n > max) throw new EntryDecodeError(`list of ${n} exceeds ${max}`)
      s.start = start
      return inner.decode(s)
    },
  }
}

/**
 * A record's codec: encoded field by field in `fields`' order, decoded by `make`, which reads the same fields in the
 * same order into one object (makeTransfer, makeReceipted, a literal per entry type). Built so, a decoded record
 * shares its hidden class with the same record made elsewhere (a payment we send, a receipt we make); built key by
 * key or spread, it did not, and V8 dropped the optimized receipt path when both kinds met (--trace-deopt, 16 peers).
 */
function struct<B extends object, T extends B = B>(fields: { [K in keyof B]-?: Enc<B[K]> }, make: (s: c.State) => T): Enc<T> {
  const keys = Object.keys(fields) as Array<keyof B>
  return {
    preencode(s, v) {
      for (const k of keys) fields[k].preencode(s, v[k])
    },
    encode(s, v) {
      for (const k of keys) fields[k].encode(s, v[k])
    },
    decode: make,
  }
}

// Arguments are evaluated in order: each field is read where the encoding put it.
const transfer = struct<Transfer>({ id: bytes16, epoch, from: address, to: address, amount: uint256 }, (s) =>
  makeTransfer(bytes16.decode(s), epoch.decode(s), address.decode(s), address.decode(s), uint256.decode(s)),
)
const receipted = struct<ReceiptedTransfer>({ transfer, seq: u32, senderSig: sig, receiverSig: sig, leaderSig: sig }, (s) =>
  makeReceipted(transfer.decode(s), u32.decode(s), sig.decode(s), sig.decode(s), sig.decode(s)),
)
const uint256s = boundedArray(uint256, MAX_MEMBERS)
const checkpoint = struct<Checkpoint>(
  { epoch, leader: u32, nextLeader: u32, balances: uint256s, deposited: uint256s, exitMask: uint256, txRoot: bytes32, txCount: u32 },
  (s) => ({
    epoch: epoch.decode(s),
    leader: u32.decode(s),
    nextLeader: u32.decode(s),
    balances: uint256s.decode(s),
    deposited: uint256s.decode(s),
    exitMask: uint256.decode(s),
    txRoot: bytes32.decode(s),
    txCount: u32.decode(s),
  }),
)
const reason: Enc<string> = {
  preencode: c.string.preencode,
  encode: c.string.encode,
  decode(s) {
    const v = c.string.decode(s)
    if (v.length > 64 || !/^[A-Z_]*$/.test(v)) throw new EntryDecodeError('bad rejection code')
    return v
  },
}

type Body<T extends EntryType> = Omit<Extract<Entry, { type: T }>, 'type'>
type Codecs<T extends EntryType> = { [K in keyof Body<T>]-?: Enc<Body<T>[K]> }

/** An entry type's codec: its body's fields (the tag says the type), decoded into the entry with its type first. */
function entryCodec<T extends EntryType>(fields: Codecs<T>, make: (s: c.State) => Extract<Entry, { type: T }>): Enc<Extract<Entry, { type: T }>> {
  return struct<Body<T>, Extract<Entry, { type: T }>>(fields, make)
}

const ENTRIES: { [T in EntryType]: Enc<Extract<Entry, { type: T }>> } = {
  request: entryCodec<'request'>({ transfer, senderSig: sig }, (s) => ({ type: 'request', transfer: transfer.decode(s), senderSig: sig.decode(s) })),
  countersign: entryCodec<'countersign'>({ transfer, senderSig: sig, receiverSig: sig }, (s) => ({
    type: 'countersign',
    transfer: transfer.decode(s),
    senderSig: sig.decode(s),
    receiverSig: sig.decode(s),
  })),
  receipt: entryCodec<'receipt'>({ tx: receipted }, (s) => ({ type: 'receipt', tx: receipted.decode(s) })),
  reject: entryCodec<'reject'>({ epoch, id: bytes16, transfer: bytes32, reason }, (s) => ({
    type: 'reject',
    epoch: epoch.decode(s),
    id: bytes16.decode(s),
    transfer: bytes32.decode(s),
    reason: reason.decode(s),
  })),
  proposal: entryCodec<'proposal'>({ checkpoint, sig }, (s) => ({ type: 'proposal', checkpoint: checkpoint.decode(s), sig: sig.decode(s) })),
  vote: entryCodec<'vote'>({ epoch, leader: u32, sig }, (s) => ({ type: 'vote', epoch: epoch.decode(s), leader: u32.decode(s), sig: sig.decode(s) })),
  confirm: entryCodec<'confirm'>({ epoch, leader: u32, txHash: bytes32 }, (s) => ({
    type: 'confirm',
    epoch: epoch.decode(s),
    leader: u32.decode(s),
    txHash: bytes32.decode(s),
  })),
  'view-change': entryCodec<'view-change'>({ epoch, leader: u32 }, (s) => ({ type: 'view-change', epoch: epoch.decode(s), leader: u32.decode(s) })),
  exit: entryCodec<'exit'>({ epoch }, (s) => ({ type: 'exit', epoch: epoch.decode(s) })),
}

/** Tags are part of the wire format: never renumber, only append. */
const TAGS: readonly EntryType[] = ['request', 'countersign', 'receipt', 'reject', 'proposal', 'vote', 'confirm', 'view-change', 'exit']

export function encodeEntry(entry: Entry): Uint8Array {
  const tag = TAGS.indexOf(entry.type)
  const codec = ENTRIES[entry.type] as Enc<Entry>
  const state = c.state()
  c.uint8.preencode(state, ENTRY_VERSION)
  c.uint8.preencode(state, tag)
  codec.preencode(state, entry)
  state.buffer = new Uint8Array(state.end)
  c.uint8.encode(state, ENTRY_VERSION)
  c.uint8.encode(state, tag)
  codec.encode(state, entry)
  return state.buffer
}

/** Decodes one entry or throws EntryDecodeError; nothing else escapes. */
export function decodeEntry(bytes: Uint8Array): Entry {
  if (!(bytes instanceof Uint8Array)) throw new EntryDecodeError('entry is not bytes')
  if (bytes.length > MAX_ENTRY_BYTES) throw new EntryDecodeError(`entry of ${bytes.length} bytes exceeds ${MAX_ENTRY_BYTES}`)
  const state = c.state(0, bytes.length, bytes)
  try {
    const version = c.uint8.decode(state)
    if (version !== ENTRY_VERSION) throw new EntryDecodeError(`unknown entry version ${version}`)
    const type = TAGS[c.uint8.decode(state)]
    if (!type) throw new EntryDecodeError('unknown entry type')
    const entry = (ENTRIES[type] as Enc<Entry>).decode(state)
    if (state.start !== state.end) throw new EntryDecodeError(`${state.end - state.start} trailing bytes`)
    return entry
  } catch (err) {
    if (err instanceof EntryDecodeError) throw err
    throw new EntryDecodeError(`malformed entry: ${errorMessage(err)}`)
  }
}

/** A request's or countersign's epoch and parties, as `peekTransferEntry` reads them. */
export interface TransferEntryHead {
  type: 'request' | 'countersign'
  epoch: bigint
  /** Views into the entry's bytes: 20-byte addresses. */
  from: Uint8Array
  to: Uint8Array
}

/** Where a request's or countersign's transfer epoch sits: after the version, the tag and the transfer's id. */
const EPOCH_AT = 2 + 16
const SIG_BYTES = 65
const TRANSFER_BYTES = 16 + 8 + 20 + 20 + 32
const PEEKABLE: ReadonlyMap<number, { type: TransferEntryHead['type']; bytes: number }> = new Map([
  [TAGS.indexOf('request'), { type: 'request', bytes: 2 + TRANSFER_BYTES + SIG_BYTES }],
  [TAGS.indexOf('countersign'), { type: 'countersign', bytes: 2 + TRANSFER_BYTES + 2 * SIG_BYTES }],
])

/**
 * The epoch and parties of a request or countersign, read at their fixed places without decoding the entry: a
 * member not party to a payment passes it over (DESIGN.md section 3). Undefined for any other entry, or one not of
 * its type's exact length; such an entry is decoded, and refused if malformed, as usual. Nothing here says the
 * entry is valid: whoever acts on it decodes it with `decodeEntry`.
 */
export function peekTransferEntry(bytes: Uint8Array): TransferEntryHead | undefined {
  const kind = bytes[0] === ENTRY_VERSION ? PEEKABLE.get(bytes[1] ?? -1) : undefined
  if (!kind || bytes.length !== kind.bytes) return undefined
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const from = EPOCH_AT + 8
  return { type: kind.type, epoch: view.readBigUInt64LE(EPOCH_AT), from: view.subarray(from, from + 20), to: view.subarray(from + 20, from + 40) }
}

/** The epoch an entry belongs to. */
export function entryEpoch(e: Entry): bigint {
  switch (e.type) {
    case 'request':
    case 'countersign':
      return e.transfer.epoch
    case 'receipt':
      return e.tx.transfer.epoch
    case 'proposal':
      return e.checkpoint.epoch
    default:
      return e.epoch
  }
}
