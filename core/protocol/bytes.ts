// Hot-path byte helpers: keccak-256 through the `keccak` package's native binding (prebuilt inside the package for
// Linux, Windows and Intel macOS; ethers' JavaScript keccak elsewhere), hex <-> bytes without ethers' generic parsing, and memoized checksummed
// addresses (a channel has at most 64 members, so the cache stays tiny).
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { getAddress, keccak256 as ethersKeccak } from 'ethers'
import type { Hex } from './types.js'

interface KeccakState {
  initialize(rate: number, capacity: number): void
  absorb(data: Buffer): void
  absorbLastFewBits(bits: number): void
  squeeze(length: number): Buffer
}

/**
 * The `keccak` package's native sponge, used directly: its public API wraps every hash in a stream object, which
 * costs more than the hash. One state is reused; hashing is synchronous, so calls never interleave.
 */
function loadNative(): KeccakState | null {
  try {
    const require = createRequire(import.meta.url)
    const pkg = require.resolve('keccak/package.json')
    const State = createRequire(pkg)('node-gyp-build')(dirname(pkg)) as new () => KeccakState
    return new State()
  } catch {
    return null
  }
}

const native = loadNative()
export const keccakBackend: 'native' | 'javascript' = native ? 'native' : 'javascript'

export function keccak(data: Uint8Array): Buffer {
  if (!native) return Buffer.from(ethersKeccak(data).slice(2), 'hex')
  native.initialize(1088, 512) // keccak-256: rate 1088, capacity 512, suffix 0x01
  native.absorb(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  native.absorbLastFewBits(0x01)
  return native.squeeze(32)
}

export function keccakHex(data: Uint8Array): Hex {
  return `0x${keccak(data).toString('hex')}`
}

/** Bytes of a 0x-prefixed hex string of exactly `length` bytes (when given); throws on anything else. */
export function fromHex(hex: string, length?: number): Buffer {
  if (typeof hex !== 'string' || hex[0] !== '0' || hex[1] !== 'x' || hex.length % 2 !== 0) {
    throw new TypeError('not a 0x hex string')
  }
  // Buffer.from stops at the first non-hex character, so a short result means a bad string.
  const b = Buffer.from(hex.slice(2), 'hex')
  if (b.length * 2 !== hex.length - 2) throw new TypeError('not a 0x hex string')
  if (length !== undefined && b.length !== length) throw new RangeError(`expected ${length} bytes, got ${b.length}`)
  return b
}

export function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

const checksums = new Map<string, string>()

/** The checksummed form of an address, memoized; throws on a malformed one. */
export function checksum(address: string): string {
  const key = address.toLowerCase()
  let cached = checksums.get(key)
  if (cached === undefined) {
    cached = getAddress(address)
    if (checksums.size > 10_000) checksums.clear()
    checksums.set(key, cached)
  } else if (address !== key && address !== cached) {
    getAddress(address) // mixed case that is not the checksum: let ethers refuse it
  }
  return cached
}
