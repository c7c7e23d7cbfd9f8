// A channel's changes pushed to the UI as they happen: every status change of our payments, with the live fields
// (epoch, phase, balances, pending deposits, who is online) as they are then, in one channel-live event per burst.
// A change goes out as soon as the task that made it is done, so a receipt pushed to us reaches the screen in
// milliseconds; once BURST events went out within WINDOW_MS, later changes wait together until one more may go (a
// busy channel changes thousands of times a second, and a screen needs no more than this; a payment's countersign
// and receipt, a few ms apart, both go at once). What changes without an event of the participant (a member coming
// online, other members' receipts read from the leader's log, a proposal, a deposit) is found by comparing the live
// fields every CHECK_MS: memory reads, no chain read.
import type { TransferRecord } from '../consensus/participant.js'
import type { ChannelNode } from './channel-node.js'
import { liveView, transferView } from './live-view.js'
import type { ChannelLiveEvent } from './node-api.js'
import { errorMessage } from '../util/error-message.js'

/** Events of one channel at most BURST in any WINDOW_MS. */
export const BURST = 5
export const WINDOW_MS = 100
/** How often the live fields are compared with those last sent. */
export const CHECK_MS = 1000
/** Transfers one event carries at most (a view lists the newest 200). */
const MAX_TRANSFERS = 200

export type FeedEvent = Omit<ChannelLiveEvent, 'type' | 'seq'>

export class ChannelFeed {
  /** Our payments that changed since the last event, newest change last. */
  private readonly changed = new Set<TransferRecord>()
  private firstChangeAt: number | undefined
  /** When the last BURST events went out, oldest first. */
  private readonly sentAt: number[] = []
  private lastLive = ''
  /** Cancels the event due to go out, if one is. */
  private cancelDue: (() => void) | undefined
  private readonly checker: NodeJS.Timeout
  private readonly unsubscribe: () => void

  constructor(
    private readonly channel: string,
    private readonly node: ChannelNode,
    private readonly publish: (e: FeedEvent) => void,
    private readonly log: (line: string) => void = () => {},
  ) {
    const events = node.events
    const onTransfer = (r: TransferRecord): void => {
      this.changed.delete(r)
      this.changed.add(r)
      this.touched()
    }
    const onOther = (): void => this.touched()
    const others = ['epoch', 'checkpoint', 'view-change', 'dispute'] as const
    events.on('transfer', onTransfer)
    for (const e of others) events.on(e, onOther)
    this.unsubscribe = () => {
      events.off('transfer', onTransfer)
      for (const e of others) events.off(e, onOther)
    }
    this.lastLive = JSON.stringify(liveView(node))
    this.checker = setInterval(() => this.check(), CHECK_MS)
  }

  /** Something changed: an event goes out once the running task is done, or once the gap since the last allows. */
  touched(): void {
    const now = Date.now()
    this.firstChangeAt ??= now
    if (this.cancelDue !== undefined) return
    const wait = this.sentAt.length < BURST ? 0 : this.sentAt[0]! + WINDOW_MS - now
    if (wait > 0) {
      const timer = setTimeout(() => this.flush(), wait)
      this.cancelDue = () => clearTimeout(timer)
    } else {
      const immediate = setImmediate(() => this.flush())
      this.cancelDue = () => clearImmediate(immediate)
    }
  }

  /** What changed without an event goes out too. */
  private check(): void {
    try {
      if (this.cancelDue === undefined && JSON.stringify(liveView(this.node)) !== this.lastLive) this.touched()
    } catch (err) {
      this.log(`channel view check failed: ${errorMessage(err)}`)
    }
  }

  private flush(): void {
    this.cancelDue = undefined
    try {
      this.send()
    } catch (err) {
      this.log(`channel view update failed: ${errorMessage(err)}`) // the next change, or the check, tries again
    }
  }

  private send(): void {
    const live = liveView(this.node)
    const transfers = [...this.changed].slice(-MAX_TRANSFERS).map((r) => transferView(r, this.node.changedAtOf(r.transfer.id)))
    this.changed.clear()
    const at = this.firstChangeAt ?? Date.now()
    this.firstChangeAt = undefined
    this.sentAt.push(Date.now())
    if (this.sentAt.length > BURST) this.sentAt.shift()
    this.lastLive = JSON.stringify(live)
    this.publish({ channel: this.channel, at, live, transfers })
  }

  close(): void {
    this.cancelDue?.()
    this.cancelDue = undefined
    clearInterval(this.checker)
    this.unsubscribe()
  }
}
