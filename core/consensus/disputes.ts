// A participant's part in disputes on chain: challenge a proposal, answer a challenge as its leader, and resolve
// an open dispute once the leader answered or its time ran out (the challenger at once, everyone else after a grace
// period, so a dispute never waits on one node).
import { hashTransfer } from '../protocol/eip712.js'
import { recover } from '../protocol/fast-ecdsa.js'
import type { ChannelDigests } from '../protocol/signatures.js'
import { MAX_AMOUNT_WEI, type Hex, type ReceiptedTransfer } from '../protocol/types.js'
import type { ChainPort, ChannelEvent, LeaderEvidence } from './chain-port.js'
import type { LostChallenge } from './chain-watch.js'
import type { Round } from './round.js'
import { errorMessage } from '../util/error-message.js'

const DISPUTE_EVENTS = ['Challenged', 'ChallengeListed', 'Answered', 'Responded', 'DisputeResolved'] as const

export type DisputeEvent = Extract<ChannelEvent, { type: (typeof DISPUTE_EVENTS)[number] }>

export function isDisputeEvent(ev: ChannelEvent): ev is DisputeEvent {
  return (DISPUTE_EVENTS as readonly string[]).includes(ev.type)
}

/** What a dispute's end means for the round. */
export type DisputeOutcome =
  /** The leader lost: the epoch restarts under the next leader the contract named. */
  | { restartUnder: number }
  /** The leader won: its checkpoint goes on chain without the challenger's vote. */
  | { contestedBy: number }
  | undefined

interface OpenDispute {
  epoch: bigint
  challenger: number
  leader: number
  ours: boolean
  /** Entries the challenger's list has in all, and on chain so far. */
  count: number
  listed: number
  /** Unix seconds: the challenger's chunks until then; its list is what it listed by then. */
  listDeadline: bigint
  /** Unix seconds after which a leader silent or unfinished loses. */
  deadline: bigint
  /** As the challenged leader: our answer, once the challenger's list is complete or its time is up. */
  answer?: () => ReceiptedTransfer[]
  answering?: boolean
  /** The transactions of the leader's answer so far. */
  answerTxs: Hex[]
  /** When (clock ms) we saw the leader's answer complete. */
  answeredAt?: number
}

export class Disputes {
  private open: OpenDispute | undefined
  /** Our last challenge's list, until the contract holds all of it: a chunk that failed is sent again. */
  private ours: { led: LeaderEvidence; list: ReceiptedTransfer[] } | undefined
  private listing = false
  /** The leader's answer to our challenge, read from its transaction: what a contested checkpoint counted for us. */
  private answer: { epoch: bigint; leader: number; list: ReceiptedTransfer[] } | undefined

  constructor(
    private readonly me: number,
    private readonly chain: Pick<ChainPort, 'challenge' | 'respond' | 'resolve' | 'answerOf'>,
    private readonly now: () => number,
    /** How long a member that did not challenge waits for the challenger to resolve before it does. */
    private readonly graceMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Challenges `led`'s leader for its epoch (`led` is its signed proposal) with our list. */
  async challenge(led: LeaderEvidence, list: ReceiptedTransfer[]): Promise<void> {
    const { epoch, leader } = led.checkpoint
    this.ours = { led, list }
    this.listing = true
    try {
      if (await this.attempt('challenge', () => this.chain.challenge(epoch, leader, list, led))) {
        this.log(`epoch ${epoch}: challenged leader ${leader} with ${list.length} transfers`)
      }
    } finally {
      this.listing = false
    }
  }

  /** Sends the rest of our list when a chunk of it failed, while the contract takes more (the client resumes). */
  private async listRest(): Promise<void> {
    const d = this.open
    const mine = this.ours
    if (!d?.ours || !mine || this.listing || d.listed >= d.count) return
    const { epoch, leader } = mine.led.checkpoint
    if (epoch !== d.epoch || leader !== d.leader || mine.list.length !== d.count) return
    if (BigInt(Math.floor(this.now() / 1000)) > d.listDeadline) return
    this.listing = true
    try {
      if (await this.attempt('challenge', () => this.chain.challenge(epoch, leader, mine.list, mine.led))) {
        this.log(`epoch ${epoch}: listed the rest of our ${mine.list.length} transfers against leader ${leader}`)
      }
    } finally {
      this.listing = false
    }
  }

  /**
   * A dispute event of the running round's epoch. As the challenged leader we answer with `answer(challenger)`, our
   * list of the challenger's receipted transfers, once its list is complete; as the challenger we resolve once the
   * leader has answered.
   */
  async onEvent(round: Round, ev: DisputeEvent, answer: (challenger: number) => ReceiptedTransfer[]): Promise<DisputeOutcome> {
    switch (ev.type) {
      case 'Challenged': {
        round.disputeOpen = true
        round.ledger.close()
        const { epoch, challenger, leader, count, listed, listDeadline, deadline } = ev
        this.open = { epoch, challenger, leader, ours: challenger === this.me, count, listed, listDeadline, deadline, answerTxs: [] }
        if (leader === this.me) this.open.answer = () => answer(challenger)
        return void (await this.answerWhenListed())
      }
      case 'ChallengeListed':
        if (!this.open) return undefined
        this.open.listed = ev.listed
        this.open.deadline = ev.deadline
        return void (await this.answerWhenListed())
      case 'Answered':
        this.open?.answerTxs.push(ev.transactionHash)
        return undefined
      case 'Responded':
        if (!this.open) return undefined
        this.open.answeredAt = this.now()
        if (!this.open.ours) return undefined
        await this.readAnswer(this.open, this.open.answerTxs)
        await this.resolve()
        return undefined
      case 'DisputeResolved':
        round.disputeOpen = false
        this.open = undefined
        if (!ev.leaderRight) {
          this.log(`epoch ${ev.epoch}: leader ${ev.leader} lost the dispute; restarting under ${ev.nextLeader}`)
          return { restartUnder: ev.nextLeader }
        }
        return ev.leader === this.me ? { contestedBy: ev.challenger } : undefined
    }
  }

  /**
   * Resolves the open dispute when it is due: once the leader answered, or once its deadline passed in silence (it
   * loses). The challenger acts at once; every other member after the grace period, in case the challenger left.
   */
  async resolveWhenDue(): Promise<void> {
    const d = this.open
    if (!d) return
    await this.listRest()
    await this.answerWhenListed()
    const now = this.now()
    const dueAt = d.answeredAt ?? (BigInt(Math.floor(now / 1000)) > d.deadline ? Number(d.deadline) * 1000 : undefined)
    if (dueAt === undefined) return
    if (d.ours || now >= dueAt + this.graceMs) await this.resolve()
  }

  /**
   * As the challenged leader, answers once the challenger's list is complete, or its time for more chunks is up (a
   * challenger that stops half way has the list it sent). One answer at a time; a failed one is tried again on the
   * next call, from where the contract's record of it stops.
   */
  private async answerWhenListed(): Promise<void> {
    const d = this.open
    if (!d?.answer || d.answering || d.answeredAt !== undefined) return
    if (d.listed < d.count && BigInt(Math.floor(this.now() / 1000)) <= d.listDeadline) return
    d.answering = true
    const list = d.answer()
    if (await this.attempt('response', () => this.chain.respond(list))) {
      this.log(`epoch ${d.epoch}: answered the challenge of member ${d.challenger} with ${list.length} transfers`)
      d.answer = undefined
    }
    d.answering = false
  }

  /**
   * What a contested checkpoint of `leader` in `epoch` counted for us (`me`) after our challenge, by transfer id: the
   * good entries of the leader's answer, read from the chain. Undefined if we have no such answer.
   */
  covered(epoch: bigint, leader: number, me: string, by: { account: string; digests: ChannelDigests }): Map<string, ReceiptedTransfer> | undefined {
    const a = this.answer
    if (!a || a.epoch !== epoch || a.leader !== leader) return undefined
    const counted = countedEntries(a.list, { epoch, me, leader: by.account, digests: by.digests })
    return new Map(counted.map((t) => [t.transfer.id, t]))
  }

  /**
   * After a restart: what the landed checkpoint of a dispute we lost counted for us, read again from the leader's
   * answer on chain (a receipt it hid is in no log we can replay). Undefined if the answer cannot be read.
   */
  async coveredAfterLoss(
    lost: LostChallenge,
    me: string,
    by: { account: string; digests: ChannelDigests },
  ): Promise<Map<string, ReceiptedTransfer> | undefined> {
    await this.readAnswer(lost, lost.answerTxs)
    return this.covered(lost.epoch, lost.leader, me, by)
  }

  private async readAnswer(d: { epoch: bigint; leader: number }, txHashes: readonly Hex[]): Promise<void> {
    try {
      const list = await this.chain.answerOf(txHashes)
      if (list) this.answer = { epoch: d.epoch, leader: d.leader, list }
      else this.log(`epoch ${d.epoch}: the leader's answer could not be read from its transactions ${txHashes.join(', ')}`)
    } catch (err) {
      this.log(`epoch ${d.epoch}: the leader's answer not read: ${errorMessage(err)}`)
    }
  }

  /** The dispute is over, or the round it belonged to. */
  closed(): void {
    this.open = undefined
  }

  private async resolve(): Promise<void> {
    await this.attempt('resolve', () => this.chain.resolve())
  }

  /** A chain call whose failure is logged, not thrown (the next poll may try again). */
  private async attempt(what: string, call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call()
      return true
    } catch (err) {
      this.log(`${what} not made: ${errorMessage(err)}`)
      return false
    }
  }
}

/** What the contract's scan of a leader's list counts for `me` (DESIGN.md section 4): the good entries. */
export function countedEntries(
  list: readonly ReceiptedTransfer[],
  c: { epoch: bigint; me: string; leader: string; digests: ChannelDigests },
): ReceiptedTransfer[] {
  const seen = new Set<string>()
  const me = c.me.toLowerCase()
  const signedBy = (digest: Hex, sig: Hex, account: string): boolean => recover(digest, sig) === account.toLowerCase()
  return list.filter((t, i) => {
    const first = !seen.has(t.transfer.id)
    seen.add(t.transfer.id)
    const { from, to, epoch, amount } = t.transfer
    const th = hashTransfer(t.transfer)
    return (
      first &&
      epoch === c.epoch &&
      from !== to &&
      (from.toLowerCase() === me || to.toLowerCase() === me) &&
      amount <= MAX_AMOUNT_WEI &&
      (i === 0 || t.seq > (list[i - 1]?.seq ?? -1)) &&
      signedBy(c.digests.of(th), t.senderSig, from) &&
      signedBy(c.digests.of(th), t.receiverSig, to) &&
      signedBy(c.digests.receipt({ transfer: th, epoch: c.epoch, seq: t.seq }), t.leaderSig, c.leader)
    )
  })
}
