// One member of a channel, in both roles (DESIGN.md sections 1, 3 and 5). As a member it builds and signs
// transfers, countersigns valid requests addressed to it, replays the leader's receipts, checks the leader's
// proposal against them and votes or challenges. As the leader it receipts doubly signed transfers, closes the
// epoch (time limit or transfer cap), proposes, collects votes, submits the checkpoint and confirms. Leaders rotate;
// a silent leader is replaced by a view change; disputes follow the contract's verdict.
//
// Everything a participant reacts to (log entries, chain events, timers) runs through one serial queue, so its
// state changes one message at a time.
import { EventEmitter } from 'node:events'
import { computeAddress, getAddress } from 'ethers'
import type { ChannelClient, ChannelEvent, CheckpointState, MemberRecord } from '../chain/channel-client.js'
import { EpochLedger } from '../ledger/epoch-ledger.js'
import { decodeEntry, encodeEntry, EntryDecodeError, type Entry } from '../protocol/entries.js'
import { hashTransfer } from '../protocol/eip712.js'
import { recover, sign } from '../protocol/fast-ecdsa.js'
import { ChannelDigests, randomTransferId } from '../protocol/signatures.js'
import type { Checkpoint, Hex, ReceiptedTransfer, Transfer } from '../protocol/types.js'
import { corruptAnswer, corruptProposal, hideOutgoing, type Byzantine } from './byzantine.js'
import { nextLeader } from './rotation.js'
import type { Transport } from './transport.js'

/** The chain calls a participant makes: the channel contract through its adapter. */
export type ChainPort = Pick<
  ChannelClient,
  | 'domain'
  | 'params'
  | 'status'
  | 'members'
  | 'bannedLeaders'
  | 'blockNumber'
  | 'events'
  | 'dispute'
  | 'submitCheckpoint'
  | 'submitContestedCheckpoint'
  | 'challenge'
  | 'respond'
  | 'resolve'
>

export interface Timing {
  /** The leader closes the epoch this long after it starts (or earlier, when a member reaches the transfer cap). */
  epochMs: number
  /** Members give up on a leader that has proposed nothing this long after the epoch's time limit. */
  leaderTimeoutMs: number
  /** How often the chain is read for checkpoints, disputes and deposits. */
  chainPollMs: number
}

export type TransferStatus = 'requested' | 'countersigned' | 'receipted' | 'checkpointed' | 'rejected'

export interface TransferRecord {
  transfer: Transfer
  direction: 'out' | 'in'
  status: TransferStatus
  /** The seq of its receipt in the epoch, once receipted. */
  seq?: number
  /** Why it was rejected (a ledger rejection code, or EPOCH_ENDED). */
  reason?: string
  /** How often it was re-issued because its epoch closed first. */
  retries?: number
}

export interface ParticipantOptions {
  index: number
  /** The member's account key; signs transfers, receipts and checkpoints. Never leaves this object. */
  privateKey: Hex
  chain: ChainPort
  transport: Transport
  timing: Timing
  byzantine?: Byzantine
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
  /** Receipts of this attempt seen so far. */
  receipts: number
  /** Members whose vote on the proposal we have seen (the leader's proposal counts as its vote). */
  voted: number[]
  /** Members the proposal still waits for: a stalled epoch names them. */
  awaiting: number[]
}

export class TransferRejected extends Error {
  override readonly name = 'TransferRejected'
  constructor(
    readonly code: string,
    readonly transfer: Transfer,
  ) {
    super(`transfer ${transfer.id} rejected: ${code}`)
  }
}

interface Proposal {
  cp: Checkpoint
  digest: Hex
  votes: Map<number, Hex>
  submitted: boolean
  /** After a dispute the leader won: the challenger whose vote is not needed. */
  contestedBy?: number
}

interface Countersigned {
  transfer: Transfer
  senderSig: Hex
  receiverSig: Hex
}

const MAX_PENDING = 100_000
/** A payment that misses this many epochs in a row is given up. */
const MAX_REISSUES = 3

/** Ignored entries logged one by one per author, then one line per this many. */
const BLAME_LOG_FIRST = 10
const BLAME_LOG_EVERY = 1000

export class Participant extends EventEmitter<ParticipantEvents> {
  readonly index: number
  readonly address: string
  /** Invalid entries seen from each author (undecodable, wrongly signed, not theirs to send). */
  readonly misbehaviour = new Map<number, number>()

  private readonly chain: ChainPort
  private readonly transport: Transport
  private readonly timing: Timing
  private readonly byzantine: Byzantine
  private readonly log: (line: string) => void
  private digests!: ChannelDigests
  private txCap = 0
  private members: MemberRecord[] = []
  private memberIndex = new Map<string, number>()
  private last: CheckpointState & { epoch: bigint } = { epoch: 0n, balances: [], deposited: [] }

  private epoch = 0n
  private leader = 0
  /** Leaders this epoch may no longer have: replaced by a view change or beaten in a dispute. */
  private excluded = new Set<number>()
  private ledger!: EpochLedger
  private countersigned = new Map<string, Countersigned>()
  private exitRequests = new Set<number>()
  private viewChanges = new Map<number, Set<number>>()
  private proposal: Proposal | undefined
  private voted = false
  /** Members covered by the proposal of this attempt, once there is one, and whose votes we have seen. */
  private proposedCount: number | undefined
  private votesSeen = new Set<number>()
  /** Counts (re)starts of epochs, so a delayed action can tell that its moment has passed. */
  private attempt = 0
  private disputeOpen = false
  private challengedAs: { challenger: number; deadline: bigint } | undefined

  private readonly nextPosition: number[] = []
  /** Keys of every entry in our own log (see entryKey). */
  private readonly said = new Set<string>()
  private pending: Array<{ author: number; entry: Entry }> = []
  private readonly history = new Map<string, TransferRecord>()
  /** Payments asked for while the epoch was closing. */
  private held: TransferRecord[] = []
  private readonly waiters = new Map<string, { resolve: (r: TransferRecord) => void; reject: (e: Error) => void }>()

  /** The leader of each checkpointed epoch: whose receipts of that epoch counted. */
  private readonly pastLeaders = new Map<bigint, number>()
  private queue: Promise<void> = Promise.resolve()
  private unsubscribe: (() => void) | undefined
  private epochTimer: NodeJS.Timeout | undefined
  private readonly timers = new Set<NodeJS.Timeout>()
  private pollTimer: NodeJS.Timeout | undefined
  private nextBlock = 0
  private polling = false
  private stopped = false

  constructor(private readonly opts: ParticipantOptions) {
    super()
    this.index = opts.index
    this.chain = opts.chain
    this.transport = opts.transport
    this.timing = opts.timing
    this.byzantine = opts.byzantine ?? {}
    this.log = opts.log ?? (() => {})
    this.address = getAddress(computeAddress(opts.privateKey))
  }

  // ------------------------------------------------------------------ life cycle

  async start(): Promise<void> {
    this.digests = new ChannelDigests(await this.chain.domain())
    this.txCap = (await this.chain.params()).txCap
    const status = await this.chain.status()
    await this.refreshMembers()
    const banned = await this.chain.bannedLeaders()
    this.nextBlock = (await this.chain.blockNumber()) + 1
    // One read of the channel's history: every checkpoint's leader, and the balances the status's last one left.
    let last: CheckpointState = { balances: [], deposited: [] }
    for (const ev of await this.chain.events(undefined, this.nextBlock - 1)) {
      if (ev.type !== 'CheckpointSubmitted') continue
      this.pastLeaders.set(ev.epoch, ev.leader)
      if (ev.epoch === status.checkpointedEpoch) last = { balances: ev.balances, deposited: ev.deposited }
    }
    this.last = { epoch: status.checkpointedEpoch, ...last }
    this.beginEpoch(status.runningEpoch, status.leader)
    for (let i = 0; i < 64; i++) if ((banned >> BigInt(i)) & 1n) this.excluded.add(i)
    this.unsubscribe = this.transport.subscribe((author, position, bytes) => this.receive(author, position, bytes))
    this.pollTimer = setInterval(() => void this.pollChain(), this.timing.chainPollMs)
  }

  /** Stops reacting; what the logs and the chain hold stays. */
  async stop(): Promise<void> {
    this.halt()
    await this.queue.catch(() => {})
  }

  private halt(): void {
    this.stopped = true
    this.unsubscribe?.()
    clearInterval(this.pollTimer)
    clearTimeout(this.epochTimer)
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const w of this.waiters.values()) w.reject(new Error('participant stopped'))
    this.waiters.clear()
  }

  get runningEpoch(): bigint {
    return this.epoch
  }

  get currentLeader(): number {
    return this.leader
  }

  balanceOf(index: number): bigint {
    return this.ledger.balanceOf(index)
  }

  /** Where the running epoch stands: trading, or voting on a proposal (who voted, who is awaited), or disputed. */
  progress(): EpochProgress {
    const n = this.proposedCount
    const voters = n === undefined ? [] : Array.from({ length: n }, (_, i) => i).filter((i) => !this.exited(i))
    return {
      epoch: this.epoch,
      leader: this.leader,
      phase: this.disputeOpen ? 'dispute' : n === undefined ? 'trading' : 'voting',
      receipts: this.ledger.seq,
      voted: voters.filter((i) => this.votesSeen.has(i)),
      awaiting: voters.filter((i) => !this.votesSeen.has(i)),
    }
  }

  /** This member's own transfers, sent and received, newest last. */
  transfers(): TransferRecord[] {
    return [...this.history.values()]
  }

  // ------------------------------------------------------------------ member actions

  /** Sends `amount` wei to member `to`; resolves when the leader receipts it, rejects if anyone refuses it. */
  async send(to: number, amount: bigint): Promise<TransferRecord> {
    if (this.stopped) throw new Error('participant stopped')
    if (amount <= 0n) throw new RangeError('the amount must be positive')
    if (!this.members[to]) await this.refreshMembers() // perhaps a member that joined a moment ago
    const receiver = this.members[to]
    if (!receiver || receiver.exited || to === this.index) throw new RangeError(`member ${to} cannot be paid`)
    const record: TransferRecord = {
      transfer: { id: randomTransferId(), epoch: this.epoch, from: this.address, to: receiver.account, amount },
      direction: 'out',
      status: 'requested',
    }
    const done = new Promise<TransferRecord>((resolve, reject) => this.waiters.set(record.transfer.id, { resolve, reject }))
    this.history.set(record.transfer.id, record)
    // The request would only be refused while the epoch is closing, or while either party joined too late to be in
    // it: it goes out with the next epoch.
    const inEpoch = this.ledger.indexOf(receiver.account) !== undefined && this.ledger.indexOf(this.address) !== undefined
    if (this.ledger.isClosed || this.disputeOpen || !inEpoch) this.held.push(record)
    else this.request(record)
    return done
  }

  private request(record: TransferRecord): void {
    const senderSig = sign(this.opts.privateKey, this.digests.transfer(record.transfer))
    this.append({ type: 'request', transfer: record.transfer, senderSig })
  }

  /** Re-issues an unreceipted payment of a finished epoch in the running one (a new id, the same waiter). */
  private reissue(record: TransferRecord): void {
    const old = record.transfer.id
    record.retries = (record.retries ?? 0) + 1
    if (record.retries > MAX_REISSUES) return this.settle(record, 'rejected', 'EPOCH_ENDED')
    record.transfer = { ...record.transfer, id: randomTransferId(), epoch: this.epoch }
    record.status = 'requested'
    this.history.delete(old)
    this.history.set(record.transfer.id, record)
    const waiter = this.waiters.get(old)
    this.waiters.delete(old)
    if (waiter) this.waiters.set(record.transfer.id, waiter)
    this.request(record)
  }

  /** As leader, closes the running epoch now instead of at its time limit (no effect for a member). */
  closeEpochNow(): void {
    this.enqueue(() => this.closeEpoch())
  }

  /** Asks to leave the channel with the checkpoint of the running epoch. */
  requestExit(): void {
    this.append({ type: 'exit', epoch: this.epoch })
  }

  // ------------------------------------------------------------------ plumbing

  /** The one timer of the running attempt (close the epoch, or give up on its leader); re-arming replaces it. */
  private armEpochTimer(ms: number, task: () => Promise<void> | void): void {
    clearTimeout(this.epochTimer)
    if (!this.stopped) this.epochTimer = setTimeout(() => this.enqueue(task), ms)
  }

  /** A one-off delayed task; never armed once stopped (a task still running at stop may try), cleared by stop. */
  private later(ms: number, task: () => Promise<void> | void): void {
    if (this.stopped) return
    const t = setTimeout(() => {
      this.timers.delete(t)
      this.enqueue(task)
    }, ms)
    this.timers.add(t)
  }

  private enqueue(task: () => Promise<void> | void): void {
    this.queue = this.queue
      .then(async () => {
        if (!this.stopped) await task()
      })
      .catch((err: unknown) => this.log(`error: ${err instanceof Error ? err.message : String(err)}`))
  }

  /** Appends to our log, skipping what the log already holds (after a restart we may decide the same again). */
  private append(...entries: Entry[]): void {
    if (this.stopped) return
    const fresh = entries.filter((e) => {
      const key = entryKey(e)
      if (this.said.has(key)) return false
      this.said.add(key)
      return true
    })
    if (fresh.length === 0) return
    this.transport.append(fresh.map(encodeEntry)).catch((err: unknown) => {
      this.log(`append failed: ${err instanceof Error ? err.message : String(err)}`)
    })
  }

  /**
   * Counts an ignored entry against its author. The log gets the first few per author, then one line per
   * BLAME_LOG_EVERY: a member flooding garbage must not flood our log too.
   */
  private blame(author: number, why: string): void {
    const count = (this.misbehaviour.get(author) ?? 0) + 1
    this.misbehaviour.set(author, count)
    if (count <= BLAME_LOG_FIRST) this.log(`ignored an entry of member ${author}: ${why}`)
    else if (count % BLAME_LOG_EVERY === 0) this.log(`ignored ${count} entries of member ${author} so far; latest: ${why}`)
  }

  private receive(author: number, position: number, bytes: Uint8Array): void {
    const expected = this.nextPosition[author] ?? 0
    if (position < expected) return // already seen (history replay overlapping live delivery)
    this.nextPosition[author] = position + 1
    let entry: Entry
    try {
      entry = decodeEntry(bytes)
    } catch (err) {
      if (err instanceof EntryDecodeError) return this.blame(author, err.message)
      throw err
    }
    if (author === this.index) this.said.add(entryKey(entry))
    this.enqueue(() => (author === this.index ? this.recall(entry) : this.handle(author, entry)))
  }

  /**
   * A finished epoch's entry, replayed after a restart: it rebuilds our payment history and nothing else. A payment
   * counts as checkpointed when the leader of that epoch's checkpoint receipted it (a replaced leader's receipts
   * were rolled back); one never receipted is shown as ended with its epoch, and is never sent again.
   */
  private rememberPast(author: number, e: Entry): void {
    if (e.type === 'request' && author === this.index && !this.history.has(e.transfer.id)) {
      this.history.set(e.transfer.id, { transfer: e.transfer, direction: 'out', status: 'rejected', reason: 'EPOCH_ENDED' })
    } else if (e.type === 'countersign' && author === this.index && !this.history.has(e.transfer.id)) {
      this.history.set(e.transfer.id, { transfer: e.transfer, direction: 'in', status: 'rejected', reason: 'EPOCH_ENDED' })
    } else if (e.type === 'receipt' && this.pastLeaders.get(e.tx.transfer.epoch) === author) {
      const record = this.history.get(e.tx.transfer.id)
      if (record && record.transfer.amount === e.tx.transfer.amount && record.transfer.to === e.tx.transfer.to) {
        record.status = 'checkpointed'
        record.seq = e.tx.seq
        delete record.reason
      }
    }
  }

  /**
   * Our own entries coming back: live ones are already applied; after a restart they rebuild what we had said
   * (payments, receipts, proposal, vote) before anyone else's entries are heard.
   */
  private async recall(e: Entry): Promise<void> {
    if (this.entryEpoch(e) < this.epoch) return this.rememberPast(this.index, e)
    switch (e.type) {
      case 'request':
        if (!this.history.has(e.transfer.id)) this.history.set(e.transfer.id, { transfer: e.transfer, direction: 'out', status: 'requested' })
        return
      case 'countersign':
        if (!this.history.has(e.transfer.id)) this.history.set(e.transfer.id, { transfer: e.transfer, direction: 'in', status: 'countersigned' })
        return this.handle(this.index, e)
      case 'receipt':
        if (this.isLeader() && e.tx.seq === this.ledger.seq && e.tx.transfer.epoch === this.epoch) {
          if (this.ledger.applyReceipt(e.tx).ok) this.noteReceipt(e.tx)
        }
        return
      case 'proposal':
        if (this.isLeader() && !this.proposal && e.checkpoint.epoch === this.epoch) {
          const digest = this.digests.checkpoint(e.checkpoint)
          this.ledger.close()
          this.proposal = { cp: e.checkpoint, digest, votes: new Map([[this.index, e.sig]]), submitted: false }
        }
        return
      case 'vote':
        if (e.epoch === this.epoch && e.leader === this.leader) {
          this.voted = true
          this.votesSeen.add(this.index)
        }
        return
      default:
        return this.handle(this.index, e)
    }
  }

  private sign(digest: Hex): Hex {
    return sign(this.opts.privateKey, digest)
  }

  private isLeader(): boolean {
    return this.leader === this.index
  }

  private exited(i: number): boolean {
    return this.members[i]?.exited ?? true
  }

  // ------------------------------------------------------------------ epochs

  /**
   * Moves to `epoch`. `caughtUp` says whether this node saw every receipt of the finished epoch: only then can it
   * know which of its payments missed the epoch and re-issue them without risk of paying twice.
   */
  private beginEpoch(epoch: bigint, leader: number, caughtUp = true): void {
    this.epoch = epoch
    this.excluded = new Set()
    this.countersigned = new Map()
    this.exitRequests = new Set()
    this.startAttempt(leader)
    // Payments held while the last epoch closed, and those it never receipted, go out in this one (once each:
    // a re-issued payment carries the new epoch).
    for (const r of this.held.splice(0)) this.reissue(r)
    const unfinished = [...this.history.values()].filter(
      (r) => r.direction === 'out' && r.transfer.epoch < epoch && (r.status === 'requested' || r.status === 'countersigned'),
    )
    for (const r of unfinished) {
      if (caughtUp) this.reissue(r)
      else this.settle(r, 'rejected', 'EPOCH_ENDED')
    }
    this.emit('epoch', { epoch, leader })
  }

  /** A (re)start of the running epoch under `leader`, from the last checkpoint. */
  private startAttempt(leader: number): void {
    this.attempt++
    this.leader = leader
    this.proposedCount = undefined
    this.votesSeen = new Set()
    this.viewChanges = new Map()
    this.proposal = undefined
    this.voted = false
    this.disputeOpen = false
    this.challengedAs = undefined
    this.ledger = new EpochLedger(
      {
        epoch: this.epoch,
        leader,
        members: this.members.map((m) => m.account),
        exited: this.members.map((m) => m.exited),
        balances: this.members.map((m, i) => (m.exited ? 0n : (this.last.balances[i] ?? 0n))),
        txCap: this.txCap,
      },
      { digests: this.digests, recover },
    )
    for (const r of this.history.values()) {
      if (r.transfer.epoch === this.epoch && r.status === 'receipted') r.status = 'countersigned'
    }
    if (this.isLeader()) {
      // A restarted epoch keeps every transfer both parties already signed.
      for (const c of this.countersigned.values()) this.admit(c)
      this.armEpochTimer(this.timing.epochMs, () => this.closeEpoch())
    } else {
      this.armEpochTimer(this.timing.epochMs + this.timing.leaderTimeoutMs, () => this.leaderTimedOut())
    }
    const waiting = this.pending
    this.pending = []
    for (const p of waiting) this.enqueue(() => this.handle(p.author, p.entry))
  }

  private async refreshMembers(): Promise<void> {
    this.members = await this.chain.members()
    this.memberIndex = new Map(this.members.map((m) => [getAddress(m.account), m.index]))
  }

  private indexOf(account: string): number | undefined {
    return this.memberIndex.get(account)
  }

  // ------------------------------------------------------------------ entries

  private entryEpoch(e: Entry): bigint {
    switch (e.type) {
      case 'request':
      case 'countersign':
        return e.transfer.epoch
      case 'receipt':
        return e.tx.transfer.epoch
      case 'proposal':
        return e.checkpoint.epoch
      default:
        return e.epoch
    }
  }

  /** Entries only the leader of the running attempt may write. */
  private leaderOnly(e: Entry): boolean {
    return e.type === 'receipt' || e.type === 'proposal' || e.type === 'confirm'
  }

  private async handle(author: number, e: Entry): Promise<void> {
    const epoch = this.entryEpoch(e)
    if (epoch < this.epoch) return this.rememberPast(author, e)
    if (author >= this.members.length) await this.refreshMembers() // a member that joined since we last looked
    if (author >= this.members.length) return this.blame(author, 'not a member')
    if (this.leaderOnly(e) && author !== this.leader && this.excluded.has(author)) return // a replaced leader's late word
    if (epoch > this.epoch || (this.leaderOnly(e) && author !== this.leader)) {
      // A later epoch, or a leader we have not switched to yet: keep it until we get there.
      if (this.pending.length < MAX_PENDING) this.pending.push({ author, entry: e })
      return
    }
    switch (e.type) {
      case 'request':
        return this.onRequest(author, e.transfer, e.senderSig)
      case 'countersign':
        return this.onCountersign(author, e)
      case 'receipt':
        return this.onReceipt(author, e.tx)
      case 'reject':
        return this.onReject(author, e.id, e.reason)
      case 'proposal':
        return this.onProposal(author, e.checkpoint, e.sig)
      case 'vote':
        return this.onVote(author, e.leader, e.sig)
      case 'confirm':
        void this.pollChain()
        return
      case 'view-change':
        return this.onViewChange(author, e.leader)
      case 'exit':
        this.exitRequests.add(author)
        return
    }
  }

  private onRequest(author: number, transfer: Transfer, senderSig: Hex): void {
    if (this.indexOf(transfer.from) !== author) return this.blame(author, 'request for someone else\'s transfer')
    if (this.indexOf(transfer.to) !== this.index) return
    // Answered already (our own log, replayed first after a restart, says so): checked again now it would look
    // like a duplicate and be refused, and the sender could take a payment that went through for a failed one.
    if (this.said.has(countersignKey(transfer.id)) || this.said.has(rejectKey(transfer.id))) return
    const refused = this.ledger.checkRequest(transfer, senderSig)
    if (refused) {
      this.append({ type: 'reject', epoch: this.epoch, id: transfer.id, reason: refused.code })
      return
    }
    const receiverSig = this.sign(this.digests.transfer(transfer))
    this.history.set(transfer.id, { transfer, direction: 'in', status: 'countersigned' })
    this.append({ type: 'countersign', transfer, senderSig, receiverSig })
    // A leader paid receipts at once rather than when its own countersign comes back from its log: the receipt
    // goes out in the same block, one log write instead of two. (The countersign's return then finds it admitted.)
    if (this.isLeader()) this.onCountersign(this.index, { transfer, senderSig, receiverSig })
  }

  private onCountersign(author: number, c: Countersigned): void {
    if (this.indexOf(c.transfer.to) !== author) return this.blame(author, 'countersign of someone else\'s transfer')
    this.countersigned.set(c.transfer.id, { transfer: c.transfer, senderSig: c.senderSig, receiverSig: c.receiverSig })
    const own = this.history.get(c.transfer.id)
    if (own && own.status === 'requested') this.update(own, 'countersigned')
    if (this.isLeader()) this.admit(c)
  }

  /** Leader: receipt a doubly signed transfer, or say why not. */
  private admit(c: Countersigned): void {
    if (this.disputeOpen || this.proposal) return
    const r = this.ledger.admit(c.transfer, c.senderSig, c.receiverSig)
    if (!r.ok) {
      if (r.rejection.code !== 'DUPLICATE_ID') {
        this.append({ type: 'reject', epoch: this.epoch, id: c.transfer.id, reason: r.rejection.code })
      }
      return
    }
    const leaderSig = this.sign(this.digests.of(r.value.receiptHash)) // the receipt's struct hash is the Merkle leaf
    const tx = this.ledger.attachReceipt(r.value.seq, leaderSig) ?? { ...r.value.tx, leaderSig }
    this.append({ type: 'receipt', tx })
    this.noteReceipt(tx)
    if (this.ledger.capReached) void this.closeEpoch()
  }

  /**
   * A receipt from the leader's log. The log already proves the leader wrote it; what a member must not accept is
   * a payment of its own it never signed, so for its own transfers it compares with what it signed (no signature
   * work on the hot path). The signatures themselves are checked when they become evidence (challenge).
   */
  private onReceipt(author: number, tx: ReceiptedTransfer): void {
    if (this.isLeader()) return // our own, already applied
    const t = tx.transfer
    if (t.from === this.address || t.to === this.address) {
      const known = this.history.get(t.id)?.transfer
      const same = known && known.from === t.from && known.to === t.to && known.amount === t.amount && known.epoch === t.epoch
      if (!same) {
        this.ledger.refuse(tx.seq)
        return this.blame(author, 'receipt of a transfer of ours we never signed')
      }
    }
    const r = this.ledger.applyReceipt(tx, false)
    if (!r.ok) return this.blame(author, `receipt refused: ${r.rejection.code}`)
    this.noteReceipt(tx)
  }

  /** Our receipted transfers whose three signatures hold: what a challenge can show. */
  private evidence(): ReceiptedTransfer[] {
    return this.ledger.involving(this.index).filter((t) => this.ledger.verifyReceipt(t))
  }

  private noteReceipt(tx: ReceiptedTransfer): void {
    const own = this.history.get(tx.transfer.id)
    if (own) {
      own.seq = tx.seq
      this.update(own, 'receipted')
    }
  }

  private onReject(author: number, id: Hex, reason: string): void {
    const own = this.history.get(id)
    if (!own || own.direction !== 'out' || own.status === 'receipted' || own.status === 'checkpointed') return
    const receiver = this.indexOf(own.transfer.to)
    if (author !== this.leader && author !== receiver) return this.blame(author, 'rejection of a transfer not its to judge')
    // Refused only for want of room in this epoch (closing, or a party at the cap): it goes out again next epoch.
    if (reason === 'CLOSED' || reason === 'CAP_REACHED') return
    this.settle(own, 'rejected', reason)
  }

  private update(record: TransferRecord, status: TransferStatus): void {
    record.status = status
    this.emit('transfer', record)
    if (status === 'receipted') {
      this.waiters.get(record.transfer.id)?.resolve(record)
      this.waiters.delete(record.transfer.id)
    }
  }

  private settle(record: TransferRecord, status: 'rejected', reason: string): void {
    record.status = status
    record.reason = reason
    this.emit('transfer', record)
    this.waiters.get(record.transfer.id)?.reject(new TransferRejected(reason, record.transfer))
    this.waiters.delete(record.transfer.id)
  }

  // ------------------------------------------------------------------ closing an epoch (leader)

  private async closeEpoch(): Promise<void> {
    if (!this.isLeader() || this.proposal || this.disputeOpen) return
    this.ledger.close()
    await this.refreshMembers()
    const n = this.members.length
    const exitMask = [...this.exitRequests].filter((i) => i < n && !this.exited(i)).reduce((m, i) => m | (1n << BigInt(i)), 0n)
    const leaving = (i: number): boolean => this.exited(i) || ((exitMask >> BigInt(i)) & 1n) === 1n
    const honest = this.ledger.checkpoint({
      nextLeader: nextLeader(this.index, n, leaving),
      deposited: this.members.map((m) => m.deposit),
      prevDeposited: this.last.deposited,
      exitMask,
    })
    const cp = corruptProposal(honest, this.ledger.receipts(), this.members.map((m) => m.account), this.index, this.byzantine)
    const digest = this.digests.checkpoint(cp)
    const sig = this.sign(digest)
    this.proposal = { cp, digest, votes: new Map([[this.index, sig]]), submitted: false }
    this.proposedCount = cp.balances.length
    this.votesSeen.add(this.index)
    this.log(`epoch ${this.epoch}: proposing ${cp.txCount} transfers`)
    this.append({ type: 'proposal', checkpoint: cp, sig })
    await this.submitIfComplete()
  }

  private async onVote(author: number, leader: number, sig: Hex): Promise<void> {
    if (leader === this.leader) this.votesSeen.add(author) // for progress; the leader checks the signature below
    const p = this.proposal
    if (!this.isLeader() || leader !== this.index || !p) return
    if (recover(p.digest, sig) !== this.members[author]?.account.toLowerCase()) return this.blame(author, 'vote with a bad signature')
    p.votes.set(author, sig)
    await this.submitIfComplete()
  }

  private async submitIfComplete(): Promise<void> {
    const p = this.proposal
    if (!p || p.submitted || this.disputeOpen) return
    const n = p.cp.balances.length
    const needed = Array.from({ length: n }, (_, i) => i).filter((i) => !this.exited(i) && i !== p.contestedBy)
    if (!needed.every((i) => p.votes.has(i))) return
    p.submitted = true
    const sigs = Array.from({ length: n }, (_, i) => p.votes.get(i) ?? ('0x' as Hex))
    try {
      const r =
        p.contestedBy === undefined
          ? await this.chain.submitCheckpoint(p.cp, sigs)
          : await this.chain.submitContestedCheckpoint(p.cp, sigs, { balances: this.last.balances, deposited: this.last.deposited })
      this.append({ type: 'confirm', epoch: this.epoch, leader: this.index, txHash: r.hash })
      void this.pollChain()
    } catch (err) {
      p.submitted = false
      this.log(`checkpoint ${this.epoch} not submitted: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  // ------------------------------------------------------------------ checking a proposal (member)

  private async onProposal(author: number, cp: Checkpoint, sig: Hex): Promise<void> {
    if (this.isLeader() || this.voted || this.disputeOpen) return
    if (cp.leader !== author || recover(this.digests.checkpoint(cp), sig) !== this.members[author]?.account.toLowerCase()) {
      return this.blame(author, 'proposal not signed by its leader')
    }
    this.ledger.close()
    this.proposedCount = cp.balances.length
    this.votesSeen.add(author) // a proposal is its leader's vote
    // The leader spoke: give the vote (or a challenge, which may wait up to two timeouts) time before a view change.
    this.armEpochTimer(3 * this.timing.leaderTimeoutMs, () => this.leaderTimedOut())
    await this.refreshMembers()
    const n = cp.balances.length
    const exiting = (i: number): boolean => ((cp.exitMask >> BigInt(i)) & 1n) === 1n
    const problems: string[] = []
    if (n !== cp.deposited.length || n < this.last.balances.length || n > this.members.length) problems.push('member count')
    for (let i = 0; i < n; i++) {
      const d = cp.deposited[i] ?? 0n
      if (d < (this.last.deposited[i] ?? 0n) || d > (this.members[i]?.deposit ?? 0n)) problems.push(`deposit of ${i}`)
      if (exiting(i) && !this.exitRequests.has(i)) problems.push(`exit of ${i} nobody asked for`)
    }
    if (cp.nextLeader !== nextLeader(cp.leader, n, (i) => this.exited(i) || exiting(i))) problems.push('next leader')
    const expected = problems.length
      ? undefined
      : this.ledger.checkpoint({ nextLeader: cp.nextLeader, deposited: cp.deposited, prevDeposited: this.last.deposited, exitMask: cp.exitMask })
    if (expected && !this.byzantine.falseChallenge && sameCheckpoint(expected, cp)) {
      this.voted = true
      this.append({ type: 'vote', epoch: this.epoch, leader: author, sig: this.sign(this.digests.checkpoint(cp)) })
      return
    }
    this.log(`epoch ${this.epoch}: proposal of member ${author} disagrees with our ledger (${problems.join(', ') || 'balances or receipts'})`)
    const mine = this.evidence()
    if (this.byzantine.falseChallenge) return this.challenge(author, hideOutgoing(mine, this.address))
    if (!expected) return // not ours to challenge; without our vote it cannot land
    // A member whose own balance is wrong challenges at once. One whose balance is right but who sees another
    // receipt root can prove it only with two or more receipts of its own (an order); it waits, so a wronged
    // member's challenge comes first, and acts only if nobody has.
    if (expected.balances[this.index] !== cp.balances[this.index]) return this.challenge(author, mine)
    const rootDiffers = expected.txRoot !== cp.txRoot || expected.txCount !== cp.txCount
    if (!rootDiffers || mine.length < 2) return
    const attempt = this.attempt
    const delay = this.timing.leaderTimeoutMs * (1 + this.index / Math.max(1, this.members.length))
    this.later(delay, () => (this.attempt === attempt && !this.disputeOpen ? this.challenge(author, mine) : undefined))
  }

  private async challenge(leader: number, list: ReceiptedTransfer[]): Promise<void> {
    try {
      await this.chain.challenge(this.epoch, leader, list)
      this.log(`epoch ${this.epoch}: challenged leader ${leader} with ${list.length} transfers`)
    } catch (err) {
      this.log(`challenge not made: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  // ------------------------------------------------------------------ view change

  private leaderTimedOut(): void {
    if (this.isLeader() || this.disputeOpen) return
    this.log(`epoch ${this.epoch}: leader ${this.leader} timed out; voting to replace it`)
    this.append({ type: 'view-change', epoch: this.epoch, leader: this.leader })
    // Ask again later if the view change does not complete (votes may come from members still catching up).
    this.armEpochTimer(this.timing.leaderTimeoutMs, () => this.leaderTimedOut())
  }

  private onViewChange(author: number, leader: number): void {
    if (leader !== this.leader) return
    const votes = this.viewChanges.get(leader) ?? new Set<number>()
    votes.add(author)
    this.viewChanges.set(leader, votes)
    const voters = this.members.filter((m) => !m.exited && m.index !== leader && !this.excluded.has(m.index))
    if (!voters.every((m) => votes.has(m.index))) return
    this.excluded.add(leader)
    const next = nextLeader(leader, this.members.length, (i) => this.exited(i) || this.excluded.has(i))
    this.log(`epoch ${this.epoch}: view change from leader ${leader} to ${next}`)
    this.emit('view-change', { epoch: this.epoch, from: leader, to: next })
    this.startAttempt(next)
  }

  // ------------------------------------------------------------------ the chain

  /**
   * Reads new chain events outside the serial queue (entries keep flowing while the node waits for the RPC) and
   * queues their handling in order. One read at a time.
   */
  private async pollChain(): Promise<void> {
    if (this.polling || this.stopped) return
    this.polling = true
    try {
      const head = await this.chain.blockNumber()
      const events = head >= this.nextBlock ? await this.chain.events(this.nextBlock, head) : []
      this.nextBlock = Math.max(this.nextBlock, head + 1)
      for (const ev of events) this.enqueue(() => this.onChainEvent(ev))
      this.enqueue(() => this.resolveIfLeaderSilent())
    } catch (err) {
      this.log(`chain read failed: ${err instanceof Error ? err.message : String(err)}`)
    } finally {
      this.polling = false
    }
  }

  private async onChainEvent(ev: ChannelEvent): Promise<void> {
    switch (ev.type) {
      case 'CheckpointSubmitted': {
        this.pastLeaders.set(ev.epoch, ev.leader)
        if (ev.epoch < this.epoch) return
        for (const r of this.history.values()) {
          if (r.transfer.epoch === ev.epoch && r.status === 'receipted') this.update(r, 'checkpointed')
        }
        const caughtUp = ev.epoch === this.epoch && ev.leader === this.leader && this.ledger.seq === ev.txCount
        this.last = { epoch: ev.epoch, balances: ev.balances, deposited: ev.deposited }
        this.emit('checkpoint', { epoch: ev.epoch, leader: ev.leader, txHash: ev.transactionHash, balances: ev.balances })
        await this.refreshMembers()
        if (this.exited(this.index)) {
          this.log(`exited with checkpoint ${ev.epoch}`)
          this.emit('exited', { epoch: ev.epoch })
          return this.halt()
        }
        this.beginEpoch(ev.epoch + 1n, ev.nextLeader, caughtUp)
        return
      }
      case 'Challenged': {
        if (ev.epoch !== this.epoch) return
        this.disputeOpen = true
        this.ledger.close()
        this.emit('dispute', { epoch: ev.epoch, challenger: ev.challenger, leader: ev.leader })
        if (ev.challenger === this.index) this.challengedAs = { challenger: ev.challenger, deadline: ev.deadline }
        if (ev.leader === this.index) await this.answerChallenge(ev.challenger)
        return
      }
      case 'Responded': {
        if (this.challengedAs) await this.tryResolve()
        return
      }
      case 'DisputeResolved': {
        if (ev.epoch !== this.epoch) return
        this.emit('dispute', { epoch: ev.epoch, challenger: ev.challenger, leader: ev.leader, leaderRight: ev.leaderRight })
        this.disputeOpen = false
        this.challengedAs = undefined
        if (ev.leaderRight) {
          if (ev.leader === this.index && this.proposal) {
            this.proposal.contestedBy = ev.challenger
            await this.submitIfComplete()
          }
          return
        }
        this.excluded.add(ev.leader)
        this.log(`epoch ${this.epoch}: leader ${ev.leader} lost the dispute; restarting under ${ev.nextLeader}`)
        this.startAttempt(ev.nextLeader)
        return
      }
      default:
        return
    }
  }

  private async answerChallenge(challenger: number): Promise<void> {
    const honest = this.ledger.involving(challenger)
    const list = corruptAnswer(honest, this.ledger.receipts(), this.byzantine, (victimList) => this.forgePayment(challenger, victimList))
    try {
      await this.chain.respond(list)
      this.log(`epoch ${this.epoch}: answered the challenge of member ${challenger} with ${list.length} transfers`)
    } catch (err) {
      this.log(`response not made: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  /** Byzantine only: a payment from the victim to this leader "signed" by the leader in the victim's place. */
  private forgePayment(victim: number, list: ReceiptedTransfer[]): ReceiptedTransfer | null {
    const amount = this.byzantine.inflateOwnBalance
    const from = this.members[victim]
    if (!amount || !from) return null
    const transfer: Transfer = { id: randomTransferId(), epoch: this.epoch, from: from.account, to: this.address, amount }
    const seq = (list.at(-1)?.seq ?? -1) + 1
    const d = this.digests.transfer(transfer)
    return {
      transfer,
      seq,
      senderSig: this.sign(d),
      receiverSig: this.sign(d),
      leaderSig: this.sign(this.digests.receipt({ transfer: hashTransfer(transfer), epoch: this.epoch, seq })),
    }
  }

  private async resolveIfLeaderSilent(): Promise<void> {
    if (!this.challengedAs) return
    if (BigInt(Math.floor(Date.now() / 1000)) > this.challengedAs.deadline) await this.tryResolve()
  }

  private async tryResolve(): Promise<void> {
    try {
      await this.chain.resolve()
    } catch (err) {
      this.log(`resolve not made: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

/** The keys of the two answers to a request: its receiver says one or the other, once. */
const countersignKey = (id: Hex): string => `countersign:${id}`
const rejectKey = (id: Hex): string => `reject:${id}` // a leader's refusal is the one answer from it too

/** Identifies an entry's decision, so the same decision is never written twice. */
function entryKey(e: Entry): string {
  switch (e.type) {
    case 'request':
      return `request:${e.transfer.id}`
    case 'countersign':
      return countersignKey(e.transfer.id)
    case 'receipt':
      return `receipt:${e.tx.transfer.id}:${e.tx.seq}`
    case 'reject':
      return rejectKey(e.id)
    case 'proposal':
      return `proposal:${e.checkpoint.epoch}:${e.checkpoint.leader}`
    case 'vote':
    case 'view-change':
      return `${e.type}:${e.epoch}:${e.leader}`
    case 'confirm':
      return `confirm:${e.epoch}`
    case 'exit':
      return `exit:${e.epoch}`
  }
}

function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return (
    a.epoch === b.epoch &&
    a.leader === b.leader &&
    a.nextLeader === b.nextLeader &&
    a.exitMask === b.exitMask &&
    a.txRoot === b.txRoot &&
    a.txCount === b.txCount &&
    a.balances.length === b.balances.length &&
    a.balances.every((v, i) => v === b.balances[i]) &&
    a.deposited.length === b.deposited.length &&
    a.deposited.every((v, i) => v === b.deposited[i])
  )
}

