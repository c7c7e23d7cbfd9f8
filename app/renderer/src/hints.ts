// What to do next, for the errors a person can act on (the core's message says what went wrong).
import { ApiError } from './api'
import { errorMessage } from './error-message'

const NEXT: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Add ether to this account first (on the sandbox: "Get 100 test ETH").',
  REJECTED_OVERDRAFT: 'Your balance in the channel is too low: deposit more or send less. New deposits count from the next checkpoint.',
  REJECTED_CAP_REACHED: 'This epoch has reached its transfer limit; the payment goes out again in the next one.',
  REJECTED_MEMBER_EXITED: 'That member has left the channel.',
  REJECTED_EPOCH_ENDED: 'The epoch ended before the leader receipted it; send it again.',
  NotInvited: 'This channel only admits the members its creator chose: ask them to add your address.',
  WRONG_NETWORK: 'Switch to the invite\'s network in Settings.',
  RPC_UNREACHABLE: 'Check the URL, or use the local sandbox.',
  NETWORK: 'Check the connection to the Ethereum node and try again.',
  TIMEOUT: 'The network may be slow: try again in a moment.',
  DISCONNECTED: 'Start the app (or `node --ui`) again and reopen the URL it prints.',
  CORE_RESTARTED: 'Try again in a moment.',
}

export function explain(err: unknown): string {
  const message = errorMessage(err)
  const next = err instanceof ApiError ? NEXT[err.code] : undefined
  return next ? `${message} ${next}` : message
}
