// One member's node: chain, member list, trade logs, swarm and consensus composed, and shut down in that order's
// reverse. The account key comes from the caller (the vault, or the headless node's key file) and never reaches a
// log or an error.
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { ChainError, ChannelClient, chainProvider, NewHeads, readChannelSettings, webSocketUrl, type CheckpointEvent, type DisputeRecord, type MemberRecord, type NetworkKind, type TxResult } from '../chain/index.js'
import type { Conduct } from '../consensus/conduct.js'
import { MemberList } from '../consensus/member-list.js'
import { errorMessage } from '../util/error-message.js'
import type { Transport } from '../consensus/transport.js'
import {
  Participant,
  TransferRejected,
  type EpochProgress,
  type ParticipantEvents,
  type Timing,
  type TransferRecord,
} from '../consensus/participant.js'
import { peerKeyFromHex, peerKeyHex, type PeerKeyPair } from '../log/peer-key.js'
import { TradeLogs } from '../log/trade-logs.js'
import { ChannelSwarm, channelTopic, type Bootstrap } from '../net/channel-swarm.js'
import type { Hex } from '../protocol/types.js'
import { checkAmount } from './amount-limit.js'
import { ApiCallError } from './api-reply.js'
import { ChannelHistory } from './channel-history.js'
import { CountedDeposits } from './counted-deposits.js'
import { ensureDataDir } from './data-dir.js'
import { EpochClock } from './epoch-clock.js'
import { GasLedger, providerReceipts, type GasSpent } from './gas-spent.js'
import { ResumedPayments, type ResumedPayment } from './resumed-payments.js'
import { RecordingWallet, SentTransactions } from './sent-transactions.js'
import { TxFeeCache } from './tx-fees.js'

/**
 * How often a node reads the member list from the chain besides when its chain poll sees a join, deposit or exit
 * (new logs to follow, new keys to let in): a fallback.
 */
const WATCH_MS = 5000
/** How long members take at least to let a newcomer in: their next chain poll sees its join and reads the list. */
const NOTICE_MS = 1500
/** Transfers whose last status change time is kept (a view shows the newest 200). */
const TIMES_KEPT = 10_000

export interface ChannelNodeOptions {
  rpcUrl: string
  chainId: bigint
  channel: string
  /** The member's account key. */
  privateKey: Hex
  peerKey: PeerKeyPair
  /** A new peer key in place of `peerKey`, kept for later starts: used when another account registered it first. */
  replacePeerKey?: () => Promise<PeerKeyPair>
  dataDir: string
  bootstrap?: Bootstrap
  timing: Timing
  /** Join with this deposit (wei) if the account is not a member yet. */
  joinWith?: bigint
  /** How this member bends its decisions: honest unless a test injects otherwise. */
  conduct?: Conduct
  /** Wraps the trade logs the participant writes to (tests inject misbehaviour here). */
  wrapTransport?: (logs: Transport) => Transport
  /** 'sandbox' (default) polls a local chain fast; 'rpc' suits a real network's RPC. */
  networkKind?: NetworkKind
  log?: (line: string) => void
}

export interface MemberView {
  index: number
  account: string
  exited: boolean
  online: boolean
  /** Its balance in the running epoch, with our own payments whose receipt was pushed to us ahead of the log. */
  balance: bigint
  /** Deposited on chain and not counted by the last checkpoint: the next one adds it to the balance. */
  pendingDeposit: bigint
  /** Entries of this member ignored as junk (undecodable, wrongly signed, not its to send). */
  ignoredEntries: number
}

export interface NodeState {
  channel: string
  chainId: string
  me: number
  address: string
  epoch: bigint
  leader: number
  members: MemberView[]
  /** Trading or voting, who voted and who is awaited; the receipts count those of our payments pushed to us. */
  progress: EpochProgress
  /** When the running epoch is due to close (ms since 1970): the checkpoint counting pending deposits follows. */
  epochEndsAt: number
}

export class ChannelNode {
  private staleAfter: bigint | undefined
  /** When each transfer reached its status (ms since 1970), by id, oldest change first. */
  private readonly changedAt = new Map<string, number>()
  /**
   * Our payments receipted by the leader's push that the ledger may not hold yet: it takes receipts from the
   * leader's log, in order, so for a moment the payment is receipted and the balances do not show it.
   */
  private readonly aheadOfLedger = new Set<TransferRecord>()

  private constructor(
    readonly participant: Participant,
    private readonly logs: TradeLogs,
    private readonly swarm: ChannelSwarm,
    private readonly chain: ChannelClient,
    private readonly opts: ChannelNodeOptions,
    readonly index: number,
    private readonly members: MemberList,
    private readonly closeChainLink: () => void,
    private readonly chainHistory: ChannelHistory,
    private readonly gas: GasLedger,
    private readonly resumed: ResumedPayments,
    private readonly counted: CountedDeposits,
    private readonly clock: EpochClock,
  ) {
    participant.on('transfer', (r) => {
      this.changedAt.delete(r.transfer.id)
      this.changedAt.set(r.transfer.id, Date.now())
      if (this.changedAt.size > TIMES_KEPT) this.changedAt.delete(this.changedAt.keys().next().value!)
      if (r.status === 'receipted') this.aheadOfLedger.add(r)
    })
    participant.on('epoch', () => {
      clock.began()
      this.aheadOfLedger.clear() // receipts of the last epoch are checkpointed or void (and never kept unread)
    })
    participant.on('view-change', () => clock.began())
  }

  /** What happens in the channel: epochs, transfers, checkpoints, view changes, disputes, our exit. */
  get events(): EventEmitter<ParticipantEvents> {
    return this.participant
  }

  static async start(opts: ChannelNodeOptions): Promise<ChannelNode> {
    const log = opts.log ?? (() => {})
    if (opts.joinWith !== undefined) checkAmount(opts.joinWith) // before anything is opened
    const provider = chainProvider(opts.networkKind ?? 'sandbox', opts.rpcUrl, opts.chainId)
    const sent = new SentTransactions(join(opts.dataDir, 'sent-transactions.json'))
    const wallet = new RecordingWallet(opts.privateKey, provider, (hash) => sent.record(hash))
    const chain = ChannelClient.at(opts.channel, wallet)
    const memberList = new MemberList(chain)
    if (opts.joinWith !== undefined) {
      // No deposit to code other than the channel contract's, or to settings its constructor would refuse.
      await readChannelSettings(provider, opts.channel).catch((err: unknown) => {
        provider.destroy()
        throw err
      })
    }
    // Made before the join: a join that reverted cost gas too, and the record of it is kept there.
    ensureDataDir(opts.dataDir)
    let members = await memberList.refresh()
    let me = members.findIndex((m) => m.account === wallet.address)
    let justJoined = false
    let peerKey = opts.peerKey
    if (me < 0) {
      justJoined = true
      if (opts.joinWith === undefined) throw new Error(`${wallet.address} is not a member of channel ${opts.channel}`)
      peerKey = await joinWithOwnKey(chain, memberList, opts.peerKey, opts.joinWith, opts.replacePeerKey, log)
      members = await memberList.refresh()
      me = members.findIndex((m) => m.account === wallet.address)
      log(`joined as member ${me}`)
    }
    const registered = members[me]?.peerKey
    if (!registered || !peerKeyFromHex(registered).equals(peerKey.publicKey)) {
      throw new Error('this node\'s peer key is not the one registered on chain for the account')
    }

    const logs = new TradeLogs(join(opts.dataDir, 'logs'), peerKey, me, log)
    await logs.open()
    /** Member index by hex peer key: the firewall's list, and who pushed an entry. */
    const memberKeys = new Map<string, number>()
    let swarm: ChannelSwarm | undefined
    const followAll = async (list: readonly MemberRecord[]): Promise<void> => {
      for (const m of list) {
        const key = peerKeyFromHex(m.peerKey)
        if (memberKeys.has(key.toString('hex'))) continue
        memberKeys.set(key.toString('hex'), m.index)
        if (m.index !== me) await logs.follow(m.index, key)
        swarm?.admit(key)
      }
    }
    await followAll(members)
    swarm = new ChannelSwarm({
      keyPair: peerKey,
      topic: channelTopic(opts.chainId, opts.channel),
      store: logs.store,
      isMember: (pk) => memberKeys.has(pk.toString('hex')),
      ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
      pushed: (from, position, entry) => {
        const author = memberKeys.get(from.toString('hex'))
        if (author !== undefined) logs.pushed(author, position, entry)
      },
      pushLost: () => logs.pushesLost(),
      log,
    })
    // Our journaled entries go straight to the members that must act on them; false if one could not be reached.
    const pushTo = swarm
    logs.push = (to, position, entry) => {
      let all = true
      for (const i of to) {
        const m = memberList.get(i)
        if (m && !m.exited && !pushTo.push(peerKeyFromHex(m.peerKey), position, entry)) all = false
      }
      return all
    }
    const counted = new CountedDeposits()
    const participant = new Participant({
      index: me,
      privateKey: opts.privateKey,
      chain: memberList.refreshedBy(counted.watching(chain)),
      transport: opts.wrapTransport ? opts.wrapTransport(logs) : logs,
      timing: opts.timing,
      members: memberList,
      ...(opts.conduct ? { conduct: opts.conduct } : {}),
      log,
    })
    // Joiners: follow their logs and let their keys through the firewall (whoever read the list saw them first).
    memberList.onChange((list) => void followAll(list).catch((err: unknown) => log(`following new members failed: ${errorMessage(err)}`)))
    memberList.watch(WATCH_MS)
    const history = new ChannelHistory(chain)
    const fees = new TxFeeCache(join(opts.dataDir, 'tx-fees.json'))
    const gas = new GasLedger(wallet.address, history, sent, fees, providerReceipts(provider), log)
    const resumed = new ResumedPayments(join(opts.dataDir, 'resumed-payments.json'), opts.timing.leaderTimeoutMs)
    const clock = new EpochClock(opts.timing)
    let heads: NewHeads | undefined
    const closeChainLink = (): void => {
      heads?.close()
      provider.destroy()
    }
    const node = new ChannelNode(participant, logs, swarm, chain, opts, me, memberList, closeChainLink, history, gas, resumed, counted, clock)
    try {
      const { checkpointedAt } = await chain.status()
      await participant.start()
      // A local chain tells us of its blocks (one JSON-RPC poll per peer every 100 ms cost most of an idle peer's
      // CPU); a public RPC endpoint is polled.
      if ((opts.networkKind ?? 'sandbox') === 'sandbox') {
        heads = new NewHeads(webSocketUrl(opts.rpcUrl), () => participant.chainMoved(), (live) => participant.blockNotices(live))
      }
      // A leader starting now closes the epoch an epoch from now; another leader, an epoch after the last checkpoint
      // (or the deployment), as far as we can tell.
      if (participant.currentLeader !== me) clock.began(Math.min(Date.now(), Number(checkpointedAt) * 1000))
      node.followResumed(log)
      // Knocking before members have read our join gets a newcomer firewalled (and banned by Hyperswarm until they
      // lift it), so a newcomer gives them time to learn its key first (no one to wait for in a channel of one).
      if (justJoined && memberList.count > 1) await new Promise((r) => setTimeout(r, Math.max(NOTICE_MS, 3 * opts.timing.chainPollMs)))
      await swarm.join()
    } catch (err) {
      await node.close().catch(() => {}) // leave no open store, swarm or timer behind
      throw err
    }
    return node
  }

  state(): NodeState {
    const online = new Set(this.swarm.connectedPeers().map((k) => k.toString('hex')))
    const progress = this.participant.progress()
    const { shift, receipts } = this.receiptsAhead(progress)
    const lastCheckpoint = this.participant.runningEpoch - 1n
    return {
      channel: this.opts.channel,
      chainId: this.opts.chainId.toString(),
      me: this.index,
      address: this.participant.address,
      epoch: this.participant.runningEpoch,
      leader: this.participant.currentLeader,
      progress: { ...progress, receipts },
      epochEndsAt: this.clock.endsAt(),
      members: this.members.all.map((m) => {
        const counted = this.counted.counted(lastCheckpoint, m.index)
        return {
          index: m.index,
          account: m.account,
          exited: m.exited,
          online: m.index === this.index || online.has(m.peerKey.slice(2).toLowerCase()),
          balance: this.participant.balanceOf(m.index) + (shift.get(m.index) ?? 0n),
          pendingDeposit: m.exited || counted === undefined || m.deposit <= counted ? 0n : m.deposit - counted,
          ignoredEntries: this.participant.misbehaviour.get(m.index) ?? 0,
        }
      }),
    }
  }

  /**
   * What our payments receipted by a push and not yet in the ledger change: each member's balance, and the receipts
   * seen. A receipt is in the ledger once the ledger's count passes its seq (the log brings them in order); one of
   * another round or epoch no longer counts.
   */
  private receiptsAhead(progress: EpochProgress): { shift: Map<number, bigint>; receipts: number } {
    const shift = new Map<number, bigint>()
    let receipts = progress.receipts
    const move = (account: string, amount: bigint): void => {
      const i = this.members.indexOf(account)
      if (i !== undefined) shift.set(i, (shift.get(i) ?? 0n) + amount)
    }
    for (const r of this.aheadOfLedger) {
      const t = r.transfer
      const ahead = r.status === 'receipted' && t.epoch === progress.epoch && r.receiptLeader === progress.leader &&
        r.seq !== undefined && r.seq >= progress.receipts
      if (!ahead) {
        this.aheadOfLedger.delete(r) // in the ledger now, or no longer counted (a new round or epoch)
        continue
      }
      move(t.from, -t.amount)
      move(t.to, t.amount)
      receipts = Math.max(receipts, r.seq! + 1)
    }
    return { shift, receipts }
  }

  /** When `id` reached its status (ms since 1970), if it changed while this node ran. */
  changedAtOf(id: string): number | undefined {
    return this.changedAt.get(id)
  }

  /**
   * Pays `amount` wei to member `to`. The amount is checked here, before the participant records the payment: one
   * it could never sign (above uint256) or the contract never settle would be re-sent, and fail, every epoch.
   */
  async send(to: number, amount: bigint): Promise<TransferRecord> {
    checkAmount(amount)
    if (!Number.isSafeInteger(to) || to < 0) throw new ApiCallError('BAD_MEMBER', `There is no member ${String(to)} to pay.`)
    const record = await this.participant.send(to, amount).catch((err: unknown) => {
      if (err instanceof TransferRejected) this.resumed.sent(err.transfer)
      throw err
    })
    this.resumed.sent(record)
    return record
  }

  /** Payments of ours this run did not send that ended after the restart, until dismissed: the person is told. */
  resumedPayments(): ResumedPayment[] {
    return this.resumed.ended(this.participant.transfers())
  }

  /** The person has seen these resumed payments (ids as resumedPayments gives them). */
  dismissResumed(ids: readonly string[]): void {
    this.resumed.dismiss(ids, this.participant.transfers())
  }

  /**
   * From the epoch this run started in (the start's own epoch event has passed), every new epoch moves the line
   * past which payments count as resumed. Checked after the epoch change's task, once a payment it refused has
   * reached its sender's send(): only then is it known as one of this run's.
   */
  private followResumed(log: (line: string) => void): void {
    this.resumed.started(this.participant.runningEpoch)
    this.participant.on('epoch', ({ epoch }) =>
      setImmediate(() => {
        try {
          this.resumed.epochBegan(epoch, this.participant.transfers())
        } catch (err) {
          log(`could not write which payments finished after a restart: ${errorMessage(err)}`)
        }
      }),
    )
  }

  history(): TransferRecord[] {
    return this.participant.transfers()
  }

  requestExit(): void {
    this.participant.requestExit()
  }

  /** Every checkpoint that landed on chain, oldest first, with its transaction (old blocks are read once). */
  async checkpoints(): Promise<CheckpointEvent[]> {
    return (await this.chainHistory.read()).events.flatMap((e) => (e.type === 'CheckpointSubmitted' ? [e] : []))
  }

  /** The fees our account has paid for transactions to the channel contract, reverted ones included. */
  gasSpent(): Promise<GasSpent> {
    return this.gas.spent()
  }

  /** The open dispute if any, and from when the channel may be closed on chain for want of checkpoints. */
  async disputeAndStaleness(): Promise<{ dispute: DisputeRecord | undefined; closableAt: number; closed: boolean }> {
    this.staleAfter ??= (await this.chain.params()).staleAfter // fixed at deployment
    const status = await this.chain.status()
    return {
      dispute: status.disputePhase === 'none' ? undefined : await this.chain.dispute(),
      closableAt: Number(status.checkpointedAt + this.staleAfter),
      closed: status.closed,
    }
  }

  /** Adds `amount` wei to our deposit; the next checkpoint includes it. */
  async deposit(amount: bigint): Promise<TxResult> {
    checkAmount(amount)
    const result = await this.chain.deposit(amount)
    await this.members.refresh().catch(() => {}) // shown pending at once; the watch reads it again anyway
    return result
  }

  /**
   * Closes the channel on chain from its last checkpoint, paying everyone out. The contract allows it only once no
   * checkpoint has landed for its `staleAfter` period (the members stopped agreeing or went away).
   */
  async closeOnChain(): Promise<TxResult> {
    return this.chain.close(await this.chain.lastCheckpointState())
  }

  /** Collects an exit payout the contract could not push to us. */
  withdraw(): Promise<TxResult> {
    return this.chain.withdraw()
  }

  /** Wei the contract owes us after an exit it could not pay out. */
  owed(): Promise<bigint> {
    return this.chain.owed(this.participant.address)
  }

  /** Shuts down in order: consensus, then the swarm, then the logs (nothing half-written), then the chain link. */
  async close(): Promise<void> {
    this.members.stop()
    await this.participant.stop()
    await this.swarm.close()
    await this.logs.close()
    this.closeChainLink()
  }

  /** Refreshes the member list this node reports (joins and exits). */
  async refresh(): Promise<void> {
    await this.members.refresh()
  }
}

/** Joins tried at most with keys someone else took first, before giving up. */
const MAX_KEY_REPLACEMENTS = 3

/**
 * Joins with our peer key; if another account registered that key first (it saw our join, or copied the key from
 * a log), joins with a new one instead. Returns the key we joined with.
 */
async function joinWithOwnKey(
  chain: ChannelClient,
  members: MemberList,
  key: PeerKeyPair,
  amount: bigint,
  replace: (() => Promise<PeerKeyPair>) | undefined,
  log: (line: string) => void,
): Promise<PeerKeyPair> {
  for (let replaced = 0; ; replaced++) {
    const taken = (await members.refresh()).some((m) => peerKeyFromHex(m.peerKey).equals(key.publicKey))
    if (!taken) {
      try {
        await chain.join(peerKeyHex(key.publicKey), amount)
        return key
      } catch (err) {
        // Taken between our check and our transaction (front-run): anything else is not ours to mend.
        if (!(err instanceof ChainError && err.code === 'InvalidPeerKey')) throw err
      }
    }
    if (!replace || replaced >= MAX_KEY_REPLACEMENTS) {
      throw new ChainError('InvalidPeerKey', 'another account registered this node\'s peer key first; the join was not made')
    }
    log('our peer key was registered by another account first: joining with a new one')
    key = await replace()
  }
}
