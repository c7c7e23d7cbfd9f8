// The one API the UI sees, in Electron (over IPC to the core's utility process) and in a browser (`node --ui`,
// over a WebSocket). Every value is plain JSON: wei and epochs travel as decimal strings. `methods` is the schema
// each transport checks a call's arguments against before the core sees them.
import { z } from 'zod'
import { amountTextProblem } from './amount-limit.js'
import { ApiCallError } from './api-reply.js'
import type { MethodNameList } from './api-methods.js'
import type { NetworkKind } from '../chain/provider.js'

export type Wei = string

export interface NetworkView {
  kind: NetworkKind
  rpcUrl: string
  chainId: string
}

export interface AppStatus {
  /** Where keys live; a file vault must be unlocked (or created) with a passphrase first. */
  vault: { kind: 'keychain' | 'file'; unlocked: boolean; exists: boolean }
  accounts: string[]
  account: string | undefined
  network: NetworkView | undefined
  /** The account's ether on chain, outside any channel. */
  walletWei: Wei | undefined
  channels: ChannelSummary[]
}

export interface ChannelSummary {
  address: string
  invite: string
  /** Starting, running, or failed with a reason. */
  state: 'starting' | 'running' | 'failed' | 'exited'
  error?: string
  me?: number
  balanceWei?: Wei
  /** Deposited on chain and not yet counted by a checkpoint: the next checkpoint adds it to the balance. */
  pendingDepositWei?: Wei
  members?: number
  /** The channel-live events this summary already counts (see ChannelView.liveSeq). */
  liveSeq?: number
}

/** One member as ChannelView shows it (plain JSON; ChannelNode's own MemberView holds bigints). */
export interface ChannelMemberView {
  index: number
  account: string
  online: boolean
  exited: boolean
  leader: boolean
  balanceWei: Wei
  /** Deposited on chain and not yet counted by a checkpoint (a new member's whole deposit until its first). */
  pendingDepositWei: Wei
  /** Entries of this member our node ignored as junk (undecodable, wrongly signed, not its to send). */
  ignoredEntries: number
}

export interface TransferView {
  id: string
  epoch: string
  direction: 'in' | 'out'
  counterparty: string
  amountWei: Wei
  status: 'requested' | 'countersigned' | 'receipted' | 'checkpointed' | 'rejected'
  reason?: string
  /** The id it was first sent with, once re-issued (a re-issue is the same payment under a new id). */
  firstId?: string
  /** When it reached its status, in ms since 1970 on the core's clock (absent when read back from the logs). */
  updatedAt?: number
}

export interface CheckpointView {
  epoch: string
  leader: number
  nextLeader: number
  txCount: number
  transaction: string
  block: number
}

export interface DisputeView {
  epoch: string
  challenger: number
  leader: number
  /** Unix seconds after which a silent leader loses. */
  deadline: number
  responded: boolean
}

/**
 * What the channel has cost this member in gas: the fees (gas used times the effective gas price) of every
 * transaction its account sent to the channel contract, reverted ones included, read from their receipts.
 */
export interface GasSpentView {
  feeWei: Wei
  transactions: number
  /** The channel's transactions whose receipts are not read yet (a long history is read over several views). */
  unread: number
}

/**
 * An outgoing payment the app had not seen end when it stopped (or crashed) that ended after the restart, without
 * anyone sending it again: shown until dismissed, so nobody pays twice for want of knowing.
 */
export interface ResumedPaymentView {
  /** The id it was first sent with (a re-issue keeps it); dismissResumed takes it. */
  id: string
  counterparty: string
  amountWei: Wei
  status: 'checkpointed' | 'rejected'
  reason?: string
}

/**
 * What a channel's view shows that the node knows without reading the chain: pushed in a channel-live event
 * whenever it changes, so a view follows the channel without asking again.
 */
export interface ChannelLiveView {
  epoch: string
  leader: number
  phase: 'trading' | 'voting' | 'dispute'
  receipts: number
  voted: number[]
  awaiting: number[]
  members: ChannelMemberView[]
  /**
   * When the running epoch is due to close, in ms since 1970 on the core's clock: its checkpoint, which counts the
   * deposits pending now, lands shortly after. In the past while the epoch closes (voting, or a late leader).
   */
  epochEndsAt: number
}

export interface ChannelView extends ChannelLiveView {
  address: string
  invite: string
  chainId: string
  me: number
  /** The channel-live events this view already counts: a view applies only those with a higher `seq`. */
  liveSeq: number
  transfers: TransferView[]
  checkpoints: CheckpointView[]
  dispute: DisputeView | undefined
  /** Wei the contract holds for us after an exit it could not push. */
  owedWei: Wei
  exited: boolean
  /** Unix seconds from which any member may close the channel on chain (no checkpoint since). */
  closableAt: number
  closed: boolean
  gasSpent: GasSpentView
  /** Payments that ended after a restart on their own, until dismissed. */
  resumed: ResumedPaymentView[]
}

/**
 * What a channel lets its members do, read before joining it. Given only when the code at the address is this app's
 * channel contract with settings its constructor allows; otherwise the call fails (UNKNOWN_CONTRACT, UNSAFE_SETTINGS).
 */
export interface ChannelSettingsView {
  address: string
  chainId: string
  /** Always true: the runtime code is the compiled channel contract's (immutables aside). */
  codeVerified: true
  /** With no checkpoint for this long, any member may close the channel and everyone withdraws. */
  staleAfterSeconds: number
  /** How long a challenged leader has to answer. */
  responseWindowSeconds: number
  /** How long a checkpoint signed by a majority waits for a challenge from a member without a vote. */
  challengeWindowSeconds: number
  /** Transfers a member may make or receive per epoch. */
  txCap: number
  minDepositWei: Wei
  members: number
  maxMembers: number
  /** Only the accounts its creator chose may join; else anyone with the invite. */
  inviteOnly: boolean
  /** Whether the selected account may join (invited, or an open channel). */
  mayJoin: boolean
  closed: boolean
}

/**
 * A channel changed, pushed as it happens: its live fields as they are now, and the transfers whose status changed
 * since the last such event (a burst of changes comes as one event).
 */
export interface ChannelLiveEvent {
  type: 'channel-live'
  channel: string
  /**
   * Increases with every channel-live event of the core (all channels), across restarts of the core: a view applies
   * only those above its own liveSeq.
   */
  seq: number
  /** When the first change it carries happened, in ms since 1970 on the core's clock. */
  at: number
  live: ChannelLiveView
  /** Newest change last. */
  transfers: TransferView[]
}

/**
 * What the UI hears. `status` and `channel`: something the chain holds changed, read it again (the app's status; a
 * channel's checkpoints, dispute, exit). `channel-live`: the change itself, applied as it comes. `progress` narrates
 * a long operation.
 */
export type NodeEvent =
  | { type: 'status' }
  | { type: 'channel'; channel: string }
  | ChannelLiveEvent
  | { type: 'progress'; operation: string; step: string; done: boolean }

export const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address: 0x and 40 hex digits')
/** Where the app connects: the local sandbox, or an Ethereum node's RPC URL. */
export const networkChoiceSchema = z.union([z.object({ kind: z.literal('sandbox') }), z.object({ kind: z.literal('rpc'), rpcUrl: z.url() })])
/**
 * An amount to pay or deposit: a decimal string of wei from 1 to what the contract can hold for a member. Its
 * refusal carries its own code (BAD_AMOUNT, AMOUNT_TOO_LARGE) through validateCall.
 */
const positiveWei = z.string().superRefine((v, ctx) => {
  const problem = amountTextProblem(v)
  if (problem) ctx.addIssue({ code: 'custom', message: problem.message, params: { code: problem.code } })
})

/** Each method's arguments, as a tuple schema. */
export const methods = {
  status: z.tuple([]),
  unlockVault: z.tuple([z.string().min(1).max(1024)]),
  createAccount: z.tuple([]),
  importPrivateKey: z.tuple([z.string().min(1).max(200)]),
  importKeystore: z.tuple([z.string().min(2).max(100_000), z.string().max(1024)]),
  exportKeystore: z.tuple([z.string().min(8).max(1024)]),
  selectAccount: z.tuple([addressSchema]),
  useNetwork: z.tuple([networkChoiceSchema]),
  sandboxFund: z.tuple([]),
  createChannel: z.tuple([z.object({ depositWei: positiveWei, members: z.array(addressSchema).max(63).optional() })]),
  channelSettings: z.tuple([z.string().min(1).max(200)]),
  joinChannel: z.tuple([z.object({ invite: z.string().min(1).max(200), depositWei: positiveWei })]),
  deposit: z.tuple([addressSchema, positiveWei]),
  channel: z.tuple([addressSchema]),
  send: z.tuple([addressSchema, z.number().int().min(0).max(63), positiveWei]),
  exit: z.tuple([addressSchema]),
  withdraw: z.tuple([addressSchema]),
  closeChannel: z.tuple([addressSchema]),
  dismissResumed: z.tuple([addressSchema, z.array(z.string().regex(/^0x[0-9a-fA-F]{32}$/, 'a payment id: 0x and 32 hex digits')).min(1).max(1000)]),
} as const

export type MethodName = keyof typeof methods
// Both ways: every schema is a listed method and every listed method has a schema.
const _sameNames: [MethodName, MethodNameList] extends [MethodNameList, MethodName] ? true : never = true
void _sameNames
type Args<M extends MethodName> = z.infer<(typeof methods)[M]>

export interface NodeApi {
  status(...a: Args<'status'>): Promise<AppStatus>
  unlockVault(...a: Args<'unlockVault'>): Promise<void>
  createAccount(...a: Args<'createAccount'>): Promise<string>
  importPrivateKey(...a: Args<'importPrivateKey'>): Promise<string>
  importKeystore(...a: Args<'importKeystore'>): Promise<string>
  /** The selected account as an encrypted JSON keystore, for a backup. */
  exportKeystore(...a: Args<'exportKeystore'>): Promise<string>
  selectAccount(...a: Args<'selectAccount'>): Promise<void>
  useNetwork(...a: Args<'useNetwork'>): Promise<NetworkView>
  /** Sandbox only: gives the selected account 100 test ether. */
  sandboxFund(...a: Args<'sandboxFund'>): Promise<Wei>
  createChannel(...a: Args<'createChannel'>): Promise<ChannelSummary>
  /** Before joining: checks the invite's channel code and reads its settings (read-only; nothing is sent). */
  channelSettings(...a: Args<'channelSettings'>): Promise<ChannelSettingsView>
  /** Joins after the same check: a deposit never goes to code other than the channel contract's. */
  joinChannel(...a: Args<'joinChannel'>): Promise<ChannelSummary>
  deposit(...a: Args<'deposit'>): Promise<string>
  channel(...a: Args<'channel'>): Promise<ChannelView>
  send(...a: Args<'send'>): Promise<TransferView>
  exit(...a: Args<'exit'>): Promise<void>
  withdraw(...a: Args<'withdraw'>): Promise<string>
  /** Closes a stale channel on chain (no checkpoint for its staleAfter period); returns the transaction. */
  closeChannel(...a: Args<'closeChannel'>): Promise<string>
  /** The person has seen these payments that ended after a restart (ids from ChannelView.resumed). */
  dismissResumed(...a: Args<'dismissResumed'>): Promise<void>
}

export { ApiCallError, type ApiError } from './api-reply.js'

/** Checks a call from outside: a known method, arguments of the right shape. */
export function validateCall(method: unknown, args: unknown): { method: MethodName; args: unknown[] } {
  if (typeof method !== 'string' || !Object.hasOwn(methods, method)) {
    // Named without String(): an object's own toString may throw, or say anything.
    const named = typeof method === 'string' ? JSON.stringify(method.slice(0, 60)) : `of type ${method === null ? 'null' : typeof method}`
    throw new ApiCallError('BAD_CALL', `no such method: ${named}`)
  }
  const parsed = methods[method as MethodName].safeParse(args)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    // A refinement may name its own code (an amount too large); every other refusal is BAD_ARGUMENTS.
    const own = issue?.code === 'custom' ? (issue.params as { code?: unknown } | undefined)?.code : undefined
    const code = typeof own === 'string' ? own : 'BAD_ARGUMENTS'
    throw new ApiCallError(code, `${method}: ${issue ? `${issue.path.join('.') || 'arguments'}: ${issue.message}` : 'bad arguments'}`)
  }
  return { method: method as MethodName, args: parsed.data as unknown[] }
}
