// One member of a channel (DESIGN.md sections 1, 3 and 5): routes every log entry, chain event and timer to the
// room that handles it (member role, leader role, view change, disputes, payments) and moves through epochs.
//
// Entries, chain events and timers run through one serial queue, so their state changes happen one at a time.
// `send` and `requestExit` act at once: they only record a payment of ours and write an entry to our own log.
import { EventEmitter } from 'node:events'
import { EpochLedger } from '../ledger/epoch-ledger.js'
import type { Entry } from '../protocol/entries.js'
import { recover, sign } from '../protocol/fast-ecdsa.js'
import { accountOf, ChannelDigests, randomTransferId } from '../protocol/signatures.js'
import type { Checkpoint, Hex } from '../protocol/types.js'
import type { ChainPort, ChannelEvent, CheckpointState } from './chain-port.js'
import { ChainWatch } from './chain-watch.js'
import { honestConduct, type Conduct, type ConductView } from './conduct.js'
import { Disputes } from './disputes.js'
import { entryEpoch, Inbox, leaderOnly } from './inbox.js'
import { LeaderRole, type Countersigned } from './leader-role.js'
import { MemberList } from './member-list.js'
import { MemberRole } from './member-role.js'
import { Misbehaviour } from './misbehaviour.js'
import { OwnLog } from './own-log.js'
import { Payments, type TransferRecord } from './payments.js'
import { nextLeader } from './rotation.js'
import { Round } from './round.js'
import { SerialQueue, systemClock, type Clock } from './serial-queue.js'
import type { Transport } from './transport.js'
import { ViewChange } from './view-change.js'

export { TransferRejected, type TransferRecord, type TransferStatus } from './payments.js'

export interface Timing {
  /** The leader closes the epoch this long after it starts (or earlier, when a member reaches the transfer cap). */
  epochMs: number
  /** Members give up on a leader that has proposed nothing this long after the epoch's time limit. */
  leaderTimeoutMs: number
  /** How often the chain is read for checkpoints, disputes and deposits. */
  chainPollMs: number
}

export interface ParticipantOptions {
  index: number
  /** The member's account key; signs transfers, receipts and checkpoints. Never leaves this object. */
  privateKey: Hex
  chain: ChainPort
  transport: Transport
  timing: Timing
  /** The member list to keep up to date (shared with whoever else reads it); a new one by default. */
  members?: MemberList
  /** Honest unless a test injects otherwise. */
  conduct?: Conduct
  clock?: Clock
  /** A line of what happened, for logs; never carries a key. */
  log?: (line: string) => void
}

export interface ParticipantEvents {
  epoch: [{ epoch: bigint; leader: number }]
  transfer: [TransferRecord]
  checkpoint: [{ epoch: bigint; leader: number; txHash: Hex; balances: bigint[] }]
  'view-change': [{ epoch: bigint; from: number; to: number }]
  dispute: [{ epoch: bigint; challenger: number; leader: number; leaderRight?: boolean }]
  /** This member left the channel with that checkpoint and stops. */
  exited: [{ epoch: bigint }]
}

export interface EpochProgress {
  epoch: bigint
  leader: number
  phase: 'trading' | 'voting' | 'dispute'
  /** Receipts of this round seen so far. */
  receipts: number
  /** Members whose vote on the proposal we have seen (the leader's proposal counts as its vote). */
  voted: number[]
  /** Members the proposal still waits for: a stalled epoch names them. */
  awaiting: number[]
}

export class Participant extends EventEmitter<ParticipantEvents> {
  readonly index: number
  readonly address: string
  /** Invalid entries seen from each author (undecodable, wrongly signed, not theirs to send). */
  readonly misbehaviour: ReadonlyMap<number, number>

  private readonly timing: Timing
  private readonly queue: SerialQueue
  private readonly blame: Misbehaviour
  private readonly ownLog: OwnLog
  private readonly inbox: Inbox
  private readonly members: MemberList
  private readonly payments = new Payments((r) => this.emit('transfer', r))
  private readonly viewChange = new ViewChange()
  private readonly watch: ChainWatch
  private readonly disputes: Disputes
  private readonly conduct: Conduct
  private readonly log: (line: string) => void
  private digests!: ChannelDigests
  private leaderRole!: LeaderRole
  private memberRole!: MemberRole
  private txCap = 0
  private last: CheckpointState & { epoch: bigint } = { epoch: 0n, balances: [], deposited: [] }
  private round!: Round
  private rounds = 0
  /** The running epoch's state across its rounds. */
  private excluded = new Set<number>() // leaders it may no longer have: replaced, or beaten in a dispute
  private countersigned = new Map<string, Countersigned>()
  private exitRequests = new Set<number>()
  /** The leader of each checkpointed epoch: whose receipts of that epoch counted. */
  private readonly pastLeaders = new Map<bigint, number>()
  private unsubscribe: (() => void) | undefined

  constructor(private readonly opts: ParticipantOptions) {
    super()
    this.index = opts.index
    this.address = accountOf(opts.privateKey)
    this.timing = opts.timing
    this.conduct = opts.conduct ?? honestConduct
    const log = (this.log = opts.log ?? (() => {}))
    const clock = opts.clock ?? systemClock
    this.queue = new SerialQueue(clock, (err) => log(`error: ${err instanceof Error ? err.message : String(err)}`))
    this.blame = new Misbehaviour(log)
    this.misbehaviour = this.blame.counts
    this.ownLog = new OwnLog(opts.transport, log)
    this.inbox = new Inbox(this.blame)
    this.members = opts.members ?? new MemberList(opts.chain)
    this.disputes = new Disputes(opts.chain, () => clock.now(), log)
    this.watch = new ChainWatch(
      opts.chain,
      (events) => {
        for (const ev of events) this.queue.run(() => this.onChainEvent(ev))
        this.queue.run(() => this.disputes.resolveIfLeaderSilent())
      },
      log,
    )
  }

  async start(): Promise<void> {
    const chain = this.opts.chain
    this.digests = new ChannelDigests(await chain.domain())
    const roles = { me: this.index, digests: this.digests, sign: (d: Hex) => sign(this.opts.privateKey, d), members: this.members }
    const shared = { ...roles, ownLog: this.ownLog, misbehaviour: this.blame, conduct: this.conduct, view: (r: Round) => this.view(r), log: this.log }
    this.leaderRole = new LeaderRole({ ...shared, chain, receipted: (tx) => this.payments.receipted(tx), submitted: () => void this.watch.read() })
    this.memberRole = new MemberRole({
      ...shared,
      address: this.address,
      payments: this.payments,
      disputes: this.disputes,
      current: () => this.round,
      later: (ms, task) => this.queue.after(ms, task),
      leaderTimeoutMs: this.timing.leaderTimeoutMs,
    })
    this.txCap = (await chain.params()).txCap
    const status = await chain.status()
    await this.members.refresh()
    const banned = await chain.bannedLeaders()
    const head = await chain.blockNumber()
    // One read of the channel's history: every checkpoint's leader, and the balances the status's last one left.
    let last: CheckpointState = { balances: [], deposited: [] }
    for (const ev of await chain.events(undefined, head)) {
      if (ev.type !== 'CheckpointSubmitted') continue
      this.pastLeaders.set(ev.epoch, ev.leader)
      if (ev.epoch === status.checkpointedEpoch) last = { balances: ev.balances, deposited: ev.deposited }
    }
    this.last = { epoch: status.checkpointedEpoch, ...last }
    this.beginEpoch(status.runningEpoch, status.leader)
    for (let i = 0; i < 64; i++) if ((banned >> BigInt(i)) & 1n) this.excluded.add(i)
    this.unsubscribe = this.opts.transport.subscribe((author, position, bytes) => this.receive(author, position, bytes))
    this.watch.start(head + 1, this.timing.chainPollMs)
  }

  /** Stops reacting; what the logs and the chain hold stays. */
  async stop(): Promise<void> {
    await this.halt()
  }

  private halt(): Promise<void> {
    this.unsubscribe?.()
    this.watch.stop()
    this.ownLog.close()
    this.payments.abandon()
    return this.queue.stop()
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
    const { proposedCount: n, votesSeen, disputeOpen } = this.round
    const voters = n === undefined ? [] : Array.from({ length: n }, (_, i) => i).filter((i) => !this.members.exited(i))
    return {
      epoch: this.round.epoch,
      leader: this.round.leader,
      phase: disputeOpen ? 'dispute' : n === undefined ? 'trading' : 'voting',
      receipts: this.round.ledger.seq,
      voted: voters.filter((i) => votesSeen.has(i)),
      awaiting: voters.filter((i) => !votesSeen.has(i)),
    }
  }

  /** This member's own transfers, sent and received, newest last. */
  transfers(): TransferRecord[] {
    return this.payments.all()
  }

  /** Sends `amount` wei to member `to`; resolves when the leader receipts it, rejects if anyone refuses it. */
  async send(to: number, amount: bigint): Promise<TransferRecord> {
    if (this.queue.stopped) throw new Error('participant stopped')
    if (amount <= 0n) throw new RangeError('the amount must be positive')
    if (!this.members.get(to)) await this.members.refresh() // perhaps a member that joined a moment ago
    const receiver = this.members.get(to)
    if (!receiver || receiver.exited || to === this.index) throw new RangeError(`member ${to} cannot be paid`)
    const { ledger, disputeOpen, epoch } = this.round
    const { record, done } = this.payments.open({ id: randomTransferId(), epoch, from: this.address, to: receiver.account, amount })
    // The request would only be refused while the epoch is closing, or while either party joined too late to be in
    // it: it goes out with the next epoch.
    const inEpoch = ledger.indexOf(receiver.account) !== undefined && ledger.indexOf(this.address) !== undefined
    if (ledger.isClosed || disputeOpen || !inEpoch) this.payments.hold(record)
    else this.request(record)
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

  private isLeader(): boolean {
    return this.round.leader === this.index
  }

  private view(round: Round): ConductView {
    const accounts = this.members.all.map((m) => m.account)
    return { epoch: round.epoch, me: this.index, accounts, receipts: round.ledger.receipts(), digests: this.digests }
  }

  // ------------------------------------------------------------------ entries

  private receive(author: number, position: number, bytes: Uint8Array): void {
    const entry = this.inbox.take(author, position, bytes)
    if (!entry) return
    if (author === this.index) this.ownLog.remember(entry)
    this.queue.run(() => (author === this.index ? this.recall(entry) : this.handle(author, entry)))
  }

  /**
   * Our own entries coming back: live ones are already applied; after a restart they rebuild what we had said
   * (payments, receipts, proposal, vote) before anyone else's entries are heard.
   */
  private async recall(e: Entry): Promise<void> {
    const round = this.round
    if (entryEpoch(e) < round.epoch) return this.payments.rememberPast(e, true, (ep) => this.pastLeaders.get(ep), this.index)
    this.payments.recall(e)
    if (e.type === 'receipt') {
      if (this.isLeader() && e.tx.seq === round.ledger.seq && e.tx.transfer.epoch === round.epoch) {
        if (round.ledger.applyReceipt(e.tx).ok) this.payments.receipted(e.tx)
      }
    } else if (e.type === 'proposal') {
      if (this.isLeader() && !round.proposal && e.checkpoint.epoch === round.epoch) this.leaderRole.recall(round, e.checkpoint, e.sig)
    } else if (e.type === 'vote') {
      if (e.epoch === round.epoch && e.leader === round.leader) (round.voted = true), round.votesSeen.add(this.index)
    } else if (e.type !== 'request') {
      return this.handle(this.index, e)
    }
  }

  private async handle(author: number, e: Entry): Promise<void> {
    const epoch = entryEpoch(e)
    if (epoch < this.round.epoch) return this.payments.rememberPast(e, author === this.index, (ep) => this.pastLeaders.get(ep), author)
    if (author >= this.members.count) await this.members.refresh() // a member that joined since we last looked
    if (author >= this.members.count) return this.blame.blame(author, 'not a member')
    const round = this.round
    if (leaderOnly(e) && author !== round.leader && this.excluded.has(author)) return // a replaced leader's late word
    if (epoch > round.epoch || (leaderOnly(e) && author !== round.leader)) {
      return this.inbox.defer(author, e) // a later epoch, or a leader we have not switched to yet
    }
    switch (e.type) {
      case 'request': {
        const c = this.memberRole.request(round, author, e.transfer, e.senderSig)
        // A paid leader receipts at once rather than when its countersign comes back from its log: the receipt
        // goes out in the same block, one log write instead of two. (The countersign's return finds it admitted.)
        if (c && this.isLeader()) this.onCountersign(this.index, c)
        return
      }
      case 'countersign':
        return this.onCountersign(author, e)
      case 'receipt':
        if (!this.isLeader()) this.memberRole.receipt(round, author, e.tx) // the leader's own is applied already
        return
      case 'reject':
        return this.onReject(author, e.id, e.reason)
      case 'proposal':
        return this.onProposal(round, author, e.checkpoint, e.sig)
      case 'vote':
        if (e.leader === round.leader) round.votesSeen.add(author) // for progress; the leader checks the signature
        if (this.isLeader() && e.leader === this.index) await this.leaderRole.vote(round, author, e.sig, this.last)
        return
      case 'confirm':
        return void this.watch.read()
      case 'view-change':
        return this.onViewChange(author, e.leader)
      case 'exit':
        this.exitRequests.add(author)
        return
    }
  }

  private onCountersign(author: number, c: Countersigned): void {
    if (this.members.indexOf(c.transfer.to) !== author) return this.blame.blame(author, 'countersign of someone else\'s transfer')
    this.countersigned.set(c.transfer.id, { transfer: c.transfer, senderSig: c.senderSig, receiverSig: c.receiverSig })
    this.payments.countersigned(c.transfer.id)
    if (this.isLeader() && this.leaderRole.admit(this.round, c)) void this.closeEpoch()
  }

  private onReject(author: number, id: Hex, reason: string): void {
    const own = this.payments.get(id)
    if (!own || own.direction !== 'out' || own.status === 'receipted' || own.status === 'checkpointed') return
    const receiver = this.members.indexOf(own.transfer.to)
    if (author !== this.round.leader && author !== receiver) return this.blame.blame(author, 'rejection of a transfer not its to judge')
    // Refused only for want of room in this epoch (closing, or a party at the cap): it goes out again next epoch.
    if (reason === 'CLOSED' || reason === 'CAP_REACHED') return
    this.payments.rejected(own, reason)
  }

  private async onProposal(round: Round, author: number, cp: Checkpoint, sig: Hex): Promise<void> {
    if (this.isLeader() || round.voted || round.disputeOpen) return
    if (!this.memberRole.signedByLeader(author, cp, sig)) return this.blame.blame(author, 'proposal not signed by its leader')
    round.ledger.close()
    round.proposedCount = cp.balances.length
    round.votesSeen.add(author) // a proposal is its leader's vote
    // The leader spoke: give the vote (or a challenge, which may wait up to two timeouts) time before a view change.
    this.queue.arm(3 * this.timing.leaderTimeoutMs, () => this.leaderTimedOut())
    await this.memberRole.judge(round, author, cp, this.last, this.exitRequests)
  }

  // ------------------------------------------------------------------ epochs and rounds

  private async closeEpoch(): Promise<void> {
    if (this.isLeader()) await this.leaderRole.propose(this.round, this.last, this.exitRequests)
  }

  /**
   * Moves to `epoch`. `caughtUp` says whether this node saw every receipt of the finished epoch: only then can it
   * know which of its payments missed the epoch and re-issue them without risk of paying twice.
   */
  private beginEpoch(epoch: bigint, leader: number, caughtUp = true): void {
    this.excluded = new Set()
    this.countersigned = new Map()
    this.exitRequests = new Set()
    this.startRound(epoch, leader)
    this.payments.carryOver(epoch, caughtUp, (r) => this.request(r))
    this.emit('epoch', { epoch, leader })
  }

  /** A (re)start of `epoch` under `leader`, from the last checkpoint. */
  private startRound(epoch: bigint, leader: number): void {
    const m = this.members.all
    const ledger = new EpochLedger(
      {
        epoch,
        leader,
        members: m.map((x) => x.account),
        exited: m.map((x) => x.exited),
        balances: m.map((x, i) => (x.exited ? 0n : (this.last.balances[i] ?? 0n))),
        txCap: this.txCap,
      },
      { digests: this.digests, recover },
    )
    this.round = new Round(++this.rounds, epoch, leader, ledger)
    this.viewChange.reset()
    this.disputes.closed()
    this.payments.receiptsVoided(epoch)
    if (this.isLeader()) {
      // A restarted epoch keeps every transfer both parties already signed.
      for (const c of this.countersigned.values()) if (this.leaderRole.admit(this.round, c)) void this.closeEpoch()
      this.queue.arm(this.timing.epochMs, () => this.closeEpoch())
    } else {
      this.queue.arm(this.timing.epochMs + this.timing.leaderTimeoutMs, () => this.leaderTimedOut())
    }
    for (const p of this.inbox.drain()) this.queue.run(() => this.handle(p.author, p.entry))
  }

  private leaderTimedOut(): void {
    if (this.isLeader() || this.round.disputeOpen) return
    this.log(`epoch ${this.round.epoch}: leader ${this.round.leader} timed out; voting to replace it`)
    this.ownLog.append({ type: 'view-change', epoch: this.round.epoch, leader: this.round.leader })
    // Ask again later if the view change does not complete (votes may come from members still catching up).
    this.queue.arm(this.timing.leaderTimeoutMs, () => this.leaderTimedOut())
  }

  private onViewChange(author: number, leader: number): void {
    if (leader !== this.round.leader || !this.viewChange.vote(author, leader, this.members.all, this.excluded)) return
    this.excluded.add(leader)
    const next = nextLeader(leader, this.members.count, (i) => this.members.exited(i) || this.excluded.has(i))
    this.log(`epoch ${this.round.epoch}: view change from leader ${leader} to ${next}`)
    this.emit('view-change', { epoch: this.round.epoch, from: leader, to: next })
    this.startRound(this.round.epoch, next)
  }

  // ------------------------------------------------------------------ the chain

  private async onChainEvent(ev: ChannelEvent): Promise<void> {
    const round = this.round
    switch (ev.type) {
      case 'CheckpointSubmitted': {
        this.pastLeaders.set(ev.epoch, ev.leader)
        if (ev.epoch < round.epoch) return
        this.payments.checkpointed(ev.epoch)
        const caughtUp = ev.epoch === round.epoch && ev.leader === round.leader && round.ledger.seq === ev.txCount
        this.last = { epoch: ev.epoch, balances: ev.balances, deposited: ev.deposited }
        this.emit('checkpoint', { epoch: ev.epoch, leader: ev.leader, txHash: ev.transactionHash, balances: ev.balances })
        await this.members.refresh()
        if (this.members.exited(this.index)) {
          this.log(`exited with checkpoint ${ev.epoch}`)
          this.emit('exited', { epoch: ev.epoch })
          return void this.halt() // not awaited: we run inside the queue it drains
        }
        return this.beginEpoch(ev.epoch + 1n, ev.nextLeader, caughtUp)
      }
      case 'Challenged': {
        if (ev.epoch !== round.epoch) return
        round.disputeOpen = true
        round.ledger.close()
        this.emit('dispute', { epoch: ev.epoch, challenger: ev.challenger, leader: ev.leader })
        this.disputes.opened(ev.challenger === this.index, ev.deadline)
        if (ev.leader !== this.index) return
        const honest = round.ledger.involving(ev.challenger)
        return this.disputes.answer(round.epoch, ev.challenger, this.conduct.answer(honest, ev.challenger, this.view(round)))
      }
      case 'Responded':
        return this.disputes.answered()
      case 'DisputeResolved': {
        if (ev.epoch !== round.epoch) return
        this.emit('dispute', { epoch: ev.epoch, challenger: ev.challenger, leader: ev.leader, leaderRight: ev.leaderRight })
        round.disputeOpen = false
        this.disputes.closed()
        if (ev.leaderRight) {
          if (ev.leader === this.index && round.proposal) {
            round.proposal.contestedBy = ev.challenger
            await this.leaderRole.submitIfComplete(round, this.last)
          }
          return
        }
        this.excluded.add(ev.leader)
        this.log(`epoch ${round.epoch}: leader ${ev.leader} lost the dispute; restarting under ${ev.nextLeader}`)
        return this.startRound(round.epoch, ev.nextLeader)
      }
      default:
        return
    }
  }
}
