// The ethers v6 adapter of the channel contract: one typed method per contract call, typed events, typed reads.
// Every failure comes back as a ChainError naming the contract's revert.
import {
  Contract,
  ContractFactory,
  Interface,
  type ContractRunner,
  type Log,
  type Provider,
  type Signer,
  type TransactionReceipt,
} from 'ethers'
import * as artifact from './generated/Channel.js'
import { ChainError, toChainError } from './errors.js'
import type { ChannelDomain, Checkpoint, Hex, ReceiptedTransfer } from '../protocol/types.js'
import type {
  ChainPort,
  ChannelEvent,
  ChannelParams,
  ChannelStatus,
  CheckpointEvent,
  CheckpointState,
  DisputePhase,
  DisputeRecord,
  EventMeta,
  LeaderEvidence,
  MemberRecord,
  TxResult,
} from '../consensus/chain-port.js'

// The consensus layer owns these types (it declares the port this adapter implements); re-exported for callers.
export type {
  ChannelEvent,
  ChannelParams,
  ChannelStatus,
  CheckpointEvent,
  CheckpointState,
  DisputePhase,
  DisputeRecord,
  LeaderEvidence,
  MemberRecord,
  TxResult,
} from '../consensus/chain-port.js'

export const channelInterface = new Interface(artifact.abi)

const PHASES: readonly DisputePhase[] = ['none', 'open', 'responded', 'leader-won']

/** A Result from ethers, read positionally; the ABI fixes the order and types. */
type Row = readonly unknown[]
const num = (v: unknown): number => Number(v as bigint)
const big = (v: unknown): bigint => v as bigint
const hex = (v: unknown): Hex => v as Hex
const bigs = (v: unknown): bigint[] => [...(v as bigint[])]
/** A member's record from its fields as the contract returns them: account, peer key, deposit, exited. */
const memberRecord = (index: number, r: Row): MemberRecord => ({
  index,
  account: String(r[0]),
  peerKey: hex(r[1]),
  deposit: big(r[2]),
  exited: Boolean(r[3]),
})

/** The checkpoint both CheckpointSubmitted and CheckpointProposed carry in their first eight fields. */
function checkpointOf(a: Row): Checkpoint {
  return {
    epoch: big(a[0]),
    leader: num(a[1]),
    nextLeader: num(a[2]),
    txRoot: hex(a[3]),
    txCount: num(a[4]),
    exitMask: big(a[5]),
    balances: bigs(a[6]),
    deposited: bigs(a[7]),
  }
}

function toEvent(log: Log): ChannelEvent | null {
  let parsed
  try {
    parsed = channelInterface.parseLog(log)
  } catch {
    return null
  }
  if (!parsed) return null
  const a: Row = parsed.args
  const meta: EventMeta = { blockNumber: log.blockNumber, transactionHash: log.transactionHash as Hex }
  switch (parsed.name) {
    case 'Joined':
      return { ...meta, type: 'Joined', index: num(a[0]), account: String(a[1]), peerKey: hex(a[2]), amount: big(a[3]) }
    case 'Deposited':
      return { ...meta, type: 'Deposited', index: num(a[0]), amount: big(a[1]), total: big(a[2]) }
    case 'CheckpointSubmitted':
      return { ...meta, type: 'CheckpointSubmitted', ...checkpointOf(a) }
    case 'Exited':
      return { ...meta, type: 'Exited', index: num(a[0]), account: String(a[1]), amount: big(a[2]) }
    case 'PaymentDeferred':
      return { ...meta, type: 'PaymentDeferred', account: String(a[0]), amount: big(a[1]) }
    case 'Withdrawn':
      return { ...meta, type: 'Withdrawn', account: String(a[0]), amount: big(a[1]) }
    case 'Challenged':
      return {
        ...meta,
        type: 'Challenged',
        epoch: big(a[0]),
        challenger: num(a[1]),
        leader: num(a[2]),
        count: num(a[3]),
        listed: num(a[4]),
        listDeadline: big(a[5]),
        deadline: big(a[6]),
      }
    case 'ChallengeListed':
      return { ...meta, type: 'ChallengeListed', epoch: big(a[0]), listed: num(a[1]), deadline: big(a[2]) }
    case 'Answered':
      return { ...meta, type: 'Answered', epoch: big(a[0]), listed: num(a[1]) }
    case 'Responded':
      return { ...meta, type: 'Responded', epoch: big(a[0]), count: num(a[1]), leaderRight: Boolean(a[2]) }
    case 'DisputeResolved':
      return {
        ...meta,
        type: 'DisputeResolved',
        epoch: big(a[0]),
        challenger: num(a[1]),
        leader: num(a[2]),
        leaderRight: Boolean(a[3]),
        nextLeader: num(a[4]),
      }
    case 'ChannelClosed':
      return { ...meta, type: 'ChannelClosed', epoch: big(a[0]) }
    case 'CheckpointProposed':
      return {
        ...meta,
        type: 'CheckpointProposed',
        checkpoint: checkpointOf(a),
        unsignedMask: big(a[8]),
        deadline: big(a[9]),
      }
    default:
      return null
  }
}

/** Contract struct arguments as ethers encodes them. */
const checkpointArg = (cp: Checkpoint) => ({ ...cp })
const txsArg = (txs: readonly ReceiptedTransfer[]) => txs.map((t) => ({ ...t, transfer: { ...t.transfer } }))

/**
 * Dispute list entries per transaction: a chunk of the challenger's list (about 71k gas an entry when more chunks
 * follow) stays near 9M gas, well under the 16,777,216 per-transaction cap.
 */
export const LIST_CHUNK = 128

/** A list sent in chunks: the last transaction's result with the gas and events of all, and each transaction's. */
export interface ListResult extends TxResult {
  parts: TxResult[]
}

function chunksOf<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out.length > 0 ? out : [[]]
}

function joined(parts: TxResult[]): ListResult {
  const last = parts.at(-1)!
  return {
    ...last,
    gasUsed: parts.reduce((sum, p) => sum + p.gasUsed, 0n),
    events: parts.flatMap((p) => p.events),
    parts,
  }
}

/** Blocks per log query to start with; endpoints that allow fewer say so and get halves until one fits. */
const LOG_WINDOW = 10_000
/** How endpoints word "that log query's range or result is too large" (Alchemy, Infura, QuickNode, Ankr, ...). */
const RANGE_REFUSED = /range|too (many|large|wide|big)|exceed|more than|maximum|limit/i
/** ... but a rate limit is not about the range: smaller windows would only mean more requests. */
const RATE_LIMITED = /rate.?limit|too many requests|\b429\b/i

/** Every message ethers and the endpoint attached to an error. */
function errorText(err: unknown): string {
  const e = err as { message?: unknown; shortMessage?: unknown; error?: { message?: unknown }; info?: { error?: { message?: unknown } } }
  return [e.message, e.shortMessage, e.error?.message, e.info?.error?.message].filter((m) => typeof m === 'string').join(' ')
}

export class ChannelClient implements ChainPort {
  private readonly contract: Contract
  private deployedAt: Promise<number> | undefined
  private logWindow = LOG_WINDOW

  /** Dispute list entries per transaction (tests set fewer to see lists travel in chunks). */
  listChunk = LIST_CHUNK

  private constructor(
    readonly address: string,
    private readonly runner: ContractRunner,
  ) {
    this.contract = new Contract(address, channelInterface, runner)
  }

  /** Deploys a new channel from `deployer`. */
  static async deploy(deployer: Signer, params: ChannelParams): Promise<ChannelClient> {
    const factory = new ContractFactory(channelInterface, artifact.bytecode, deployer)
    try {
      const contract = await factory.deploy(
        params.responseWindow,
        params.staleAfter,
        params.txCap,
        params.challengeWindow ?? params.responseWindow,
        params.minDeposit ?? 1n,
        params.invited ?? [],
      )
      await contract.waitForDeployment()
      return new ChannelClient(await contract.getAddress(), deployer)
    } catch (err) {
      throw toChainError(err, channelInterface)
    }
  }

  static at(address: string, runner: ContractRunner): ChannelClient {
    return new ChannelClient(address, runner)
  }

  /** The same channel, sending from another account. */
  as(runner: ContractRunner): ChannelClient {
    const other = new ChannelClient(this.address, runner)
    other.listChunk = this.listChunk
    return other
  }

  private get provider(): Provider {
    const p = this.runner.provider
    if (!p) throw new ChainError('NETWORK', 'this channel client has no provider')
    return p
  }

  // ------------------------------------------------------------ transactions

  join(peerKey: Hex, amount: bigint): Promise<TxResult> {
    return this.send('join', [peerKey], amount)
  }

  deposit(amount: bigint): Promise<TxResult> {
    return this.send('deposit', [], amount)
  }

  submitCheckpoint(cp: Checkpoint, sigs: readonly Hex[]): Promise<TxResult> {
    return this.send('submitCheckpoint', [checkpointArg(cp), [...sigs]])
  }

  proposeCheckpoint(cp: Checkpoint, sigs: readonly Hex[]): Promise<TxResult> {
    return this.send('proposeCheckpoint', [checkpointArg(cp), [...sigs]])
  }

  finalizeCheckpoint(cp: Checkpoint, prev: CheckpointState): Promise<TxResult> {
    return this.send('finalizeCheckpoint', [checkpointArg(cp), prev.balances, prev.deposited])
  }

  submitContestedCheckpoint(cp: Checkpoint, sigs: readonly Hex[], prev: CheckpointState): Promise<TxResult> {
    return this.send('submitContestedCheckpoint', [checkpointArg(cp), [...sigs], prev.balances, prev.deposited])
  }

  /**
   * Our list against `leader`, in chunks; `led` shows that `leader` led the epoch (its signed proposal): a member that
   * did not lead cannot be challenged. A list of ours begun before (a restart, a failed chunk) goes on from the entries the
   * contract holds: a list cut short is what the dispute judges.
   */
  async challenge(epoch: bigint, leader: number, txs: readonly ReceiptedTransfer[], led: LeaderEvidence): Promise<ListResult> {
    const parts: TxResult[] = []
    let from = await this.challengeListed(epoch, leader, txs.length)
    if (from === undefined) {
      const first = txs.slice(0, this.listChunk)
      parts.push(await this.send('challenge', [epoch, leader, txsArg(first), checkpointArg(led.checkpoint), led.sig, txs.length]))
      from = first.length
    }
    for (const chunk of chunksOf(txs.slice(from), this.listChunk)) {
      if (chunk.length > 0) parts.push(await this.send('challengeMore', [txsArg(chunk)]))
    }
    return joined(parts)
  }

  /** Entries of our unfinished list of `total` against `leader` in `epoch` the contract holds; undefined if none is open. */
  private async challengeListed(epoch: bigint, leader: number, total: number): Promise<number | undefined> {
    const [status, d] = await Promise.all([this.status(), this.dispute()])
    if (status.disputePhase !== 'open' || d.epoch !== epoch || d.leader !== leader || d.challengerTotal !== total) return undefined
    if (d.challengerCount >= total || !('getAddress' in this.runner)) return undefined
    const me = await (this.runner as Signer).getAddress()
    return (await this.member(d.challenger)).account.toLowerCase() === me.toLowerCase() ? d.challengerCount : undefined
  }

  /**
   * Sends our answer in chunks, each with the whole list's length. An answer begun before (a restart, a failed
   * transaction) goes on from the entries the contract holds: sent again from the start it would list them twice.
   */
  async respond(txs: readonly ReceiptedTransfer[]): Promise<ListResult> {
    const d = await this.dispute()
    const from = d.leaderTotal === txs.length ? d.leaderCount : 0
    const parts: TxResult[] = []
    for (const chunk of chunksOf(txs.slice(from), this.listChunk)) parts.push(await this.send('respond', [txsArg(chunk), txs.length]))
    return joined(parts)
  }

  resolve(): Promise<TxResult> {
    return this.send('resolve', [])
  }

  close(last: CheckpointState): Promise<TxResult> {
    return this.send('close', [last.balances, last.deposited])
  }

  withdraw(): Promise<TxResult> {
    return this.send('withdraw', [])
  }

  private async send(method: string, args: unknown[], value?: bigint): Promise<TxResult> {
    try {
      const fn = this.contract.getFunction(method)
      const tx = await fn(...args, value === undefined ? {} : { value })
      const receipt = (await tx.wait()) as TransactionReceipt | null
      if (!receipt) throw new ChainError('UNKNOWN', `${method}: the transaction was dropped`)
      return {
        hash: receipt.hash as Hex,
        blockNumber: receipt.blockNumber,
        gasUsed: receipt.gasUsed,
        events: receipt.logs.flatMap((l) => toEvent(l) ?? []),
      }
    } catch (err) {
      throw toChainError(err, channelInterface)
    }
  }

  // ------------------------------------------------------------ reads

  private async call<T>(method: string, args: unknown[], convert: (r: Row) => T): Promise<T> {
    try {
      return convert(await this.contract.getFunction(method).staticCallResult(...args))
    } catch (err) {
      throw toChainError(err, channelInterface)
    }
  }

  async domain(): Promise<ChannelDomain> {
    const { chainId } = await this.provider.getNetwork()
    return { chainId, verifyingContract: this.address }
  }

  status(): Promise<ChannelStatus> {
    return this.call('status', [], (r) => ({
      checkpointedEpoch: big(r[0]),
      runningEpoch: big(r[0]) + 1n,
      leader: num(r[1]),
      included: num(r[2]),
      checkpointedAt: big(r[3]),
      disputePhase: PHASES[num(r[4])] ?? 'none',
      closed: Boolean(r[5]),
    }))
  }

  params(): Promise<ChannelParams> {
    return Promise.all([
      this.call('responseWindow', [], (r) => big(r[0])),
      this.call('staleAfter', [], (r) => big(r[0])),
      this.call('txCap', [], (r) => num(r[0])),
      this.call('challengeWindow', [], (r) => big(r[0])),
      this.call('minDeposit', [], (r) => big(r[0])),
    ]).then(([responseWindow, staleAfter, txCap, challengeWindow, minDeposit]) => ({ responseWindow, staleAfter, txCap, challengeWindow, minDeposit }))
  }

  memberCount(): Promise<number> {
    return this.call('memberCount', [], (r) => num(r[0]))
  }

  member(index: number): Promise<MemberRecord> {
    return this.call('member', [index], (r) => memberRecord(index, r))
  }

  /** Every member, in one call. */
  members(): Promise<MemberRecord[]> {
    return this.call('memberList', [], (r) => {
      const [accounts, keys, deposits, exited] = [r[0], r[1], r[2], r[3]] as Array<unknown[]>
      return accounts!.map((account, i) => memberRecord(i, [account, keys![i], deposits![i], exited![i]]))
    })
  }

  indexOf(account: string): Promise<number> {
    return this.call('indexOf', [account], (r) => num(r[0]))
  }

  dispute(): Promise<DisputeRecord> {
    // The contract's Dispute struct in field order; the rest is the scan's internal state.
    return this.call('dispute', [], (r) => ({
      epoch: big(r[0]),
      challenger: num(r[1]),
      leader: num(r[2]),
      listDeadline: big(r[4]),
      deadline: big(r[5]),
      challengerCount: num(r[6]),
      challengerTotal: num(r[7]),
      leaderCount: num(r[10]),
      leaderTotal: num(r[11]),
      leaderRight: Boolean(r[16]),
      challengerNet: big(r[17]),
    }))
  }

  /** The checkpoint waiting out its challenge window, as the contract keeps it (deadline 0: none). */
  pending(): Promise<{ cpHash: Hex; deadline: bigint; epoch: bigint; leader: number; unsigned: bigint; contested: bigint }> {
    return this.call('pending', [], (r) => ({
      cpHash: hex(r[0]),
      deadline: big(r[1]),
      epoch: big(r[2]),
      leader: num(r[3]),
      unsigned: big(r[4]),
      contested: big(r[5]),
    }))
  }

  owed(account: string): Promise<bigint> {
    return this.call('owed', [account], (r) => big(r[0]))
  }

  stateHash(): Promise<Hex> {
    return this.call('stateHash', [], (r) => hex(r[0]))
  }

  /** Checkpointed balances paid out to exited members so far (at block `blockTag`, the head by default). */
  paidIncluded(blockTag?: number): Promise<bigint> {
    return this.call('paidIncluded', blockTag === undefined ? [] : [{ blockTag }], (r) => big(r[0]))
  }

  bannedLeaders(): Promise<bigint> {
    return this.call('bannedLeaders', [], (r) => big(r[0]))
  }

  async blockNumber(): Promise<number> {
    try {
      return await this.provider.getBlockNumber()
    } catch (err) {
      throw toChainError(err, channelInterface)
    }
  }

  /** The block the channel was deployed in (fixed: read once). */
  async deploymentBlock(): Promise<number> {
    this.deployedAt ??= this.call('deployedAt', [], (r) => num(r[0])).catch((err: unknown) => {
      this.deployedAt = undefined // a failed read is tried again next time
      throw err
    })
    return this.deployedAt
  }

  /**
   * The channel's events in a block range (from its deployment, to the head, by default), oldest first. Read in
   * windows of at most `logWindow` blocks, as public RPC endpoints limit a log query's range or result count; a
   * window the endpoint refuses as too large is halved and read again, and the smaller size is kept.
   */
  async events(fromBlock?: number, toBlock?: number): Promise<ChannelEvent[]> {
    try {
      const from = fromBlock ?? (await this.deploymentBlock())
      const to = toBlock ?? (await this.provider.getBlockNumber())
      const events: ChannelEvent[] = []
      for (let start = from; start <= to; ) {
        const end = Math.min(to, start + this.logWindow - 1)
        let logs: Log[]
        try {
          logs = await this.provider.getLogs({ address: this.address, fromBlock: start, toBlock: end })
        } catch (err) {
          const text = errorText(err)
          if (end === start || !RANGE_REFUSED.test(text) || RATE_LIMITED.test(text)) throw err
          this.logWindow = Math.max(1, Math.floor((end - start + 1) / 2))
          continue
        }
        for (const l of logs) {
          const e = toEvent(l)
          if (e) events.push(e)
        }
        start = end + 1
      }
      return events
    } catch (err) {
      throw toChainError(err, channelInterface)
    }
  }

  /** The list a leader answered a challenge with, from its `respond` transactions in order (undefined if one is not). */
  async answerOf(txHashes: readonly Hex[]): Promise<ReceiptedTransfer[] | undefined> {
    const list: ReceiptedTransfer[] = []
    try {
      for (const hash of txHashes) {
        const tx = await this.provider.getTransaction(hash)
        if (!tx || tx.to?.toLowerCase() !== this.address.toLowerCase()) return undefined
        const call = channelInterface.parseTransaction({ data: tx.data })
        if (call?.name !== 'respond') return undefined
        for (const t of call.args[0] as readonly Row[]) {
          const tr = t[0] as Row
          const transfer = { id: hex(tr[0]), epoch: big(tr[1]), from: String(tr[2]), to: String(tr[3]), amount: big(tr[4]) }
          list.push({ transfer, seq: num(t[1]), senderSig: hex(t[2]), receiverSig: hex(t[3]), leaderSig: hex(t[4]) })
        }
      }
      return list
    } catch (err) {
      throw toChainError(err, channelInterface)
    }
  }

  /** Every checkpoint that landed, oldest first. */
  async checkpoints(): Promise<CheckpointEvent[]> {
    return (await this.events()).flatMap((e) => (e.type === 'CheckpointSubmitted' ? [e] : []))
  }

  /** The balances and deposits of the last checkpoint, from its event (empty before the first). */
  async lastCheckpointState(): Promise<CheckpointState> {
    const last = (await this.checkpoints()).at(-1)
    return last ? { balances: last.balances, deposited: last.deposited } : { balances: [], deposited: [] }
  }

  // ------------------------------------------------------------ the contract's own hashing, for cross-checks

  hashTransfer(t: ReceiptedTransfer['transfer']): Promise<Hex> {
    return this.call('hashTransfer', [{ ...t }], (r) => hex(r[0]))
  }

  hashReceipt(transfer: Hex, epoch: bigint, seq: number): Promise<Hex> {
    return this.call('hashReceipt', [transfer, epoch, seq], (r) => hex(r[0]))
  }

  hashCheckpoint(cp: Checkpoint): Promise<Hex> {
    return this.call('hashCheckpoint', [checkpointArg(cp)], (r) => hex(r[0]))
  }

  typedDataDigest(structHash: Hex): Promise<Hex> {
    return this.call('typedDataDigest', [structHash], (r) => hex(r[0]))
  }

  domainSeparator(): Promise<Hex> {
    return this.call('domainSeparator', [], (r) => hex(r[0]))
  }

  merkleRoot(leaves: readonly Hex[]): Promise<Hex> {
    return this.call('merkleRoot', [[...leaves]], (r) => hex(r[0]))
  }
}
