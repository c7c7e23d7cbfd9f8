// One Hypercore block carries every entry a member appended in one tick. Each block costs a signature, a Merkle
// proof, a storage write and a read on every peer, so packing entries is what keeps the log off the critical path
// under load. Layout: a magic byte (so a block is never mistaken for a bare entry), then compact-encoding's
// array of buffers. Decoding is strict and never throws past `decodeBlock`.
import c from 'compact-encoding'
import { MAX_ENTRY_BYTES } from '../protocol/entries.js'
import { errorMessage } from '../util/error-message.js'

const BLOCK_MAGIC = 0xb1
/** Entries per block; a longer batch is split. At MAX_ENTRY_BYTES each, a block stays under 2.1 MB. */
export const MAX_BLOCK_ENTRIES = 256

export class BlockDecodeError extends Error {
  override readonly name = 'BlockDecodeError'
}

const entries = c.array(c.buffer)

/** Packs entries into blocks of at most MAX_BLOCK_ENTRIES, in order. */
export function encodeBlocks(list: readonly Uint8Array[]): Buffer[] {
  const blocks: Buffer[] = []
  for (let i = 0; i < list.length; i += MAX_BLOCK_ENTRIES) {
    const part = list.slice(i, i + MAX_BLOCK_ENTRIES).map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength))
    const state = c.state()
    c.uint8.preencode(state, BLOCK_MAGIC)
    entries.preencode(state, part)
    const out = Buffer.allocUnsafe(state.end)
    state.buffer = out
    c.uint8.encode(state, BLOCK_MAGIC)
    entries.encode(state, part)
    blocks.push(out)
  }
  return blocks
}

/** The entries of one block, or a BlockDecodeError saying what is wrong with it. */
export function decodeBlock(block: Uint8Array): Uint8Array[] {
  const state = { start: 0, end: block.byteLength, buffer: Buffer.from(block.buffer, block.byteOffset, block.byteLength) }
  let list: Uint8Array[]
  try {
    if (c.uint8.decode(state) !== BLOCK_MAGIC) throw new BlockDecodeError('not a trade-log block')
    list = entries.decode(state)
  } catch (err) {
    if (err instanceof BlockDecodeError) throw err
    throw new BlockDecodeError(`malformed block: ${errorMessage(err)}`)
  }
  if (state.start !== state.end) throw new BlockDecodeError(`${state.end - state.start} trailing bytes`)
  if (list.length === 0 || list.length > MAX_BLOCK_ENTRIES) throw new BlockDecodeError(`${list.length} entries in a block`)
  if (list.some((e) => e.byteLength > MAX_ENTRY_BYTES)) throw new BlockDecodeError('an entry exceeds the size limit')
  return list
}
