// A member's work in a round: countersign valid requests addressed to it, replay the leader's receipts, and judge
// the leader's proposal (vote, or challenge on chain).
import { hashTransfer } from '../protocol/eip712.js'
import { recover } from '../protocol/fast-ecdsa.js'
import type { ChannelDigests } from '../protocol/signatures.js'
import type { Checkpoint, Hex, ReceiptedTransfer, Transfer } from '../protocol/types.js'
import type { CheckpointState, LeaderEvidence } from './chain-port.js'
import type { Conduct, ConductView } from './conduct.js'
import type { Disputes } from './disputes.js'
import type { Epoch } from './epoch.js'
import type { Countersigned } from './leader-role.js'
import type { MemberList } from './member-list.js'
import { honestNever, type Misbehaviour } from './misbehaviour.js'
import type { OwnLog } from './own-log.js'
import type { Payments } from './payments.js'
import { checkProposal } from './proposal-check.js'
import type { Round } from './round.js'

export interface MemberDeps {
  me: number
  address: string
  digests: ChannelDigests
  sign(digest: Hex): Hex
  members: MemberList
  ownLog: OwnLog
  misbehaviour: Misbehaviour
  payments: Payments
  disputes: Disputes
  conduct: Conduct
  view(round: Round): ConductView
  /** The round running now (a delayed challenge checks it is still the one it was made for). */
  current(): Round
  /** Runs `task` in the serial queue after `ms`. */
  later(ms: number, task: () => Promise<void> | void): void
  leaderTimeoutMs: number
  log(line: string): void
}

export class MemberRole {
  constructor(private readonly d: MemberDeps) {}

  /** A payment request: countersigned (returned) if it is ours and valid, refused in our log if not. */
  request(round: Round, epoch: Epoch, author: number, transfer: Transfer, senderSig: Hex): Countersigned | undefined {
    const { members, ownLog } = this.d
    if (members.indexOf(transfer.from) !== author) return void this.d.misbehaviour.blame(author, 'request for someone else\'s transfer')
    if (members.indexOf(transfer.to) !== this.d.me) return undefined
    // Answered already (our own log, replayed first after a restart, says so): checked again now it would look
    // like a duplicate and be refused, and the sender could take a payment that went through for a failed one.
    if (ownLog.answered(transfer.epoch, transfer.id)) return undefined
    // Our view of the sender's balance follows the leader's log, read in batches: it may lag the leader's. The
    // leader judges the funds (it holds the order); we refuse only what is wrong whatever the balance.
    const checked = round.ledger.checkRequest(transfer, senderSig)
    const refused = checked?.code === 'OVERDRAFT' ? null : checked
    if (refused && honestNever(refused.code)) return void this.d.misbehaviour.blame(author, `request refused: ${refused.code}`)
    if (refused) {
      // Pushed to its sender alone: no one else acts on it now.
      if (epoch.mayRefuse(author)) ownLog.refuse({ type: 'reject', epoch: round.epoch, id: transfer.id, transfer: hashTransfer(transfer), reason: refused.code }, [author])
      return undefined
    }
    // At our cap for the epoch, or short of funds by our own count from a sender the leader keeps refusing as
    // unpayable (a flood of such requests would use up our room to be paid: Epoch.shortOfFunds): no answer now.
    // The sender sends it again in the next epoch, as any payment the epoch did not receipt. Not a refusal: our
    // view of its balance may lag, and a refusal would be final; nor a write of ours for each request of a flood.
    if (!epoch.mayCountersign(this.d.me) || epoch.shortOfFunds(author, transfer.amount, round.ledger.balanceOf(author))) return undefined
    epoch.countersigning(this.d.me, transfer, author)
    const receiverSig = this.d.sign(this.d.digests.transfer(transfer))
    this.d.payments.incoming(transfer)
    ownLog.append({ type: 'countersign', transfer, senderSig, receiverSig })
    return { transfer, senderSig, receiverSig }
  }

  /**
   * A receipt from the leader's log. The log already proves the leader wrote it; what a member must not accept is
   * a payment of its own it never signed, so for its own transfers it compares with what it signed (no signature
   * work on the hot path). The signatures themselves are checked when they become evidence (challenge).
   */
  receipt(round: Round, author: number, tx: ReceiptedTransfer): void {
    const t = tx.transfer
    if (t.from === this.d.address || t.to === this.d.address) {
      const known = this.d.payments.get(t.id)?.transfer
      const same = known && known.from === t.from && known.to === t.to && known.amount === t.amount && known.epoch === t.epoch
      if (!same) {
        round.ledger.refuse(tx.seq)
        return this.d.misbehaviour.blame(author, 'receipt of a transfer of ours we never signed')
      }
    }
    const r = round.ledger.applyReceipt(tx, false)
    if (!r.ok) return this.d.misbehaviour.blame(author, `receipt refused: ${r.rejection.code}`)
    this.d.payments.receipted(tx, round.leader)
  }

  /**
   * A receipt of the round's leader pushed to us ahead of its log: if it is of a payment of ours, as we signed it,
   * under the leader's valid signature, the payment shows receipted now. Our ledger takes it from the log.
   */
  receiptPushed(round: Round, author: number, tx: ReceiptedTransfer): void {
    const t = tx.transfer
    if (author !== round.leader || t.epoch !== round.epoch || (t.from !== this.d.address && t.to !== this.d.address)) return
    const known = this.d.payments.get(t.id)?.transfer
    if (!known || known.from !== t.from || known.to !== t.to || known.amount !== t.amount || known.epoch !== t.epoch) return
    const digest = this.d.digests.receipt({ transfer: hashTransfer(t), epoch: t.epoch, seq: tx.seq })
    if (recover(digest, tx.leaderSig) !== this.d.members.get(author)?.account.toLowerCase()) return
    this.d.payments.receipted(tx, round.leader)
  }

  /** Our own vote, replayed from our log after a restart. */
  recallVote(round: Round, epoch: bigint, leader: number): void {
    if (epoch !== round.epoch || leader !== round.leader) return
    round.voted = true
    round.votesSeen.add(this.d.me)
  }

  /**
   * The leader's proposal: if its leader signed it and we have not voted, trading stops (`spoke` is told) and we
   * judge it against our own ledger: a vote in our log, or a challenge on chain.
   */
  async proposal(round: Round, author: number, cp: Checkpoint, sig: Hex, epoch: Epoch, spoke: () => void): Promise<void> {
    if (round.voted || round.disputeOpen) return
    if (cp.leader !== author || recover(this.d.digests.checkpoint(cp), sig) !== this.d.members.get(author)?.account.toLowerCase()) {
      return this.d.misbehaviour.blame(author, 'proposal not signed by its leader')
    }
    round.ledger.close()
    round.proposedCount = cp.balances.length
    round.votesSeen.add(author) // a proposal is its leader's vote
    spoke()
    await this.judge(round, { checkpoint: cp, sig }, epoch.last, epoch.exitRequests)
  }

  /** A majority's checkpoint on chain that we did not vote for (we were away): vote or challenge it now. */
  async judgeOnChain(round: Round, cp: Checkpoint, epoch: Epoch): Promise<void> {
    if (round.disputeOpen) return
    // The contract takes the checkpoint waiting on chain as the proof of who led: no signature needed here.
    await this.judge(round, { checkpoint: cp, sig: '0x' }, epoch.last, epoch.exitRequests)
  }

  private async judge(round: Round, led: LeaderEvidence, last: CheckpointState, exitRequests: ReadonlySet<number>): Promise<void> {
    const { checkpoint: cp, checkpoint: { leader: author } } = led
    const members = await this.d.members.refresh()
    let mine: ReceiptedTransfer[] | undefined
    const ours = (): ReceiptedTransfer[] => (mine ??= this.evidence(round)) // signature checks: only when needed
    const honest = checkProposal({
      proposal: cp,
      me: this.d.me,
      last,
      members,
      exitRequests,
      recount: (next) => round.ledger.checkpoint(next),
      evidence: () => ours().length,
    })
    const { verdict, evidence } = this.d.conduct.judge(honest, ours, this.d.view(round))
    if (verdict.action === 'vote') {
      round.voted = true
      this.d.ownLog.append({ type: 'vote', epoch: round.epoch, leader: author, sig: this.d.sign(this.d.digests.checkpoint(cp)) })
      return
    }
    this.d.log(`epoch ${round.epoch}: proposal of member ${author} disagrees with our ledger (${verdict.why})`)
    if (verdict.action === 'challenge-now') return this.d.disputes.challenge(led, evidence())
    if (verdict.action !== 'challenge-later') return
    const delay = this.d.leaderTimeoutMs * (1 + this.d.me / Math.max(1, members.length))
    this.d.later(delay, () => {
      const now = this.d.current()
      if (now === round && !now.disputeOpen) return this.d.disputes.challenge(led, evidence())
    })
  }

  /** Our receipted transfers whose three signatures hold: what a challenge can show. */
  private evidence(round: Round): ReceiptedTransfer[] {
    return round.ledger.involving(this.d.me).filter((t) => round.ledger.verifyReceipt(t))
  }
}
