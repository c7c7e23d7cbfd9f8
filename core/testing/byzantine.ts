// Test support: misbehaving conducts of a leader or member, injected into a Participant, so tests can prove the
// honest members and the contract catch them. The product only ever runs the honest conduct.
import { honestConduct, type Conduct, type ConductView } from '../consensus/conduct.js'
import { hashTransfer, receiptLeaf } from '../protocol/eip712.js'
import { sign } from '../protocol/fast-ecdsa.js'
import { merkleRoot } from '../protocol/merkle.js'
import { accountOf, randomTransferId } from '../protocol/signatures.js'
import type { Checkpoint, Hex, ReceiptedTransfer, Transfer } from '../protocol/types.js'

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

/** The named behaviours a hostile test process can take (`--byzantine NAME`). */
export const BYZANTINE: Readonly<Record<string, Byzantine>> = {
  omit: { omitTransfer: true },
  inflate: { inflateOwnBalance: 1000n },
  reorder: { reorderReceipts: true },
  'false-challenge': { falseChallenge: true },
}

/** The conduct of a member holding `privateKey` that misbehaves as `b` says. */
export function byzantineConduct(privateKey: Hex, b: Byzantine): Conduct {
  return {
    propose: (honest, view) => corruptProposal(honest, view, b),
    answer: (honest, challenger, view) => corruptAnswer(honest, view, b, (list) => forgePayment(privateKey, challenger, view, b, list)),
    judge: (verdict, evidence, view) => {
      if (!b.falseChallenge) return honestConduct.judge(verdict, evidence, view)
      const me = view.accounts[view.me] ?? ''
      return { verdict: { action: 'challenge-now', why: 'a false challenge' }, evidence: () => hideOutgoing(evidence(), me) }
    },
  }
}

/** The checkpoint a Byzantine leader proposes instead of the honest one. */
function corruptProposal(honest: Checkpoint, view: ConductView, b: Byzantine): Checkpoint {
  const cp = { ...honest, balances: [...honest.balances] }
  const receipts = view.receipts
  if (b.omitTransfer && receipts.length > 0) {
    const [first, ...rest] = receipts as [ReceiptedTransfer, ...ReceiptedTransfer[]]
    const from = view.accounts.indexOf(first.transfer.from)
    const to = view.accounts.indexOf(first.transfer.to)
    cp.balances[from] = (cp.balances[from] ?? 0n) + first.transfer.amount
    cp.balances[to] = (cp.balances[to] ?? 0n) - first.transfer.amount
    cp.txRoot = merkleRoot(rest.map(receiptLeaf))
    cp.txCount = rest.length
  }
  if (b.inflateOwnBalance) {
    const victim = cp.balances.findIndex((bal, i) => i !== view.me && bal >= (b.inflateOwnBalance ?? 0n))
    if (victim >= 0) {
      cp.balances[victim] = (cp.balances[victim] ?? 0n) - b.inflateOwnBalance
      cp.balances[view.me] = (cp.balances[view.me] ?? 0n) + b.inflateOwnBalance
    }
  }
  if (b.reorderReceipts && receipts.length > 1) cp.txRoot = merkleRoot([...receipts].reverse().map(receiptLeaf))
  return cp
}

/**
 * A Byzantine leader's answer to a challenge: its list bent the same way as its proposal. To justify an inflated
 * balance it must show a payment the victim never signed, so it forges one with its own key.
 */
function corruptAnswer(
  honest: ReceiptedTransfer[],
  view: ConductView,
  b: Byzantine,
  forge: (victimList: ReceiptedTransfer[]) => ReceiptedTransfer | null,
): ReceiptedTransfer[] {
  let list = honest
  const first = view.receipts[0]
  if (b.omitTransfer && first) list = list.filter((t) => t.transfer.id !== first.transfer.id)
  if (b.inflateOwnBalance) {
    const forged = forge(list)
    if (forged) list = [...list, forged]
  }
  if (b.reorderReceipts) list = [...list].reverse()
  return list
}

/** A payment from the victim to this leader "signed" by the leader in the victim's place. */
function forgePayment(privateKey: Hex, victim: number, view: ConductView, b: Byzantine, list: ReceiptedTransfer[]): ReceiptedTransfer | null {
  const amount = b.inflateOwnBalance
  const from = view.accounts[victim]
  if (!amount || !from) return null
  const transfer: Transfer = { id: randomTransferId(), epoch: view.epoch, from, to: accountOf(privateKey), amount }
  const seq = (list.at(-1)?.seq ?? -1) + 1
  const d = view.digests.transfer(transfer)
  return {
    transfer,
    seq,
    senderSig: sign(privateKey, d),
    receiverSig: sign(privateKey, d),
    leaderSig: sign(privateKey, view.digests.receipt({ transfer: hashTransfer(transfer), epoch: view.epoch, seq })),
  }
}

/** A false challenger's list: its own, without its first outgoing transfer. */
function hideOutgoing(list: readonly ReceiptedTransfer[], me: string): ReceiptedTransfer[] {
  const i = list.findIndex((t) => t.transfer.from === me)
  return i < 0 ? [...list] : [...list.slice(0, i), ...list.slice(i + 1)]
}
