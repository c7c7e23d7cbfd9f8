// The leader's work in a round: receipt doubly signed transfers, close the epoch with a proposal, collect the
// votes and put the checkpoint on chain.
import type { Entry } from '../protocol/entries.js'
import { hashTransfer } from '../protocol/eip712.js'
import { recover } from '../protocol/fast-ecdsa.js'
import type { ChannelDigests } from '../protocol/signatures.js'
import { makeReceipted, type Checkpoint, type Hex, type ReceiptedTransfer, type Transfer } from '../protocol/types.js'
import type { ChainPort, CheckpointState } from './chain-port.js'
import type { Conduct, ConductView } from './conduct.js'
import type { MemberList } from './member-list.js'
import { honestNever, type Misbehaviour } from './misbehaviour.js'
import type { OwnLog } from './own-log.js'
import { refusedForGood } from './payments.js'
import { nextLeader } from './rotation.js'
import type { Round } from './round.js'
import { errorMessage } from '../util/error-message.js'

/** A transfer both parties signed, waiting for (or given) its receipt. */
export interface Countersigned {
  transfer: Transfer
  senderSig: Hex
  receiverSig: Hex
}

export interface LeaderDeps {
  me: number
  chain: Pick<ChainPort, 'submitCheckpoint' | 'submitContestedCheckpoint' | 'proposeCheckpoint'>
  digests: ChannelDigests
  sign(digest: Hex): Hex
  members: MemberList
  ownLog: OwnLog
  misbehaviour: Misbehaviour
  conduct: Conduct
  view(round: Round): ConductView
  /** A receipt was given. */
  receipted(tx: ReceiptedTransfer): void
  /** The checkpoint went on chain (the chain watch reads it at once). */
  submitted(): void
  log(line: string): void
}

/** What became of a transfer put to the round's ledger (see LeaderRole.receipt). */
type Admission = 'admitted' | 'refused' | 'overdrawn' | 'junk'

export class LeaderRole {
  constructor(private readonly d: LeaderDeps) {}

  /**
   * Receipts a doubly signed transfer (countersigned by `author`), or says why not: in our log if both parties
   * really signed it, else it is junk, blamed on its author and answered with nothing. Returns whether the epoch
   * should close now (cap).
   */
  admit(round: Round, c: Countersigned, author: number): boolean {
    return this.receipt(round, c, author, false) === 'admitted' && round.ledger.capReached
  }

  /**
   * Admits a transfer an earlier round's leader `by` receipted (Participant.lateReceipt): a bad signature or a
   * transfer no honest party signs is blamed on that leader; one its sender cannot pay now is left as it is.
   */
  admitReceipted(round: Round, c: Countersigned, by: number): Admission {
    return this.receipt(round, c, by, true)
  }

  /**
   * Admits the transfers a restarted epoch keeps, in the order given (Epoch.readmitOrder). One refused for want of
   * funds is tried again once money comes in to its sender from another of them: the order countersigns arrive from
   * different logs is not the order they were paid in, and one may spend what a later-read one brought. What is
   * still short after that is refused now, not kept waiting for countersigns still to come: its earlier leader may
   * have refused it already, and a sender told so may have paid again. Returns whether the epoch should close.
   */
  readmit(round: Round, kept: readonly Countersigned[]): boolean {
    const short = new Map<string, Countersigned[]>() // by sender
    const credited = new Set<string>()
    for (const c of kept) {
      const r = this.receipt(round, c, this.countersigner(c), true)
      if (r === 'admitted') credited.add(c.transfer.to)
      if (r !== 'overdrawn') continue
      const list = short.get(c.transfer.from)
      if (list) list.push(c)
      else short.set(c.transfer.from, [c])
    }
    const byAmount = (a: Countersigned, b: Countersigned): number => (a.transfer.amount < b.transfer.amount ? -1 : a.transfer.amount > b.transfer.amount ? 1 : 0)
    for (const list of short.values()) list.sort(byAmount)
    // Money came in to an account: its short transfers are tried again, smallest first, up to the first it still
    // cannot pay (no larger one could be paid either), and those they pay in turn. Each try admits one or ends the
    // account's turn, so the work stays linear.
    const queue = [...credited]
    for (let a = queue.pop(); a !== undefined; a = queue.pop()) {
      const list = short.get(a)
      for (let c = list?.[0]; list && c; c = list[0]) {
        const r = this.receipt(round, c, this.countersigner(c), true)
        if (r === 'overdrawn') break
        if (r === 'admitted') queue.push(c.transfer.to)
        list.shift()
      }
    }
    for (const c of [...short.values()].flat()) this.receipt(round, c, this.countersigner(c), false) // refused, with its reason
    return round.ledger.capReached
  }

  /** The member whose countersign a transfer is: its receiver (blamed if it is junk). */
  private countersigner(c: Countersigned): number {
    return this.d.members.indexOf(c.transfer.to) ?? -1
  }

  /**
   * With `overdraftWaits`, a transfer refused for want of funds is left for the caller to try again ('overdrawn').
   * 'junk': refused without a word and blamed on `author`.
   */
  private receipt(round: Round, c: Countersigned, author: number, overdraftWaits: boolean): Admission {
    if (round.disputeOpen || round.proposal) return 'refused'
    const r = round.ledger.admit(c.transfer, c.senderSig, c.receiverSig)
    if (!r.ok) {
      const code = r.rejection.code
      if (code === 'OVERDRAFT' && overdraftWaits) return 'overdrawn'
      if (code === 'DUPLICATE_ID') return 'refused'
      // The ledger refuses for want of funds or room before it checks signatures (cheap first): a refusal is
      // written only for a transfer both parties signed.
      if (honestNever(code) || !this.signedByBoth(c)) {
        this.d.misbehaviour.blame(author, `countersign refused: ${code}`)
        return 'junk'
      }
      const refusal = { type: 'reject', epoch: round.epoch, id: c.transfer.id, transfer: hashTransfer(c.transfer), reason: code } as const
      // A refusal for good is pushed to every member: whoever leads a round restarted after a view change must know
      // it before it admits again what this round's members countersigned (our log may reach it only after we
      // crash). One for want of room (the payment goes out again) concerns only its sender and receiver.
      if (refusedForGood(code)) this.d.ownLog.append(refusal)
      else this.d.ownLog.refuse(refusal, this.d.members.parties(c.transfer, this.d.me))
      return 'refused'
    }
    const leaderSig = this.d.sign(this.d.digests.of(r.value.receiptHash)) // the receipt's struct hash is the Merkle leaf
    const made = r.value.tx
    const tx = round.ledger.attachReceipt(made.seq, leaderSig) ?? makeReceipted(made.transfer, made.seq, made.senderSig, made.receiverSig, leaderSig)
    this.d.ownLog.append({ type: 'receipt', tx })
    this.d.receipted(tx)
    return 'admitted'
  }

  /** Whether the transfer's sender and receiver both signed it. */
  signedByBoth(c: Countersigned): boolean {
    const digest = this.d.digests.transfer(c.transfer)
    const account = (a: string): string | undefined => this.d.members.get(this.d.members.indexOf(a) ?? -1)?.account.toLowerCase()
    return recover(digest, c.senderSig) === account(c.transfer.from) && recover(digest, c.receiverSig) === account(c.transfer.to)
  }

  /** Closes the round's trading and proposes its checkpoint (our own vote included). */
  async propose(round: Round, last: CheckpointState, exitRequests: ReadonlySet<number>): Promise<void> {
    if (round.proposal || round.disputeOpen) return
    round.ledger.close()
    const members = await this.d.members.refresh()
    const n = members.length
    const exited = (i: number): boolean => this.d.members.exited(i)
    const exitMask = [...exitRequests].filter((i) => i < n && !exited(i)).reduce((m, i) => m | (1n << BigInt(i)), 0n)
    const leaving = (i: number): boolean => exited(i) || ((exitMask >> BigInt(i)) & 1n) === 1n
    const honest = round.ledger.checkpoint({
      nextLeader: nextLeader(this.d.me, n, leaving),
      deposited: members.map((m) => m.deposit),
      prevDeposited: last.deposited,
      exitMask,
    })
    const cp = this.d.conduct.propose(honest, this.d.view(round))
    const sig = this.takeUp(round, cp, this.d.sign(this.d.digests.checkpoint(cp)))
    this.d.log(`epoch ${round.epoch}: proposing ${cp.txCount} transfers`)
    this.d.ownLog.append({ type: 'proposal', checkpoint: cp, sig })
    await this.submitIfComplete(round, last)
  }

  /** Our own receipt or proposal of this round, replayed from our log after a restart. */
  recall(round: Round, e: Extract<Entry, { type: 'receipt' | 'proposal' }>): void {
    if (e.type === 'proposal') {
      if (!round.proposal && e.checkpoint.epoch === round.epoch) this.takeUp(round, e.checkpoint, e.sig)
    } else if (e.tx.seq === round.ledger.seq && e.tx.transfer.epoch === round.epoch && round.ledger.applyReceipt(e.tx).ok) {
      this.d.receipted(e.tx)
    }
  }

  /** Takes up a proposal of ours (just made, or replayed). */
  private takeUp(round: Round, cp: Checkpoint, sig: Hex): Hex {
    round.ledger.close()
    round.proposal = { cp, digest: this.d.digests.checkpoint(cp), votes: new Map([[this.d.me, sig]]), submitted: false }
    round.proposedCount = cp.balances.length
    round.votesSeen.add(this.d.me)
    return sig
  }

  async vote(round: Round, author: number, sig: Hex, last: CheckpointState): Promise<void> {
    const p = round.proposal
    if (!p) return
    if (recover(p.digest, sig) !== this.d.members.get(author)?.account.toLowerCase()) {
      return this.d.misbehaviour.blame(author, 'vote with a bad signature')
    }
    p.votes.set(author, sig)
    await this.submitIfComplete(round, last)
  }

  /**
   * After the vote timeout (DESIGN.md section 4, B3): the proposal goes on chain with the votes of a majority of
   * its active members, to land after the challenge window. False while the votes are fewer.
   */
  async proposeWithMajority(round: Round): Promise<boolean> {
    const p = round.proposal
    if (!p || p.submitted || p.withMajority || round.disputeOpen) return true
    const n = p.cp.balances.length
    const active = Array.from({ length: n }, (_, i) => i).filter((i) => !this.d.members.exited(i))
    // A challenger that lost to us counts: the contract pins its balance to our list, as in a contested checkpoint.
    const signed = active.filter((i) => p.votes.has(i) || i === p.contestedBy).length
    if (signed * 2 <= active.length) return false
    p.withMajority = true
    const sigs = Array.from({ length: n }, (_, i) => p.votes.get(i) ?? ('0x' as Hex))
    try {
      await this.d.chain.proposeCheckpoint(p.cp, sigs)
      this.d.log(`epoch ${round.epoch}: checkpoint proposed on chain with ${signed} of ${active.length} votes`)
      this.d.submitted()
      return true
    } catch (err) {
      p.withMajority = false
      this.d.log(`checkpoint ${round.epoch} not proposed with a majority: ${errorMessage(err)}`)
      return false
    }
  }

  /** Puts the checkpoint on chain once every vote it needs is in. */
  async submitIfComplete(round: Round, last: CheckpointState): Promise<void> {
    const p = round.proposal
    if (!p || p.submitted || round.disputeOpen) return
    const n = p.cp.balances.length
    const needed = Array.from({ length: n }, (_, i) => i).filter((i) => !this.d.members.exited(i) && i !== p.contestedBy)
    if (!needed.every((i) => p.votes.has(i))) return
    p.submitted = true
    const sigs = Array.from({ length: n }, (_, i) => p.votes.get(i) ?? ('0x' as Hex))
    try {
      const r =
        p.contestedBy === undefined
          ? await this.d.chain.submitCheckpoint(p.cp, sigs)
          : await this.d.chain.submitContestedCheckpoint(p.cp, sigs, { balances: last.balances, deposited: last.deposited })
      this.d.ownLog.append({ type: 'confirm', epoch: round.epoch, leader: this.d.me, txHash: r.hash })
      this.d.submitted()
    } catch (err) {
      p.submitted = false
      this.d.log(`checkpoint ${round.epoch} not submitted: ${errorMessage(err)}`)
    }
  }
}
