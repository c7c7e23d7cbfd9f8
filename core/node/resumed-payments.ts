// Payments of ours the app had not seen end when it stopped or crashed, followed to their end after the restart: a
// person who never saw the outcome is told it (until they dismiss it), and does not send the money a second time.
//
// What "not seen to end" means, kept in the channel's data directory: `finalThrough`, the last epoch before the one
// the node was running (every payment of ours up to it had ended: checkpointed, or refused, or re-issued into a later
// epoch), raised as each epoch begins. After a restart, an outgoing payment of a later epoch that this run did not
// send itself is resumed: requested, countersigned or receipted and not checkpointed when the app stopped, re-issued
// since, or checkpointed while the app was down. The resumed ones found are written down with the epoch they ended
// in, so a second crash before the person looked loses none, and a dismissed one never comes back.
import { existsSync, readFileSync } from 'node:fs'
import { z } from 'zod'
import type { TransferRecord } from '../consensus/participant.js'
import type { Hex } from '../protocol/types.js'
import { writeFileAtomic } from '../vault/index.js'

export interface ResumedPayment {
  /** The id it was first sent with: a re-issue keeps it. */
  id: Hex
  /** The receiving account. */
  to: string
  amount: bigint
  status: 'checkpointed' | 'rejected'
  reason?: string
}

const ID = z.string().regex(/^0x[0-9a-f]{32}$/)
const FILE = z.object({
  version: z.literal(1),
  finalThrough: z.string().regex(/^-?\d+$/),
  resumed: z.array(ID),
  /** Dismissed, with the epoch each ended in: forgotten once `finalThrough` reaches it (then never resumed again). */
  dismissed: z.array(z.tuple([ID, z.string().regex(/^\d+$/)])),
})

/** Resumed payments remembered at most (a crash leaves at most what was in flight; this bounds a damaged history). */
const MAX_REMEMBERED = 1000

/** A payment's name across its re-issues. */
const keyOf = (r: TransferRecord): Hex => (r.firstId ?? r.transfer.id).toLowerCase() as Hex

export class ResumedPayments {
  /** Payments of epochs after this one, not sent by this run, are resumed: what the last run had not seen end. */
  private startFinalThrough: bigint | undefined
  private finalThrough: bigint | undefined
  private readonly resumed = new Set<Hex>()
  private readonly dismissed = new Map<Hex, bigint>()
  /** Records and transfers of payments sent through this run (a rejection hands back only the transfer). */
  private readonly sentHere = new WeakSet<object>()
  private readonly startedAt: number

  /**
   * Reads what the last run wrote at `file`. A missing or damaged file: nothing is known to be resumed yet, and the
   * epoch the node starts in decides (see `started`). A rejection counts as an end only `settleMs` after the start:
   * until the logs are read again, a payment of a past epoch shows as ended unpaid even when a receipt that counted
   * is still to come.
   */
  constructor(
    private readonly file: string | undefined,
    private readonly settleMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now()
    if (!file || !existsSync(file)) return
    try {
      const saved = FILE.parse(JSON.parse(readFileSync(file, 'utf8')))
      this.startFinalThrough = this.finalThrough = BigInt(saved.finalThrough)
      for (const id of saved.resumed) this.resumed.add(id as Hex)
      for (const [id, epoch] of saved.dismissed) this.dismissed.set(id as Hex, BigInt(epoch))
    } catch {
      // Unreadable: a notice may be missed, never money; the next epoch writes it anew.
    }
  }

  /** The node runs epoch `epoch` after its start; with nothing written before, only payments from it on can be resumed. */
  started(epoch: bigint): void {
    this.startFinalThrough ??= epoch - 1n
    this.finalThrough ??= epoch - 1n
  }

  /** A payment this run sent (its record once receipted, or the transfer a rejection names): never "resumed". */
  sent(recordOrTransfer: object): void {
    this.sentHere.add(recordOrTransfer)
  }

  /**
   * Epoch `epoch` began: every payment of ours before it has ended or moved into it. The resumed ones among them are
   * written down before `finalThrough` passes them. Call it once the rejections of the epoch change have reached
   * their senders (see ChannelNode): a payment of this run is known as such only then.
   */
  epochBegan(epoch: bigint, records: readonly TransferRecord[]): void {
    const through = epoch - 1n
    if (this.finalThrough !== undefined && through <= this.finalThrough) return
    for (const r of records) if (this.isResumed(r) && r.transfer.epoch <= through) this.resumed.add(keyOf(r))
    this.finalThrough = through
    this.save()
  }

  /** The resumed payments that have ended, not yet dismissed; newly found ones are written down. */
  ended(records: readonly TransferRecord[]): ResumedPayment[] {
    const settled = this.now() - this.startedAt >= this.settleMs
    const out: ResumedPayment[] = []
    let found = false
    for (const r of records) {
      if (r.direction !== 'out' || (r.status !== 'checkpointed' && r.status !== 'rejected')) continue
      if (r.status === 'rejected' && !settled) continue
      const id = keyOf(r)
      if (this.dismissed.has(id)) continue
      if (!this.resumed.has(id)) {
        if (!this.isResumed(r)) continue
        this.resumed.add(id)
        found = true
      }
      const t = r.transfer
      out.push({ id, to: t.to, amount: t.amount, status: r.status, ...(r.reason ? { reason: r.reason } : {}) })
    }
    if (found) this.save()
    return out
  }

  /** The person has seen these (ids as `ended` gives them); unknown ids are ignored. */
  dismiss(ids: readonly string[], records: readonly TransferRecord[]): void {
    const wanted = new Set(ids.map((id) => id.toLowerCase()))
    for (const r of records) {
      const id = keyOf(r)
      if (!wanted.has(id) || r.direction !== 'out') continue
      this.resumed.delete(id)
      this.dismissed.set(id, r.transfer.epoch)
    }
    this.save()
  }

  /** Sent before this run, of an epoch the last run had not seen end, and not dismissed. */
  private isResumed(r: TransferRecord): boolean {
    const from = this.startFinalThrough
    if (r.direction !== 'out' || from === undefined || r.transfer.epoch <= from) return false
    return !this.sentHere.has(r) && !this.sentHere.has(r.transfer) && !this.dismissed.has(keyOf(r))
  }

  private save(): void {
    if (!this.file || this.finalThrough === undefined) return
    const through = this.finalThrough
    // A dismissed payment of an epoch up to `finalThrough` cannot be resumed by a later run: no need to keep it.
    const dismissed = [...this.dismissed].filter(([, epoch]) => epoch > through).map(([id, epoch]) => [id, epoch.toString()])
    const saved = { version: 1, finalThrough: through.toString(), resumed: [...this.resumed].slice(-MAX_REMEMBERED), dismissed: dismissed.slice(-MAX_REMEMBERED) }
    writeFileAtomic(this.file, `${JSON.stringify(saved)}\n`)
  }
}
