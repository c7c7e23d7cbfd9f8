// What the receipts of the channel's transactions said (sender, fee), read once: kept in memory, and those in
// settled blocks also in the channel's data directory, so a public RPC is not asked for old receipts again after a
// restart. Receipts in recent blocks are not written down: a reorg may still move them.
import { existsSync, readFileSync } from 'node:fs'
import { z } from 'zod'
import type { Hex } from '../protocol/types.js'
import { writeFileAtomic } from '../vault/index.js'

export interface TxFee {
  block: number
  /** The sending account, checksummed as the receipt gives it. */
  from: string
  /** Gas used times the effective gas price. */
  feeWei: bigint
}

const FILE = z.object({
  version: z.literal(1),
  txs: z.record(z.string().regex(/^0x[0-9a-f]{64}$/), z.object({ block: z.number().int().nonnegative(), from: z.string(), fee: z.string().regex(/^\d+$/) })),
})

export class TxFeeCache {
  private readonly fees = new Map<Hex, TxFee>()
  /** Hashes whose receipts are in settled blocks (the ones written to the file). */
  private readonly settled = new Set<Hex>()
  private dirty = false

  /** Reads what an earlier run kept at `file`; a damaged or missing file is a fresh start (it is only a cache). */
  constructor(private readonly file: string | undefined) {
    if (!file || !existsSync(file)) return
    try {
      for (const [hash, t] of Object.entries(FILE.parse(JSON.parse(readFileSync(file, 'utf8'))).txs)) {
        this.fees.set(hash as Hex, { block: t.block, from: t.from, feeWei: BigInt(t.fee) })
        this.settled.add(hash as Hex)
      }
    } catch {
      this.fees.clear()
      this.settled.clear()
    }
  }

  get(hash: Hex): TxFee | undefined {
    return this.fees.get(hash.toLowerCase() as Hex)
  }

  /** Whether `hash`'s receipt is in a settled block: kept for good, never read again. */
  isSettled(hash: Hex): boolean {
    return this.settled.has(hash.toLowerCase() as Hex)
  }

  /** Hashes kept for good. */
  settledHashes(): Hex[] {
    return [...this.settled]
  }

  put(hash: Hex, fee: TxFee, settled: boolean): void {
    const key = hash.toLowerCase() as Hex
    this.fees.set(key, fee)
    if (settled && !this.settled.has(key)) {
      this.settled.add(key)
      this.dirty = true
    }
  }

  /** Writes the settled receipts if any were added since the last write. */
  save(): void {
    if (!this.dirty || !this.file) return
    const txs = Object.fromEntries(
      [...this.settled].map((h) => {
        const t = this.fees.get(h)!
        return [h, { block: t.block, from: t.from, fee: t.feeWei.toString() }]
      }),
    )
    writeFileAtomic(this.file, `${JSON.stringify({ version: 1, txs })}\n`)
    this.dirty = false
  }
}
