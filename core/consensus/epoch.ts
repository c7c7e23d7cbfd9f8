// The running epoch across its rounds: the checkpoint it starts from, what carries over from one round to the
// next (transfers both parties signed, exit requests, leaders it may no longer have) and the round under way.
import { EpochLedger, type SignatureCheck } from '../ledger/epoch-ledger.js'
import { hashTransfer } from '../protocol/eip712.js'
import type { Entry } from '../protocol/entries.js'
import type { Hex, ReceiptedTransfer, Transfer } from '../protocol/types.js'
import type { CheckpointState, MemberRecord } from './chain-port.js'
import { MAX_COUNT } from './counted-receipts.js'
import type { Countersigned } from './leader-role.js'
import { Round } from './round.js'

/**
 * Countersigns a member may give in an epoch, as a multiple of the transfer cap. Those the leader refuses count
 * against this bound, not against the cap: a sender short of funds flooding requests at a receiver must not use up
 * the room its honest payers need (see mayCountersign). It bounds what every member keeps of another's countersigns.
 */
export const COUNTERSIGN_SLACK = 2
/**
 * The leader's refusals of one sender's payments to us as unpayable (for want of funds, or under an id already
 * paid) in a round, after which we judge its funds ourselves.
 */
const UNPAYABLE_AFTER = 2

/** A refusal of transfer `id`, whose hash is `transfer`, with the ledger's rejection code. */
export type Refusal = Pick<Extract<Entry, { type: 'reject' }>, 'id' | 'transfer' | 'reason'>

const refusalKey = (id: string, hash: Hex): string => `${id.toLowerCase()}:${hash.toLowerCase()}`

export class Epoch {
  /** Leaders this epoch may no longer have: replaced by a view change, or beaten in a dispute. */
  readonly excluded = new Set<number>()
  /**
   * Transfers both parties signed this epoch, by transfer hash, not id: a sender reusing another payment's id must
   * not put its own transfer in that one's place (a restarted round would then lose the payment the id first named).
   * Of two under one id, the leader's ledger admits one.
   */
  private readonly countersigned = new Map<Hex, Countersigned>()
  readonly exitRequests = new Set<number>()
  /** Our own receipts and proposal replayed while another member's round ran: for the round we led. */
  readonly ownLeaderEntries: Array<Extract<Entry, { type: 'receipt' | 'proposal' }>> = []
  /**
   * Receipts read this epoch, by author and seq, as written, whether a round's ledger took them or not: if a
   * checkpoint lands that no round of ours matches, they start telling what it counted (see Payments.landed).
   */
  private readonly receiptsRead = new Map<number, Map<number, ReceiptedTransfer>>()
  /**
   * Countersigns of payments we are not party to, kept as their authors wrote them while another member leads:
   * decoded only if we lead a round of this epoch (see Participant.passOver).
   */
  private kept: Array<{ author: number; bytes: Uint8Array }> = []
  /**
   * Transfers (by id and transfer hash) a leader of one of this epoch's rounds refused for good, not for want of
   * room: their senders were told, and one may have paid again, so a restarted round does not admit them. Keyed by
   * both: a refusal of another transfer under a reused id must not stand in for the refusal of this one.
   */
  private readonly refused = new Map<string, Refusal>()
  /** Countersigns seen from each member in this epoch. */
  private readonly countersignsBy = new Map<number, number>()
  /** Countersigns we gave this epoch, counted as we sign (our log brings them into countersignsBy after). */
  private given = 0
  /** Our countersigns of this epoch the leader has not answered yet, by transfer id: whose, how much, which transfer. */
  private readonly unanswered = new Map<string, { from: number; amount: bigint; hash: Hex }>()
  /** How many of our countersigns the leader refused this epoch (they do not count against our cap). */
  private refusedOfOurs = 0
  /** By sender: how many of its payments to us the round's leader refused as unpayable. */
  private readonly unpayable = new Map<number, number>()
  /**
   * Refusals for want of funds by members that lead no round of this epoch yet, by author, id and transfer hash: a
   * view change may make the author leader after we read them (see Participant, case 'reject'). At most
   * COUNTERSIGN_SLACK times the cap per author: a member flooding them fills its own share, not our memory.
   */
  private readonly refusalsAhead = new Map<number, Map<string, Refusal>>()
  /** By sender: how many of its requests to us we refused in our log this epoch (see mayRefuse). */
  private readonly refusalsTo = new Map<number, number>()
  private current: Round | undefined
  /** The last round of this epoch we led: what we answer a challenge with, and whose proposal may still land. */
  led: Round | undefined
  /** Every round of the epoch, oldest first: a checkpoint that lands may be any leader's. */
  readonly rounds: Round[] = []

  constructor(
    readonly number: bigint,
    /** The last checkpoint on chain, which every round starts from. */
    readonly last: CheckpointState,
    private readonly txCap: number,
    private readonly check: SignatureCheck,
  ) {}

  /**
   * The transfers a landed checkpoint of this epoch covers, by id (as receipted), when one of our rounds holds
   * exactly its receipts (same leader, and the root of its first `count` receipts is the checkpoint's).
   */
  covered(leader: number, count: number, root: Hex): Map<string, ReceiptedTransfer> | undefined {
    const basis = this.rounds.find((r) => r.leader === leader && r.ledger.rootOf(count) === root)
    return basis && new Map(basis.ledger.receipts().slice(0, count).map((t) => [t.transfer.id, t]))
  }

  /**
   * Nothing happened in the epoch so far: no receipt or countersigned transfer, no exit request, and the members and
   * their deposits are those of the last checkpoint. Such an epoch need not go on chain.
   */
  idle(members: readonly MemberRecord[]): boolean {
    return (
      this.round.ledger.seq === 0 &&
      this.countersigned.size === 0 &&
      this.kept.length === 0 &&
      this.exitRequests.size === 0 &&
      members.length === this.last.deposited.length &&
      members.every((m, i) => m.exited || m.deposit === this.last.deposited[i])
    )
  }

  /**
   * Whether we may write one more refusal of a request by `sender` this epoch, counting it if so: at most the cap's
   * worth, as many as the countersigns it could have from us. Past that its refused requests go unanswered (sent
   * again next epoch, as any payment the epoch did not receipt): a sender at its cap, or a member that exited or
   * joined mid-epoch, must not have us write (and every member read) a refusal for each request of a flood.
   */
  mayRefuse(sender: number): boolean {
    const n = this.refusalsTo.get(sender) ?? 0
    if (n >= this.txCap) return false
    this.refusalsTo.set(sender, n + 1)
    return true
  }

  /** Keeps a transfer both parties signed, for this epoch's rounds (a round restarted after a view change admits it). */
  keepCountersigned(c: Countersigned): void {
    this.countersigned.set(hashTransfer(c.transfer), c)
  }

  /**
   * The transfers earlier rounds of the epoch receipted whose countersign we do not keep (skipped from a member muted
   * for junk, say), each with the leader that receipted it (`by`): each receipt carries both parties' signatures,
   * which stand in for it. From those rounds' ledgers and from what their leaders wrote that we read only after they
   * were replaced (a restarted member replays the logs in no fixed order), newest round first. Only those `wanted`
   * says, not refused for good, and at most the cap's worth per leader and receiver (no round can receipt more): what
   * an earlier leader wrote costs us hashing and signature checks, it may have written as many receipts as a
   * checkpoint can count, and its made-up ones must not take the room of another leader's.
   */
  receiptedWithoutCountersign(wanted: (by: number, t: Transfer) => boolean): Array<{ by: number; c: Countersigned }> {
    const missing = new Map<Hex, { by: number; c: Countersigned }>()
    const taken = new Map<string, number>() // by leader and receiver
    const earlier = this.rounds.slice(0, -1).reverse()
    const sources = earlier.flatMap((r) => [r.ledger.receipts(), this.receiptsBy(r.leader)].map((receipts) => ({ by: r.leader, receipts })))
    for (const { by, receipts } of sources) {
      for (const { transfer, senderSig, receiverSig } of receipts) {
        const key = `${by}:${transfer.to}`
        const n = taken.get(key) ?? 0
        if (n >= this.txCap || !wanted(by, transfer)) continue
        const hash = hashTransfer(transfer)
        if (this.countersigned.has(hash) || missing.has(hash) || this.refused.has(refusalKey(transfer.id, hash))) continue
        taken.set(key, n + 1)
        missing.set(hash, { by, c: { transfer, senderSig, receiverSig } })
      }
    }
    return [...missing.values()]
  }

  /** Whether `author` may give one more countersign this epoch (see countersignFrom), without counting it. */
  countersignRoom(author: number): boolean {
    return (this.countersignsBy.get(author) ?? 0) < COUNTERSIGN_SLACK * this.txCap
  }

  /** Whether a countersign of transfer `t` is kept. */
  keeps(t: Transfer): boolean {
    return this.countersigned.has(hashTransfer(t))
  }

  /** Whether this very countersign (the same transfer, the same receiver signature) is kept already. */
  holdsCountersign(c: Countersigned): boolean {
    return this.countersigned.get(hashTransfer(c.transfer))?.receiverSig === c.receiverSig
  }

  /** A receipt `author` wrote of this epoch; at most as many per author as a checkpoint can count. */
  noteReceipt(author: number, tx: ReceiptedTransfer): void {
    if (tx.transfer.epoch !== this.number) return
    let read = this.receiptsRead.get(author)
    if (!read) this.receiptsRead.set(author, (read = new Map()))
    if (read.size < MAX_COUNT && !read.has(tx.seq)) read.set(tx.seq, tx) // as many as a checkpoint can count
  }

  /** The receipts `author` wrote of this epoch that we read. */
  receiptsBy(author: number): ReceiptedTransfer[] {
    return [...(this.receiptsRead.get(author)?.values() ?? [])]
  }

  /** Counts a countersign by `author`; false once it has given more than a member may in an epoch. */
  countersignFrom(author: number): boolean {
    const n = (this.countersignsBy.get(author) ?? 0) + 1
    this.countersignsBy.set(author, n)
    return n <= COUNTERSIGN_SLACK * this.txCap
  }

  /**
   * Whether we (member `me`) may countersign one more payment this epoch. At most the cap of them may be admitted
   * or still unanswered (the leader cannot count more for us), and at most COUNTERSIGN_SLACK times the cap in all:
   * past that every member would refuse our countersign and blame us for it (muted after a few dozen, our vote then
   * unheard). A payment we do not answer waits for the next epoch. Our own countersigns read back from our log
   * after a restart count too (those the leader refused before it then count as if admitted: fewer, not more).
   */
  mayCountersign(me: number): boolean {
    const n = this.givenBy(me)
    return n < COUNTERSIGN_SLACK * this.txCap && n - this.refusedOfOurs < this.txCap
  }

  /** Countersigns we (member `me`) gave this epoch: counted as we sign, or read back from our log after a restart. */
  private givenBy(me: number): number {
    return Math.max(this.given, this.countersignsBy.get(me) ?? 0)
  }

  /**
   * We (member `me`) countersigned transfer `t` from member `from`: counted, and unanswered until the leader receipts
   * or refuses it.
   */
  countersigning(me: number, t: Transfer, from: number): void {
    this.given = this.givenBy(me) + 1
    this.unanswered.set(t.id, { from, amount: t.amount, hash: hashTransfer(t) })
  }

  /**
   * A leader of this epoch receipted transfer `t`: if we countersigned it, it is answered. If we countersigned
   * another under its id (its sender reusing it), ours never will be (the ledger refuses a paid id without a word):
   * it is taken as refused.
   */
  leaderReceipted(t: Transfer): void {
    const ours = this.unanswered.get(t.id)
    if (!ours) return
    this.unanswered.delete(t.id)
    if (ours.hash !== hashTransfer(t)) this.refusedOne(ours.from, true)
  }

  /**
   * A leader of this epoch refused the transfer `id` with hash `hash` for `reason`. If we countersigned it, it
   * leaves room under our cap, and refused for want of funds by the running round's leader (`current`) it counts
   * against its sender.
   */
  leaderRefused(id: string, hash: Hex, reason: string, current: boolean): void {
    const ours = this.unanswered.get(id)
    if (!ours || ours.hash !== hash.toLowerCase()) return
    this.unanswered.delete(id)
    this.refusedOne(ours.from, current && reason === 'OVERDRAFT')
  }

  private refusedOne(from: number, unpayable: boolean): void {
    this.refusedOfOurs++
    if (unpayable) this.unpayable.set(from, (this.unpayable.get(from) ?? 0) + 1)
  }

  /**
   * Whether a payment of `amount` from member `from` is short of funds by our own count: judged only for a sender
   * the round's leader refused as unpayable a few times (our view of a balance lags the leader's, so an honest
   * sender is not held to it), and then what we countersigned for it and the leader has not answered counts as
   * spent: a burst of requests each within its balance is short together.
   */
  shortOfFunds(from: number, amount: bigint, balance: bigint): boolean {
    if ((this.unpayable.get(from) ?? 0) < UNPAYABLE_AFTER) return false
    let pending = 0n
    for (const u of this.unanswered.values()) if (u.from === from) pending += u.amount
    return balance - pending < amount
  }

  /**
   * Keeps an undecoded countersign by `author`, counted against the transfer cap; false (nothing kept, nothing
   * counted) once the author is at the cap: the decoded path then blames it.
   */
  keepCountersign(author: number, bytes: Uint8Array): boolean {
    const n = this.countersignsBy.get(author) ?? 0
    if (n >= COUNTERSIGN_SLACK * this.txCap) return false
    this.countersignsBy.set(author, n + 1)
    // A copy: the bytes may be a view into a whole log block, which would stay in memory with it.
    this.kept.push({ author, bytes: bytes.slice() })
    return true
  }

  /**
   * The transfers a restarted round admits, in an order that spends nothing before it is brought where one is known:
   * those the round it replaces receipted (which we read), in their order there, then the others as they came. Those
   * a leader refused for good are left out.
   */
  readmitOrder(): Countersigned[] {
    // The latest earlier round with receipts (one cut short by a quick second view change may have none).
    const replaced = this.rounds.slice(0, -1).reverse().find((r) => r.ledger.seq > 0)
    const seq = new Map(replaced?.ledger.receipts().map((t) => [hashTransfer(t.transfer), t.seq]))
    const place = (c: Countersigned): number => seq.get(hashTransfer(c.transfer)) ?? Number.MAX_SAFE_INTEGER // sort is stable
    return [...this.countersigned.values()].filter((c) => !this.refusedForGood(c.transfer)).sort((a, b) => place(a) - place(b))
  }

  /** Whether a leader of the epoch refused this transfer for good (its id and its hash both match). */
  refusedForGood(t: Transfer): boolean {
    return this.refusalOf(t) !== undefined
  }

  /** A leader of the epoch's refusal for good of this transfer, if one was noted. */
  refusalOf(t: Transfer): Refusal | undefined {
    return this.refused.size === 0 ? undefined : this.refused.get(refusalKey(t.id, hashTransfer(t)))
  }

  /** Transfers both parties signed that a leader of the epoch refused for good: those refusals. */
  refusedCountersigned(): Refusal[] {
    if (this.refused.size === 0) return []
    return [...this.countersigned.values()].flatMap((c) => this.refusalOf(c.transfer) ?? [])
  }

  /** A leader of one of this epoch's rounds refused a transfer for good; at most MAX_COUNT kept. */
  noteRefusal(r: Refusal): void {
    const key = refusalKey(r.id, r.transfer)
    if (this.refused.size < MAX_COUNT && !this.refused.has(key)) this.refused.set(key, { id: r.id, transfer: r.transfer, reason: r.reason })
  }

  /**
   * Keeps a refusal by `author`, which leads no round of this epoch yet, for the round a view change may give it;
   * false (not kept) past its share. Only a refusal for want of funds: the one refusal for good a receiver never
   * writes (so members flooding an honest receiver with requests cannot fill its share here) and the one a later
   * leader may answer otherwise, funds depending on the order transfers are admitted in.
   */
  refusalAhead(author: number, r: Refusal): boolean {
    if (r.reason !== 'OVERDRAFT') return false
    let kept = this.refusalsAhead.get(author)
    if (!kept) this.refusalsAhead.set(author, (kept = new Map()))
    const key = refusalKey(r.id, r.transfer)
    if (kept.has(key)) return true
    if (kept.size >= COUNTERSIGN_SLACK * this.txCap) return false
    kept.set(key, { id: r.id, transfer: r.transfer, reason: r.reason })
    return true
  }

  /** The refusals `leader` gave before leading a round of this epoch, handed over once. */
  takeRefusalsAhead(leader: number): Refusal[] {
    const kept = this.refusalsAhead.get(leader)
    this.refusalsAhead.delete(leader)
    return [...(kept?.values() ?? [])]
  }

  /** The countersigns kept undecoded, handed over once. */
  takeKept(): Array<{ author: number; bytes: Uint8Array }> {
    return this.kept.splice(0)
  }

  get round(): Round {
    if (!this.current) throw new Error('the epoch has no round yet')
    return this.current
  }

  /** A (re)start of the epoch under `leader`, from the last checkpoint, over the members as they are now. */
  newRound(leader: number, members: readonly MemberRecord[], me: number): Round {
    const ledger = new EpochLedger(
      {
        epoch: this.number,
        leader,
        members: members.map((m) => m.account),
        exited: members.map((m) => m.exited),
        balances: members.map((m, i) => (m.exited ? 0n : (this.last.balances[i] ?? 0n))),
        txCap: this.txCap,
      },
      this.check,
    )
    this.unpayable.clear() // what one leader said of a sender's funds is not held against it under the next
    this.current = new Round(this.number, leader, ledger)
    this.rounds.push(this.current)
    if (leader === me) this.led = this.current
    return this.current
  }
}
