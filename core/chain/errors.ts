// Errors from the chain as typed values: the contract's revert (name and arguments) rather than ethers'
// CALL_EXCEPTION, with a sentence a person can act on.
import { isError, type Interface } from 'ethers'
import { errorMessage } from '../util/error-message.js'

export type ChainErrorCode =
  | 'DEVNET_UNAVAILABLE'
  | 'DEVNET_FAILED'
  | 'INSUFFICIENT_FUNDS'
  | 'NETWORK'
  | 'REVERTED'
  | 'UNKNOWN'
  /** Any custom error of the Channel contract, by name (e.g. 'WrongEpoch', 'BadSignature'). */
  | (string & {})

export class ChainError extends Error {
  override readonly name = 'ChainError'

  constructor(
    readonly code: ChainErrorCode,
    message: string,
    /** The revert's arguments, for custom errors of the contract. */
    readonly args: readonly unknown[] = [],
  ) {
    super(message)
  }
}

/** What each revert of the channel contract means, given its arguments. */
const EXPLAIN: Record<string, (args: readonly unknown[]) => string> = {
  ChannelIsClosed: () => 'the channel is closed; only withdrawals remain',
  AlreadyMember: () => 'this account is already a member of the channel',
  NotInvited: ([account]) => `${String(account)} is not among the members this channel's creator invited`,
  NotMember: ([a]) => `${String(a)} is not a member of the channel`,
  MemberExited: ([i]) => `member ${String(i)} has exited the channel`,
  InvalidPeerKey: () => 'the peer key is zero or already registered by another member',
  ChannelFull: () => 'the channel already has the maximum number of members',
  InvalidAmount: () => 'the amount is zero or too large',
  InvalidParams: () => 'the channel needs a response window, staleAfter longer than it, and a transfer cap',
  ParamOutOfRange: ([param, min, max, got]) =>
    `the channel setting ${String(param)} is ${String(got)}; it must be between ${String(min)} and ${String(max)}`,
  WrongEpoch: ([expected, got]) => `epoch ${String(got)} was given but the channel expects epoch ${String(expected)}`,
  LengthMismatch: () => 'the checkpoint has different numbers of balances, deposits and signatures',
  WrongMemberCount: ([min, max, got]) =>
    `the checkpoint covers ${String(got)} members; it must cover between ${String(min)} and ${String(max)}`,
  InvalidExitMask: () => 'the exit set names a member the checkpoint does not cover',
  InvalidLeader: ([i]) => `member ${String(i)} cannot lead this epoch (exited, banned after a dispute, or unknown)`,
  InvalidNextLeader: ([i]) => `member ${String(i)} cannot lead the next epoch (exited, exiting or unknown)`,
  ExitedMemberChanged: ([i]) => `member ${String(i)} has exited; its balance must stay zero and its deposit fixed`,
  DepositExceeded: ([i, held, claimed]) =>
    `member ${String(i)} is credited ${String(claimed)} wei of deposits but only ${String(held)} wei is held for it`,
  BadSignature: ([i]) => `the signature of member ${String(i)} is missing, malformed, malleable or not theirs`,
  BalancesNotConserved: ([b, d]) =>
    `balances plus payouts (${String(b)} wei) do not equal the included deposits (${String(d)} wei)`,
  DisputePending: () => 'a dispute is open; resolve it first',
  NoOpenDispute: () => 'there is no open dispute in the needed state',
  NotDisputedLeader: () => 'only the challenged leader can respond',
  ResponseWindowOver: ([t]) => `the response window closed at ${String(t)}`,
  ResponseWindowOpen: ([t]) => `the leader may still respond until ${String(t)}; resolve after that`,
  ListTooLong: ([cap, got]) => `the list has ${String(got)} transfers; the per-epoch cap is ${String(cap)}`,
  StateMismatch: () => 'the balances and deposits given are not those of the last checkpoint',
  ChallengerBalanceMismatch: ([e, g]) =>
    `the challenger's balance must be ${String(e)} wei as computed from the leader's list, not ${String(g)}`,
  ChallengerCannotExit: () => 'a checkpoint without the challenger\'s vote cannot make it exit',
  NotStale: ([t]) => `the channel is not stale; it can be closed from ${String(t)}`,
  NothingOwed: () => 'nothing is owed to this account',
  PaymentFailed: () => 'the payment to this account failed',
  ReentrancyGuardReentrantCall: () => 're-entrant call refused',
}

/** Converts whatever ethers threw while talking to the channel into a ChainError. */
export function toChainError(err: unknown, iface: Interface): ChainError {
  if (err instanceof ChainError) return err
  if (isError(err, 'CALL_EXCEPTION')) {
    let name = err.revert?.name
    let args: readonly unknown[] = err.revert ? [...err.revert.args] : []
    if (!name && err.data) {
      const parsed = safeParseError(iface, err.data)
      if (parsed) ({ name, args } = parsed)
    }
    if (name === 'Error' && typeof args[0] === 'string') return new ChainError('REVERTED', args[0])
    if (name) {
      const explain = EXPLAIN[name]
      return new ChainError(name, explain ? explain(args) : `the contract refused the call: ${name}`, args)
    }
    return new ChainError('REVERTED', err.reason ?? 'the transaction reverted without a reason')
  }
  if (isError(err, 'INSUFFICIENT_FUNDS')) {
    return new ChainError('INSUFFICIENT_FUNDS', 'the account cannot pay for this transaction and its gas')
  }
  if (isError(err, 'NETWORK_ERROR') || isError(err, 'TIMEOUT') || isError(err, 'SERVER_ERROR')) {
    return new ChainError('NETWORK', `the chain did not answer: ${err.shortMessage}`)
  }
  // ethers' full message embeds the whole request (a deployment's bytecode, say): keep its short form and the
  // node's own words.
  const short = (err as { shortMessage?: unknown }).shortMessage
  const rpc = (err as { error?: { message?: unknown } }).error?.message
  const message = typeof short === 'string' ? short : errorMessage(err)
  return new ChainError('UNKNOWN', (typeof rpc === 'string' ? `${message}: ${rpc}` : message).slice(0, 500))
}

function safeParseError(iface: Interface, data: string): { name: string; args: unknown[] } | null {
  try {
    const parsed = iface.parseError(data)
    return parsed ? { name: parsed.name, args: [...parsed.args] } : null
  } catch {
    return null
  }
}
