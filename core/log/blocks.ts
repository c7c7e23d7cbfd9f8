// One Hypercore block carries the entries a member journaled since its last store (trade-logs.ts). Each block
// costs a signature, a Merkle proof, a storage write and a read on every peer, so packing entries is what keeps
// the log off the critical path under load. Layout: a magic byte (so a block is never mistaken for a bare entry),
// then compact-encoding's array of buffers. Decoding is strict and never throws past `decodeBlock`.
import c from 'compact-encoding'
import { MAX_ENTRY_BYTES } from '../protocol/entries.js'
import { errorMessage } from '../util/error-message.js'

const BLOCK_MAGIC = 0xb1
/**
 * What one block holds at most: entries and their bytes. Every block costs each reader about the same (a request, a
 * proof, storage batches, a read), whatever it holds, so blocks are filled up to these bounds: a receipt is about
 * 300 bytes, so an epoch of the most transfers (1,024) is two blocks. A block stays under a few hundred kilobytes,
 * small for one replication message.
 */
export const MAX_BLOCK_ENTRIES = 4096
export const MAX_BLOCK_BYTES = 256 * 1024

export class BlockDecodeError extends Error {
  override readonly name = 'BlockDecodeError'
}

const entries = c.array(c.buffer)

/** Packs entries into blocks within MAX_BLOCK_ENTRIES and MAX_BLOCK_BYTES (of entry bytes), in order. */
export function encodeBlocks(list: readonly Uint8Array[]): Buffer[] {
  const blocks: Buffer[] = []
  let part: Buffer[] = []
  let bytes = 0
  const close = (): void => {
    const state = c.state()
    c.uint8.preencode(state, BLOCK_MAGIC)
    entries.preencode(state, part)
    const out = Buffer.allocUnsafe(state.end)
    state.buffer = out
    c.uint8.encode(state, BLOCK_MAGIC)
    entries.encode(state, part)
    blocks.push(out)
    part = []
    bytes = 0
  }
  for (const e of list) {
    if (part.length === MAX_BLOCK_ENTRIES || (part.length > 0 && bytes + e.byteLength > MAX_BLOCK_BYTES)) close()
    part.push(Buffer.from(e.buffer, e.byteOffset, e.byteLength))
    bytes += e.byteLength
  }
  if (part.length > 0) close()
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
  // No byte bound here: the block is in memory already, and blocks written before the bound (256 entries of any
  // size) stay readable.
  if (list.some((e) => e.byteLength > MAX_ENTRY_BYTES)) throw new BlockDecodeError('an entry exceeds the size limit')
  return list
}
