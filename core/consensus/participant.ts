// One member of a channel (DESIGN.md sections 1, 3 and 5): routes every log entry, chain event and timer to the
// room that handles it (member role, leader role, round timers, view change, disputes, a majority's checkpoint,
// payments) and moves through epochs and their rounds.
//
// Entries, chain events and timers run through one serial queue, so their state changes happen one at a time.
// `send` and `requestExit` act at once: they only record a payment of ours and write an entry to our own log.
import { EventEmitter } from 'node:events'
import { entryEpoch, peekTransferEntry, type Entry } from '../protocol/entries.js'
import { fromHex } from '../protocol/bytes.js'
import { recover, sign } from '../protocol/fast-ecdsa.js'
import { accountOf, ChannelDigests, randomTransferId } from '../protocol/signatures.js'
import { makeTransfer, MAX_AMOUNT_WEI, type Checkpoint, type Hex, type ReceiptedTransfer, type Transfer } from '../protocol/types.js'
import type { ChannelEvent, CheckpointState } from './chain-port.js'
import { ChainWatch, checkpointHistory, type LostChallenge } from './chain-watch.js'
import { honestConduct, type Conduct, type ConductView } from './conduct.js'
import { Disputes, isDisputeEvent, type DisputeEvent } from './disputes.js'
import { Epoch, type Refusal } from './epoch.js'
import { Inbox } from './inbox.js'
import { LeaderRole, type Countersigned } from './leader-role.js'
import { MemberList } from './member-list.js'
import { MajorityCheckpoint } from './majority-checkpoint.js'
import { MemberRole } from './member-role.js'
import { Misbehaviour } from './misbehaviour.js'
import { OwnLog } from './own-log.js'
import type { ParticipantEvents, ParticipantOptions, Timing } from './participant-types.js'
import { Payments, refusedForGood, type TransferRecord } from './payments.js'
import type { EpochProgress, Round } from './round.js'
import { RoundTimers } from './round-timers.js'
import { SerialQueue, systemClock } from './serial-queue.js'
import { ViewChange } from './view-change.js'
import { errorMessage } from '../util/error-message.js'

export { TransferRejected, type TransferRecord, type TransferStatus } from './payments.js'
export type { EpochProgress } from './round.js'
export type { ParticipantEvents, ParticipantOptions, Timing } from './participant-types.js'

/** How often a majority's checkpoint not judged yet looks whether our ledger holds its leader's receipts. */
const POLL_PROPOSAL_MS = 100

/** How often the chain is read while its node tells us of new blocks: in case a notice was lost. */
const BLOCK_NOTICE_FALLBACK_MS = 2000
/** Entries whose handling costs signature work or a write of ours: what a muted member does not get. */
function costsWork(e: Entry): boolean {
  return e.type === 'request' || e.type === 'countersign' || e.type === 'proposal' || e.type === 'vote'
}

/** Entries waiting in the queue above which reading the logs pauses. */
const MAX_BACKLOG = 2000

export class Participant extends EventEmitter<ParticipantEvents> {
  readonly index: number
  readonly address: string
  /** Invalid entries seen from each author (undecodable, wrongly signed, not theirs to send), skipped ones included. */
  readonly misbehaviour: ReadonlyMap<number, number>
  /** Entries of each author passed over (no signature work, no write) while it was muted for sending junk. */
  readonly skipped: ReadonlyMap<number, number>

  private readonly timing: Timing
  private readonly queue: SerialQueue
  private readonly blame: Misbehaviour
  private readonly ownLog: OwnLog
  private readonly inbox: Inbox
  private readonly members: MemberList
  private readonly payments = new Payments((r) => this.emit('transfer', r))
  private readonly viewChange: ViewChange
  private readonly watch: ChainWatch
  private readonly disputes: Disputes
  private readonly majority: MajorityCheckpoint
  private readonly conduct: Conduct
  private readonly log: (line: string) => void
  private digests!: ChannelDigests
  private leaderRole!: LeaderRole
  private memberRole!: MemberRole
  private timers!: RoundTimers
  private txCap = 0
  private challengeWindowMs = 0
  private epoch!: Epoch
  private unsubscribe: (() => void) | undefined
  private throttled = false
  /** Our account's 20 bytes, as entries carry it: compared with a payment's parties without decoding its entry. */
  private readonly accountBytes: Buffer

  constructor(private readonly opts: ParticipantOptions) {
    super()
    this.index = opts.index
    this.address = accountOf(opts.privateKey)
    this.accountBytes = fromHex(this.address, 20)
    this.timing = opts.timing
    this.conduct = opts.conduct ?? honestConduct
    const log = (this.log = opts.log ?? (() => {}))
    const clock = opts.clock ?? systemClock
    this.queue = new SerialQueue(clock, (err) => log(`error: ${errorMessage(err)}`))
    this.blame = new Misbehaviour(log)
    this.misbehaviour = this.blame.counts
    this.skipped = this.blame.skipped
    this.ownLog = new OwnLog(opts.transport, log, (e) => this.recipients(e))
    this.inbox = new Inbox(this.blame)
    this.members = opts.members ?? new MemberList(opts.chain)
    const graceMs = 2 * opts.timing.leaderTimeoutMs
    this.disputes = new Disputes(opts.index, opts.chain, () => clock.now(), graceMs, log)
    this.majority = new MajorityCheckpoint(opts.index, opts.chain, () => clock.now(), graceMs, log)
    const arm = (ms: number, task: () => void): void => this.queue.arm(ms, task)
    const { leaderTimeoutMs } = opts.timing
    this.viewChange = new ViewChange({ me: opts.index, members: this.members, ownLog: this.ownLog, arm, leaderTimeoutMs, log })
    const onEvents = (events: ChannelEvent[]): void => {
      for (const ev of events) this.queue.run(() => this.onChainEvent(ev))
      this.queue.run(() => this.disputes.resolveWhenDue())
      this.queue.run(() => this.majority.finalizeWhenDue(this.epoch.last))
    }
    this.watch = new ChainWatch(opts.chain, onEvents, log)
  }

  async start(): Promise<void> {
    const chain = this.opts.chain
    this.digests = new ChannelDigests(await chain.domain())
    const roles = { me: this.index, digests: this.digests, sign: (d: Hex) => sign(this.opts.privateKey, d), members: this.members }
    const shared = { ...roles, ownLog: this.ownLog, misbehaviour: this.blame, conduct: this.conduct, view: (r: Round) => this.view(r), log: this.log }
    const receipted = (tx: ReceiptedTransfer): void => {
      this.payments.receipted(tx, this.index)
      this.epoch.leaderReceipted(tx.transfer)
    }
    this.leaderRole = new LeaderRole({ ...shared, chain, receipted, submitted: () => void this.watch.read() })
    const idle = async (): Promise<boolean> => this.epoch.idle(await this.members.refresh())
    this.timers = new RoundTimers(this.index, this.timing, this.queue, this.leaderRole, this.viewChange, () => this.closeEpoch(), () => this.round, idle)
    const { payments, disputes, address, timing } = this
    const later = (ms: number, task: () => Promise<void> | void): void => this.queue.after(ms, task)
    const current = (): Round => this.round
    this.memberRole = new MemberRole({ ...shared, address, payments, disputes, current, later, leaderTimeoutMs: timing.leaderTimeoutMs })
    const params = await chain.params()
    this.txCap = params.txCap
    this.challengeWindowMs = Number(params.challengeWindow ?? 0n) * 1000
    await this.members.refresh()
    const banned = await chain.bannedLeaders()
    // The status and the events up to `head` must agree: a checkpoint landing between the two reads (found by the
    // soak: a majority's, finalized just as a member restarted) would be in neither the status nor what we watch
    // from head + 1, and the member would stay in that epoch, its payments never shown final. Read again then.
    let status, head, history
    do {
      status = await chain.status()
      head = await chain.blockNumber()
      history = await checkpointHistory(chain, head, status.checkpointedEpoch, this.payments.counted.checkpoints)
    } while (this.payments.counted.checkpoints.has(status.checkpointedEpoch + 1n))
    const { last, waiting, lost } = history
    for (const l of lost) if (l.challenger === this.index) await this.recallLoss(l)
    this.beginEpoch(status.runningEpoch, last, status.leader)
    // A majority's checkpoint that went on chain while we were away: checked once the logs had time to replay.
    if (waiting) this.queue.after(this.timing.leaderTimeoutMs, () => this.onMajorityCheckpoint(waiting.checkpoint, waiting.unsignedMask, waiting.deadline))
    for (let i = 0; i < 64; i++) if ((banned >> BigInt(i)) & 1n) this.epoch.excluded.add(i)
    this.unsubscribe = this.opts.transport.subscribe((author, position, bytes, pushed) => this.receive(author, position, bytes, pushed))
    this.watch.start(head + 1, this.timing.chainPollMs)
  }

  /** A dispute we lost whose leader's checkpoint landed: the payments it counted are final, receipt or not. */
  private async recallLoss(l: LostChallenge): Promise<void> {
    this.payments.lostDispute(l.epoch, l.leader)
    if (this.payments.counted.checkpoints.get(l.epoch)?.leader !== l.leader) return // a later round's checkpoint landed
    const leader = { account: this.members.get(l.leader)?.account ?? '', digests: this.digests }
    const covered = await this.disputes.coveredAfterLoss(l, this.address, leader)
    if (covered) this.payments.coveredInPast(l.epoch, covered)
  }

  /** The chain has a new block (its node told us): read it now. */
  chainMoved(): void {
    void this.watch.read()
  }

  /**
   * Whether the chain's node tells us of new blocks (`chainMoved`): while it does, the chain is polled only as a
   * fallback, every BLOCK_NOTICE_FALLBACK_MS.
   */
  blockNotices(live: boolean): void {
    this.watch.pace(live ? Math.max(this.timing.chainPollMs, BLOCK_NOTICE_FALLBACK_MS) : this.timing.chainPollMs)
  }

  /** Stops reacting; what the logs and the chain hold stays. Resolves once the task under way is done. */
  stop(): Promise<void> {
    this.unsubscribe?.()
    this.watch.stop()
    this.ownLog.close()
    this.payments.abandon()
    return this.queue.stop()
  }

  private get round(): Round {
    return this.epoch.round
  }

  get runningEpoch(): bigint {
    return this.round.epoch
  }

  get currentLeader(): number {
    return this.round.leader
  }

  balanceOf(index: number): bigint {
    return this.round.ledger.balanceOf(index)
  }

  /** Where the running epoch stands: trading, or voting on a proposal (who voted, who is awaited), or disputed. */
  progress(): EpochProgress {
    return this.round.progress((i) => this.members.exited(i))
  }

  /** This member's own transfers, sent and received, newest last. */
  transfers(): TransferRecord[] {
    return this.payments.all()
  }

  /** Sends `amount` wei to member `to`; resolves when the leader receipts it, rejects if anyone refuses it. */
  async send(to: number, amount: bigint): Promise<TransferRecord> {
    if (this.queue.stopped) throw new Error('participant stopped')
    // Checked before the payment is recorded: one that could never settle would be sent again every epoch.
    if (amount <= 0n || amount > MAX_AMOUNT_WEI) throw new RangeError(`the amount must be between 1 and ${MAX_AMOUNT_WEI} wei`)
    if (!this.members.get(to)) await this.members.refresh() // perhaps a member that joined a moment ago
    const receiver = this.members.get(to)
    if (!receiver || receiver.exited || to === this.index) throw new RangeError(`member ${to} cannot be paid`)
    const round = this.round
    const { record, done } = this.payments.open(makeTransfer(randomTransferId(), round.epoch, this.address, receiver.account, amount))
    // The request would only be refused while the epoch is closing, or while either party joined too late to be in
    // it: it goes out with the next epoch.
    if (round.trading(this.address, receiver.account)) this.request(record)
    else this.payments.hold(record)
    return done
  }

  /** As leader, closes the running epoch now instead of at its time limit (no effect for a member). */
  closeEpochNow(): void {
    this.queue.run(() => this.closeEpoch())
  }

  /** Asks to leave the channel with the checkpoint of the running epoch. */
  requestExit(): void {
    this.ownLog.append({ type: 'exit', epoch: this.round.epoch })
  }

  private request(record: TransferRecord): void {
    const senderSig = sign(this.opts.privateKey, this.digests.transfer(record.transfer))
    this.ownLog.append({ type: 'request', transfer: record.transfer, senderSig })
  }

  /** A payment of ours a past epoch's checkpoint is now known not to have counted: it goes out again. */
  private resend(record: TransferRecord): void {
    const round = this.round
    const trading = round.trading(this.address, record.transfer.to)
    this.payments.resend(record, trading ? round.epoch : undefined, (r) => this.request(r))
  }

  private isLeader(): boolean {
    return this.round.leader === this.index
  }

  private view(round: Round): ConductView {
    const accounts = this.members.all.map((m) => m.account)
    return { epoch: round.epoch, me: this.index, accounts, receipts: round.ledger.receipts(), digests: this.digests }
  }

  private receive(author: number, position: number, bytes: Uint8Array, pushed = false): void {
    if (pushed) {
      // A muted member's pushes are dropped undecoded: its log still brings them, to be read as below.
      if (this.blame.muted(author)) return this.blame.skip(author)
      const entry = this.inbox.takePushed(author, position, bytes)
      if (entry) this.queue.run(() => this.handlePushed(author, entry))
      return
    }
    const entry = this.inbox.take(author, position, bytes, (b) => author !== this.index && this.passOver(author, b))
    if (!entry) return
    if (author === this.index) this.ownLog.remember(entry)
    this.queue.run(() => (author === this.index ? this.recall(entry) : this.handle(author, entry)))
    if (this.queue.backlog > MAX_BACKLOG) this.throttle()
  }

  /**
   * Whether another member's entry is passed over undecoded (DESIGN.md section 3: a member not party to a payment
   * does no per-payment work for it): a request of this epoch neither from nor to us, by its sender (only its
   * receiver acts on it), or such a countersign by its receiver while we do not lead. The countersign is kept as it
   * came, within its author's cap, for a round of this epoch we may lead after a view change (startRound decodes it
   * then). Anything else, or anything from a member muted for junk, goes the usual way: decoded, checked, blamed if
   * wrong.
   */
  private passOver(author: number, bytes: Uint8Array): boolean {
    const head = peekTransferEntry(bytes)
    if (!head || head.epoch !== this.epoch.number || author >= this.members.count || this.blame.muted(author)) return false
    if (this.accountBytes.equals(head.from) || this.accountBytes.equals(head.to)) return false
    // Only an entry its author may write is passed over: a request is its sender's, a countersign its receiver's.
    // Any other is decoded and blamed, by every member (a countersign kept instead would have every member but the
    // leader hold what the leader refuses, and judge an idle epoch busy).
    if (!this.members.accountBytes(author)?.equals(head.type === 'request' ? head.from : head.to)) return false
    if (head.type === 'request') return true
    return !this.isLeader() && this.epoch.keepCountersign(author, bytes)
  }

  /** Reading the logs outpaces handling them: stop reading until the backlog is worked off (bounded memory). */
  private throttle(): void {
    const { transport } = this.opts
    if (this.throttled || !transport.pause || !transport.resume) return
    this.throttled = true
    transport.pause()
    void this.queue.idle().then(() => {
      this.throttled = false
      transport.resume?.()
    })
  }

  /**
   * Our own entries coming back: live ones are already applied; after a restart they rebuild what we had said
   * (payments, receipts, proposal, vote) before anyone else's entries are heard.
   */
  private async recall(e: Entry): Promise<void> {
    const round = this.round
    if (entryEpoch(e) < round.epoch) return void this.payments.rememberPast(e, this.index, true)
    this.payments.recall(e)
    if (e.type === 'receipt' || e.type === 'proposal') {
      if (this.isLeader()) return this.leaderRole.recall(round, e)
      // We led a later round of this epoch (a view change we have not replayed yet): kept until that round starts,
      // or we would receipt the same transfers again under new seqs.
      return void this.epoch.ownLeaderEntries.push(e)
    }
    if (e.type === 'vote') return this.memberRole.recallVote(round, e.epoch, e.leader)
    if (e.type !== 'request') return this.handle(this.index, e)
  }

  /**
   * An entry pushed to us ahead of its log. A receipt of our own payment shows at once (its leader's signature
   * checked); the ledger takes it, and every proposal and confirmation, when the log brings them in order.
   */
  private async handlePushed(author: number, e: Entry): Promise<void> {
    if (e.type === 'receipt') return this.isLeader() ? undefined : this.memberRole.receiptPushed(this.round, author, e.tx)
    if (e.type !== 'proposal' && e.type !== 'confirm') return this.handle(author, e)
  }

  /** The members that must act on our entry now: it is pushed to them once stored. */
  private recipients(e: Entry): number[] {
    const others = (list: ReadonlyArray<number | undefined>): number[] =>
      [...new Set(list)].filter((i): i is number => i !== undefined && i !== this.index)
    switch (e.type) {
      case 'request':
        return others([this.members.indexOf(e.transfer.to)])
      case 'countersign':
        return others([this.round.leader])
      case 'receipt':
        return this.members.parties(e.tx.transfer, this.index)
      case 'vote':
        return others([e.leader])
      default:
        return others(this.members.all.filter((m) => !m.exited).map((m) => m.index))
    }
  }

  private async handle(author: number, e: Entry): Promise<void> {
    if (entryEpoch(e) < this.round.epoch) {
      for (const unpaid of this.payments.rememberPast(e, author, author === this.index)) this.resend(unpaid)
      return
    }
    if (author >= this.members.count) await this.members.refresh() // a member that joined since we last looked
    if (author >= this.members.count) return this.blame.blame(author, 'not a member')
    if (e.type === 'receipt') this.epoch.noteReceipt(author, e.tx)
    const round = this.round
    // A member that sent junk enough this epoch gets no signature work or log write from us until the next (but for
    // its first proposal of a round it leads, see mutedLeaderHeard); its other entries (receipts it wrote as a
    // leader, past epochs' entries) are still read, as they cost nothing.
    const when = this.inbox.timing(author, e, round, this.epoch.excluded)
    if (this.blame.muted(author) && costsWork(e) && !this.mutedLeaderHeard(round, author, e, when)) return this.blame.skip(author)
    if (when === 'later' && !this.inbox.defer(author, e, round.epoch)) this.blame.blame(author, 'entry too far ahead, or too many early ones')
    if (when === 'never' && e.type === 'receipt') return this.lateReceipt(author, round, e.tx)
    if (when !== 'now') return
    switch (e.type) {
      case 'request': {
        const c = this.memberRole.request(round, this.epoch, author, e.transfer, e.senderSig)
        // A paid leader receipts at once rather than when its countersign comes back from its log: the receipt
        // goes out in the same block, one log write instead of two. (The countersign's return finds it admitted.)
        if (c && this.isLeader()) this.onCountersign(this.index, c)
        return
      }
      case 'countersign':
        return this.onCountersign(author, e)
      case 'receipt':
        if (this.isLeader()) return // the leader's own is applied already
        this.memberRole.receipt(round, author, e.tx)
        return this.epoch.leaderReceipted(e.tx.transfer)
      case 'reject': {
        const thisEpoch = e.epoch === this.epoch.number
        const leads = thisEpoch && this.epoch.rounds.some((r) => r.leader === author)
        // Our own stands whatever round we replay it in after a restart: as leader, or as a receiver refusing what
        // it never countersigned (so noting that one leaves out nothing a round could admit).
        const ours = thisEpoch && author === this.index
        if (leads || ours) this.leaderRefused(e, author === round.leader)
        // From a member that leads no round of the epoch yet, a view change may still make it leader after we read
        // this (its pushes can outrun the votes; a restarted member replays the logs in no fixed order): kept, and
        // taken as its leader's word when its round starts (startRound).
        const ahead = thisEpoch && !leads && !ours && this.epoch.refusalAhead(author, e)
        const judges = (to: string): boolean => author === round.leader || author === this.members.indexOf(to)
        // A replaced leader's refusal read late is its word in its round (noted above), not the running leader's: our
        // payment stays open (that leader may not have heard it), and the author is not to blame.
        if (!this.payments.refused(e.id, e.transfer, e.reason, judges) && !ahead && !leads) this.blame.blame(author, 'rejection of a transfer not its to judge')
        return
      }
      case 'proposal':
        if (this.isLeader()) return
        // Once the leader spoke, the vote (or a challenge, which may wait up to two timeouts) gets time before a
        // view change.
        return this.memberRole.proposal(round, author, e.checkpoint, e.sig, this.epoch, () => this.timers.leaderSpoke(round))
      case 'vote':
        if (e.leader === round.leader) round.votesSeen.add(author) // for progress; the leader checks the signature
        if (e.leader !== this.index) return
        if (this.isLeader()) return this.leaderRole.vote(round, author, e.sig, this.epoch.last)
        // For a round of ours we have not started yet: restarted, we read the votes before the view change that made
        // us leader, and nobody votes twice. Kept for that round, within its author's share of held entries (spent
        // if a view change replaced us; dropped unblamed past the share, as a vote against a leader is).
        return void (this.epoch.excluded.has(this.index) || this.inbox.defer(author, e, round.epoch))
      case 'confirm':
        return void this.watch.read()
      case 'view-change': {
        // A vote against a leader we have not switched to yet waits for that round; one against a replaced leader
        // is spent.
        if (e.leader !== round.leader) return void (this.epoch.excluded.has(e.leader) || this.inbox.defer(author, e, round.epoch))
        const next = this.viewChange.vote(round, author, this.epoch.excluded)
        if (next === undefined) return
        this.emit('view-change', { epoch: round.epoch, from: e.leader, to: next })
        return this.startRound(next)
      }
      case 'exit':
        this.epoch.exitRequests.add(author)
        return
    }
  }

  /**
   * Whether this entry of a muted member is its first proposal as the round's leader: let through all the same,
   * once a round. A view change never gives a member a second round of an epoch, so when every other member has led
   * one, nobody can replace this leader, and skipping its proposal would stop the channel for good. One for a round
   * it does not lead yet (`when`: later) is held like any other's, within its author's share: a view change to it may
   * reach us after its proposal (pushed to all at once).
   */
  private mutedLeaderHeard(round: Round, author: number, e: Entry, when: 'now' | 'later' | 'never'): boolean {
    if (e.type !== 'proposal') return false
    if (when === 'later') return true
    if (author !== round.leader || round.mutedProposalHeard) return false
    round.mutedProposalHeard = true
    return true
  }

  /**
   * A replaced leader's receipt read after our round started (its log read late): as leader, a payment it receipted
   * to a member muted for junk whose countersign we do not hold is admitted, as startRound would have (its sender may
   * have been told it is paid). Counted against the receiver's share of countersigns, as its own would have been
   * (two members colluding cannot make us check signatures without end); the ledger's cheap checks come first, and a
   * receipt its parties did not both sign is blamed on that leader (muted in turn, its receipts then passed over).
   * One its sender cannot pay now is kept for a later round of the epoch, not refused: that leader found it paid.
   */
  private lateReceipt(author: number, round: Round, { transfer, senderSig, receiverSig }: ReceiptedTransfer): void {
    const to = this.members.indexOf(transfer.to) ?? -1
    if (!this.isLeader() || transfer.epoch !== round.epoch || !this.blame.muted(to) || !this.epoch.rounds.some((r) => r.leader === author)) return
    if (!round.trading(transfer.from, transfer.to) || round.proposal || round.ledger.holdsId(transfer.id)) return
    if (this.blame.muted(author)) return this.blame.skip(author)
    if (this.epoch.keeps(transfer) || this.epoch.refusedForGood(transfer) || !this.epoch.countersignRoom(to)) return
    const c = { transfer, senderSig, receiverSig }
    const r = this.leaderRole.admitReceipted(round, c, author)
    if (r === 'junk') return // blamed on that leader
    if (r === 'overdrawn' && !this.receiptSigned(author, c)) return
    this.epoch.countersignFrom(to)
    if (r === 'refused') return // answered in our log, as its countersign would have been
    this.epoch.keepCountersigned(c)
    if (round.ledger.capReached) this.closeAtCap()
  }

  /** Whether both parties signed the transfer an earlier round's leader `by` receipted; if not, `by` is blamed. */
  private receiptSigned(by: number, c: Countersigned): boolean {
    if (this.leaderRole.signedByBoth(c)) return true
    this.blame.blame(by, 'receipt of a transfer its parties did not both sign')
    return false
  }

  /** A refusal by a leader of one of the epoch's rounds (`current`: the running one's). */
  private leaderRefused(r: Refusal, current: boolean): void {
    // Its answer to a transfer we may have countersigned (Epoch.mayCountersign, shortOfFunds).
    this.epoch.leaderRefused(r.id, r.transfer, r.reason, current)
    // A leader's refusal for good stands for the epoch: a round restarted under another leader leaves it out.
    if (refusedForGood(r.reason)) this.epoch.noteRefusal(r)
  }

  private onCountersign(author: number, c: Countersigned): void {
    if (!this.noteCountersign(author, c, true) || !this.isLeader()) return
    const refused = this.epoch.refusalOf(c.transfer)
    if (refused) return this.refuseAgain([refused])
    if (this.leaderRole.admit(this.round, c, author)) this.closeAtCap()
  }

  /**
   * As leader, writes our own refusal of transfers both parties signed that an earlier leader of the epoch refused
   * for good (each once: OwnLog writes a decision once). Restarted, we read our own log before anyone's, so the
   * refusal then stands before we admit anything again, even if the leader that gave it is read late.
   */
  private refuseAgain(refusals: readonly Refusal[]): void {
    const { epoch, ledger } = this.round
    // Not one our round receipted already (read the earlier refusal too late): our log must not say both.
    this.ownLog.append(...refusals.filter((r) => !ledger.holdsId(r.id)).map((r) => ({ type: 'reject' as const, epoch, ...r })))
  }

  /**
   * Keeps a countersign by `author` for this epoch's rounds; false (and blamed) if it is not its to give or, with
   * `count`, beyond the cap (a kept undecoded one was counted when kept).
   */
  private noteCountersign(author: number, c: Countersigned, count: boolean): boolean {
    // Kept for a later round without any check: no more than the cap lets one member receive in an epoch. Our own
    // countersign a leader took at once (see handle) is counted once, not again as our log brings it back.
    const again = author === this.index && this.epoch.holdsCountersign(c)
    const refused =
      this.members.indexOf(c.transfer.to) !== author
        ? 'countersign of someone else\'s transfer'
        : count && !again && !this.epoch.countersignFrom(author)
          ? 'more countersigns in an epoch than a member may give'
          : undefined
    if (refused) {
      this.blame.blame(author, refused)
      return false
    }
    this.epoch.keepCountersigned({ transfer: c.transfer, senderSig: c.senderSig, receiverSig: c.receiverSig })
    this.payments.countersigned(c.transfer.id)
    return true
  }

  /**
   * A member reached the transfer cap: the epoch closes now, trading first (at once, before the next countersign),
   * then the proposal. A failure (the chain unreachable as the members are read) is said; the round's timers then
   * take over (no proposal: a view change).
   */
  private closeAtCap(): void {
    this.closeEpoch().catch((err: unknown) => this.log(`closing the epoch at the transfer cap failed: ${errorMessage(err)}`))
  }

  private async closeEpoch(): Promise<void> {
    if (!this.isLeader()) return
    const round = this.round
    await this.leaderRole.propose(round, this.epoch.last, this.epoch.exitRequests)
    this.timers.proposed(round)
  }

  /** Moves to `epoch`, which starts from the checkpoint `last`. */
  private beginEpoch(epoch: bigint, last: CheckpointState, leader: number): void {
    this.epoch = new Epoch(epoch, last, this.txCap, { digests: this.digests, recover })
    this.blame.newEpoch()
    this.ownLog.forgetBefore(epoch)
    this.startRound(leader)
    this.payments.carryOver(epoch, (r) => this.request(r))
    this.emit('epoch', { epoch, leader })
  }

  /** A (re)start of the running epoch under `leader`, from the last checkpoint. */
  private startRound(leader: number): void {
    const ahead = this.epoch.takeRefusalsAhead(leader)
    const round = this.epoch.newRound(leader, this.members.all, this.index)
    // What the new leader refused before its round reached us: its word as leader, before anything is readmitted.
    // Not told to a sender of ours: an earlier round's receipt of it may yet be counted (left open, its payment is
    // settled by the checkpoint, and sent again if not counted).
    for (const r of ahead) this.leaderRefused(r, true)
    this.viewChange.reset()
    this.disputes.closed()
    this.payments.receiptsVoided(round.epoch)
    // Our own receipts and proposal of this round, replayed before the view change that made it ours was heard.
    if (this.isLeader()) for (const e of this.epoch.ownLeaderEntries.splice(0)) this.leaderRole.recall(round, e)
    // A restarted epoch keeps every transfer both parties already signed, those kept undecoded included.
    if (this.isLeader()) {
      for (const { author, bytes } of this.epoch.takeKept()) {
        const e = this.inbox.decode(author, bytes)
        if (e?.type === 'countersign' && !this.blame.muted(author)) this.noteCountersign(author, e, false)
      }
      // An earlier round's receipt of a payment to a member muted for junk, whose countersign we dropped or skipped
      // (read before the muting or after, if that leader had its push first): its sender may have been told it is
      // paid. The receipt's two signatures stand in for the countersign, checked here, as a receipt's are not when
      // we read it; a bad one is blamed on the leader that wrote it (muted in turn, its receipts then passed over).
      // Only for a muted receiver: any other's countersign is kept or still to come, and no earlier leader's
      // receipts cost us signature work for nothing.
      const wanted = (by: number, t: Transfer): boolean => this.blame.muted(this.members.indexOf(t.to) ?? -1) && !this.blame.muted(by)
      for (const { by, c } of this.epoch.receiptedWithoutCountersign(wanted)) {
        if (!this.blame.muted(by) && this.receiptSigned(by, c)) this.epoch.keepCountersigned(c)
      }
      this.refuseAgain(this.epoch.refusedCountersigned())
      if (this.leaderRole.readmit(round, this.epoch.readmitOrder())) this.closeAtCap()
    }
    this.timers.start(round, this.timing.epochMs)
    // Ahead of what came after them: a held-back receipt must be in the ledger before the proposal that counts it.
    this.queue.runFirst(this.inbox.drain().map((p) => () => this.handle(p.author, p.entry)))
  }

  private async onChainEvent(ev: ChannelEvent): Promise<void> {
    if (isDisputeEvent(ev)) return this.onDisputeEvent(ev)
    if (ev.type === 'CheckpointProposed') return this.onMajorityCheckpoint(ev.checkpoint, ev.unsignedMask, ev.deadline)
    if (ev.type !== 'CheckpointSubmitted') return
    const round = this.round
    const checkpoint = { leader: ev.leader, count: ev.txCount, root: ev.txRoot }
    if (ev.epoch < round.epoch) return void this.payments.counted.checkpoints.set(ev.epoch, checkpoint)
    // What the checkpoint covers, if we can know it: after a dispute we lost, the leader's list on chain (first: a
    // leader that won against us may have shaped its count and root after our ledger); else a round of ours that
    // holds exactly its receipts (every checkpoint we voted for), unless we lost a dispute to that leader and could
    // not read its answer: our balance is then the answer's, which no root shows.
    const leader = { account: this.members.get(ev.leader)?.account ?? '', digests: this.digests }
    const lostTo = this.payments.counted.lostTo(ev.epoch) === ev.leader
    const covered = this.disputes.covered(ev.epoch, ev.leader, this.address, leader) ?? (lostTo ? undefined : this.epoch.covered(ev.leader, ev.txCount, ev.txRoot))
    // Not known exactly: the receipts that leader wrote which we read start the count (see Payments.landed).
    this.payments.landed(ev.epoch, checkpoint, covered, covered ? [] : this.epoch.receiptsBy(ev.leader))
    for (const unpaid of this.payments.settle()) this.resend(unpaid)
    this.majority.over()
    this.emit('checkpoint', { epoch: ev.epoch, leader: ev.leader, txHash: ev.transactionHash, balances: ev.balances })
    await this.members.refresh()
    if (this.members.exited(this.index)) {
      this.log(`exited with checkpoint ${ev.epoch}`)
      this.emit('exited', { epoch: ev.epoch })
      return void this.stop() // not awaited: we run inside the queue it drains
    }
    this.beginEpoch(ev.epoch + 1n, { balances: ev.balances, deposited: ev.deposited }, ev.nextLeader)
  }

  /**
   * A majority's checkpoint of the running epoch went on chain. Trading stays closed until it lands after its
   * window; a member that did not vote for it judges it now and challenges it if it is wrong.
   */
  private async onMajorityCheckpoint(cp: Checkpoint, unsigned: bigint, deadline: bigint): Promise<void> {
    if (cp.epoch !== this.epoch.number) return
    this.majority.proposed(cp, deadline)
    this.round.awaitingWindow = true
    if (cp.leader === this.index || ((unsigned >> BigInt(this.index)) & 1n) === 0n) return this.round.ledger.close()
    // Judged once our ledger of that leader's round holds the receipts it counts, or its proposal came through the
    // log (receipts before it): a member still replaying its logs after a restart would judge a ledger without
    // them and challenge an honest leader. Else (a leader that withholds them) half way through the window, by the
    // local clock and the channel's window (a chain clock running ahead must not push it past the end).
    const now = this.queue.clock.now()
    const judgeBy = now + Math.min(Number(deadline) * 1000 - now, this.challengeWindowMs) / 2
    const judge = async (): Promise<void> => {
      if (cp.epoch !== this.epoch.number || !this.majority.holds(cp)) return // it landed, or a dispute voided it
      const round = this.epoch.rounds.findLast((r) => r.leader === cp.leader) // a view change to it may replay later
      const ready = round && (round.proposedCount !== undefined || round.ledger.receipts().length >= cp.txCount)
      if (!ready && this.queue.clock.now() < judgeBy) return this.queue.after(POLL_PROPOSAL_MS, judge)
      const judged = round ?? this.round
      judged.ledger.close()
      // The checkpoint on chain, whatever the log's proposal said (a vote for that one does not make this one right).
      await this.memberRole.judgeOnChain(judged, cp, this.epoch)
    }
    await judge()
  }

  private async onDisputeEvent(ev: DisputeEvent): Promise<void> {
    const round = this.round
    if (ev.type !== 'Responded' && ev.epoch !== round.epoch) return
    if (ev.type === 'Challenged' || ev.type === 'DisputeResolved') {
      const leaderRight = ev.type === 'DisputeResolved' ? { leaderRight: ev.leaderRight } : {}
      this.emit('dispute', { epoch: ev.epoch, challenger: ev.challenger, leader: ev.leader, ...leaderRight })
    }
    if (ev.type === 'DisputeResolved' && ev.leaderRight && ev.challenger === this.index) this.payments.lostDispute(ev.epoch, ev.leader)
    // Challenged as a leader, we answer with the receipts of the round we led (not of a later leader's round).
    const led = this.epoch.led
    const answer = (challenger: number): ReceiptedTransfer[] =>
      led ? this.conduct.answer(led.ledger.involving(challenger), challenger, this.view(led)) : []
    const outcome = await this.disputes.onEvent(round, ev, answer)
    if (outcome && 'restartUnder' in outcome && ev.type === 'DisputeResolved') {
      this.majority.over() // a majority's checkpoint of that leader, if any, is void
      this.epoch.excluded.add(ev.leader)
      return this.startRound(outcome.restartUnder)
    }
    if (outcome && 'contestedBy' in outcome && led?.proposal && !led.proposal.withMajority) {
      led.proposal.contestedBy = outcome.contestedBy
      await this.leaderRole.submitIfComplete(led, this.epoch.last)
    }
    if (ev.type === 'DisputeResolved' && this.round === round) this.timers.resumed(round)
  }
}
