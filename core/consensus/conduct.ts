// How a participant bends its own decisions: honestly in the product; tests inject misbehaving conducts
// (core/testing/byzantine.ts) to prove the honest members and the contract catch them.
import type { ChannelDigests } from '../protocol/signatures.js'
import type { Checkpoint, ReceiptedTransfer } from '../protocol/types.js'
import type { Verdict } from './proposal-check.js'

/** What a conduct may look at. */
export interface ConductView {
  epoch: bigint
  me: number
  /** Members' accounts by index. */
  accounts: readonly string[]
  /** The epoch's receipts so far, in seq order. */
  receipts: readonly ReceiptedTransfer[]
  digests: ChannelDigests
}

export interface Conduct {
  /** Leader: the checkpoint to propose instead of the honest one. */
  propose(honest: Checkpoint, view: ConductView): Checkpoint
  /** Leader: the list to answer a challenge with instead of the honest one. */
  answer(honest: ReceiptedTransfer[], challenger: number, view: ConductView): ReceiptedTransfer[]
  /**
   * Member: what to do about a proposal instead of the honest verdict, and the list a challenge shows (`evidence`
   * gives our own, checked on first call).
   */
  judge(honest: Verdict, evidence: () => ReceiptedTransfer[], view: ConductView): { verdict: Verdict; evidence: () => ReceiptedTransfer[] }
}

export const honestConduct: Conduct = {
  propose: (honest) => honest,
  answer: (honest) => honest,
  judge: (verdict, evidence) => ({ verdict, evidence }),
}
