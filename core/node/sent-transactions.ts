// The transactions this node's account sent to the channel, recorded as they are sent. A transaction that
// reverted emits no event, so the channel's events alone would not show that it cost gas. A hash stays here (in the
// channel's data directory, so a crash loses none) until its receipt is read and kept for good by the fee cache.
import { existsSync, readFileSync } from 'node:fs'
import { Wallet, type Provider, type TransactionRequest, type TransactionResponse } from 'ethers'
import { z } from 'zod'
import type { Hex } from '../protocol/types.js'
import { writeFileAtomic } from '../vault/index.js'

export interface SentTransaction {
  hash: Hex
  /** When it was sent (ms since the epoch): one the chain never heard of is given up after a while. */
  at: number
}

const FILE = z.object({
  version: z.literal(1),
  sent: z.array(z.object({ hash: z.string().regex(/^0x[0-9a-f]{64}$/), at: z.number() })),
})

export class SentTransactions {
  private readonly sent = new Map<Hex, SentTransaction>()

  /** Reads what an earlier run recorded at `file`; a damaged or missing file is a fresh start (written anew). */
  constructor(private readonly file: string | undefined) {
    if (!file || !existsSync(file)) return
    try {
      for (const s of FILE.parse(JSON.parse(readFileSync(file, 'utf8'))).sent) this.sent.set(s.hash as Hex, s as SentTransaction)
    } catch {
      // Only a hint for reverted transactions: those that emitted events are found from the chain again.
    }
  }

  record(hash: Hex, at = Date.now()): void {
    const key = hash.toLowerCase() as Hex
    if (this.sent.has(key)) return
    this.sent.set(key, { hash: key, at })
    this.save()
  }

  /** Sent and not yet forgotten, oldest first. */
  all(): SentTransaction[] {
    return [...this.sent.values()]
  }

  forget(hashes: Iterable<Hex>): void {
    let changed = false
    for (const h of hashes) changed = this.sent.delete(h.toLowerCase() as Hex) || changed
    if (changed) this.save()
  }

  private save(): void {
    if (this.file) writeFileAtomic(this.file, `${JSON.stringify({ version: 1, sent: this.all() })}\n`)
  }
}

/**
 * A wallet that reports the hash of every transaction it sends, once the node took it and before its receipt: the
 * transaction may still revert, and it costs gas all the same.
 */
export class RecordingWallet extends Wallet {
  constructor(
    privateKey: string,
    provider: Provider,
    private readonly sent: (hash: Hex) => void,
  ) {
    super(privateKey, provider)
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const response = await super.sendTransaction(tx)
    this.sent(response.hash as Hex)
    return response
  }
}
