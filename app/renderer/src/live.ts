// Views kept current by the core's channel-live events: each brings a channel's live fields as they are and the
// payments that changed. A view applies only events newer than what it holds (its liveSeq), so one read while
// events were on their way never goes back to an older state.
import type { ChannelLiveEvent, ChannelSummary, ChannelView, TransferView } from '../../../core/node/node-api'
import { duration } from './duration'

/** Payments a channel view lists (the core sends the newest 200). */
const LISTED = 200

export function applyLive(view: ChannelView, e: ChannelLiveEvent): ChannelView {
  if (e.channel !== view.address || e.seq <= view.liveSeq) return view
  return { ...view, ...e.live, liveSeq: e.seq, transfers: mergeTransfers(view.transfers, e.transfers) }
}

/**
 * The listed payments (newest first) with those that changed: a known one changes in place, a re-issue replaces
 * the row of the payment it re-issues, a new one goes on top.
 */
export function mergeTransfers(listed: readonly TransferView[], changed: readonly TransferView[]): TransferView[] {
  const rows = [...listed]
  for (const t of changed) {
    const first = t.firstId ?? t.id
    const i = rows.findIndex((r) => r.id === t.id || (r.firstId ?? r.id) === first)
    if (i >= 0) rows[i] = t
    else rows.unshift(t)
  }
  return rows.slice(0, LISTED)
}

/** A channel's line in the list, with the member's balance and pending deposit as the event has them. */
export function applyLiveToSummary(c: ChannelSummary, e: ChannelLiveEvent): ChannelSummary {
  if (c.address !== e.channel || c.me === undefined || e.seq <= (c.liveSeq ?? 0)) return c
  const mine = e.live.members[c.me]
  if (!mine) return c
  return { ...c, members: e.live.members.length, balanceWei: mine.balanceWei, pendingDepositWei: mine.pendingDepositWei, liveSeq: e.seq }
}

/**
 * When pending deposits count, as a person reads it: "in about 12 seconds", "in about 35 minutes" (an estimate:
 * seconds only under a minute), or "any moment now" once the epoch is due to close.
 */
export function countedWhen(epochEndsAt: number, now: number): string {
  const seconds = Math.ceil((epochEndsAt - now) / 1000)
  if (seconds <= 0) return 'any moment now'
  return `in about ${duration(seconds < 60 ? seconds : Math.round(seconds / 60) * 60)}`
}
