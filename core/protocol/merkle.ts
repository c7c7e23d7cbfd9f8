import { fromHex, keccak, toHex } from './bytes.js'
import type { Hex } from './types.js'

const ZERO: Hex = `0x${'00'.repeat(32)}`

/**
 * Positional keccak Merkle root, byte-compatible with contracts/PositionalMerkle.sol: parent = keccak256(left ++ right)
 * in list order, an odd last node is carried up unchanged, no leaves give zero.
 */
export function merkleRoot(leaves: readonly Hex[]): Hex {
  if (leaves.length === 0) return ZERO
  let level: Buffer[] = leaves.map((l) => fromHex(l, 32))
  const pair = Buffer.allocUnsafe(64) // reused: keccak copies what it absorbs
  while (level.length > 1) {
    const next: Buffer[] = []
    for (let i = 0; i + 1 < level.length; i += 2) {
      ;(level[i] as Buffer).copy(pair, 0)
      ;(level[i + 1] as Buffer).copy(pair, 32)
      next.push(keccak(pair))
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Buffer)
    level = next
  }
  return toHex(level[0] as Buffer)
}
