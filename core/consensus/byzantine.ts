// Test-only misbehaviour of a leader or member, switched on by a flag, so tests can prove the honest members and
// the contract catch it. An honest node never sets these.
import { receiptLeaf } from '../protocol/eip712.js'
import { merkleRoot } from '../protocol/merkle.js'
import type { Checkpoint, ReceiptedTransfer } from '../protocol/types.js'

export interface Byzantine {
  /** Leader: leaves its first receipted transfer out of the proposal and out of its dispute answers. */
  omitTransfer?: boolean
  /** Leader: adds this much to its own balance in the proposal, taken from another member. */
  inflateOwnBalance?: bigint
  /** Leader: proposes the receipts in reverse order and answers disputes with the list reversed. */
  reorderReceipts?: boolean
  /** Member: challenges every proposal with a list that hides its first outgoing transfer. */
  falseChallenge?: boolean
}

/** The checkpoint a Byzantine leader proposes instead of the honest one. */
export function corruptProposal(
  honest: Checkpoint,
  receipts: readonly ReceiptedTransfer[],
  members: readonly string[],
  leader: number,
  b: Byzantine,
): Checkpoint {
  const cp = { ...honest, balances: [...honest.balances] }
  if (b.omitTransfer && receipts.length > 0) {
    const [first, ...rest] = receipts as [ReceiptedTransfer, ...ReceiptedTransfer[]]
    const from = members.indexOf(first.transfer.from)
    const to = members.indexOf(first.transfer.to)
    cp.balances[from] = (cp.balances[from] ?? 0n) + first.transfer.amount
    cp.balances[to] = (cp.balances[to] ?? 0n) - first.transfer.amount
    cp.txRoot = merkleRoot(rest.map(receiptLeaf))
    cp.txCount = rest.length
  }
  if (b.inflateOwnBalance) {
    const victim = cp.balances.findIndex((bal, i) => i !== leader && bal >= (b.inflateOwnBalance ?? 0n))
    if (victim >= 0) {
      cp.balances[victim] = (cp.balances[victim] ?? 0n) - b.inflateOwnBalance
      cp.balances[leader] = (cp.balances[leader] ?? 0n) + b.inflateOwnBalance
    }
  }
  if (b.reorderReceipts && receipts.length > 1) cp.txRoot = merkleRoot([...receipts].reverse().map(receiptLeaf))
  return cp
}

/**
 * A Byzantine leader's answer to a challenge: its list bent the same way as its proposal. To justify an inflated
 * balance it must show a payment the victim never signed, so it forges one with its own key.
 */
export function corruptAnswer(
  honest: ReceiptedTransfer[],
  receipts: readonly ReceiptedTransfer[],
  b: Byzantine,
  forge: (victimList: ReceiptedTransfer[]) => ReceiptedTransfer | null,
): ReceiptedTransfer[] {
  let list = honest
  const first = receipts[0]
  if (b.omitTransfer && first) list = list.filter((t) => t.transfer.id !== first.transfer.id)
  if (b.inflateOwnBalance) {
    const forged = forge(list)
    if (forged) list = [...list, forged]
  }
  if (b.reorderReceipts) list = [...list].reverse()
  return list
}

/** A false challenger's list: its own, without its first outgoing transfer. */
export function hideOutgoing(list: readonly ReceiptedTransfer[], me: string): ReceiptedTransfer[] {
  const i = list.findIndex((t) => t.transfer.from === me)
  return i < 0 ? [...list] : [...list.slice(0, i), ...list.slice(i + 1)]
}
