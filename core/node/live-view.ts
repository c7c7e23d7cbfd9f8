// The parts of a channel's view the node knows without reading the chain, as the NodeApi carries them: what a view
// shows first and what every channel-live event brings again.
import type { TransferRecord } from '../consensus/participant.js'
import type { ChannelNode } from './channel-node.js'
import type { ChannelLiveView, TransferView } from './node-api.js'

export function liveView(node: ChannelNode): ChannelLiveView {
  const s = node.state()
  return {
    epoch: s.epoch.toString(),
    leader: s.leader,
    phase: s.progress.phase,
    receipts: s.progress.receipts,
    voted: s.progress.voted,
    awaiting: s.progress.awaiting,
    members: s.members.map((m) => ({
      index: m.index,
      account: m.account,
      online: m.online,
      exited: m.exited,
      leader: m.index === s.leader,
      balanceWei: m.balance.toString(),
      pendingDepositWei: m.pendingDeposit.toString(),
      ignoredEntries: m.ignoredEntries,
    })),
    epochEndsAt: s.epochEndsAt,
  }
}

export function transferView(r: TransferRecord, updatedAt?: number): TransferView {
  const t = r.transfer
  return {
    id: t.id,
    epoch: t.epoch.toString(),
    direction: r.direction,
    counterparty: r.direction === 'out' ? t.to : t.from,
    amountWei: t.amount.toString(),
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.firstId ? { firstId: r.firstId } : {}),
    ...(updatedAt !== undefined ? { updatedAt } : {}),
  }
}
