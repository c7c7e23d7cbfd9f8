// The largest amount of wei a payment or a deposit may name. The channel contract keeps a member's cumulative
// deposit in a uint88 (Channel.sol, `Member.deposit`; a join or a deposit above it reverts) and a dispute counts a
// transfer above type(uint88).max as a bad entry, so nothing larger can ever be paid or settled. Free of
// dependencies: Electron's main process checks calls against the same bound.
import { MAX_AMOUNT_WEI } from '../protocol/types.js'
import { ApiCallError } from './api-reply.js'

/** 2^88 - 1 wei (about 309 million ether). */
export { MAX_AMOUNT_WEI }

export type AmountErrorCode = 'BAD_AMOUNT' | 'AMOUNT_TOO_LARGE'

const TOO_LARGE = `The amount is more than a channel can hold for one member (at most ${MAX_AMOUNT_WEI} wei, 2^88 - 1).`

/** What is wrong with a decimal string of wei as an amount to pay or deposit; undefined when nothing is. */
export function amountTextProblem(text: string): { code: AmountErrorCode; message: string } | undefined {
  // The length first: BigInt of a huge digit string is itself work a caller could make us do.
  if (!/^[0-9]+$/.test(text)) return { code: 'BAD_AMOUNT', message: 'an amount in wei, a decimal string' }
  if (text.replace(/^0+/, '').length > String(MAX_AMOUNT_WEI).length) return { code: 'AMOUNT_TOO_LARGE', message: TOO_LARGE }
  return amountProblem(BigInt(text))
}

/** What is wrong with `amount` as an amount to pay or deposit; undefined when nothing is. */
export function amountProblem(amount: bigint): { code: AmountErrorCode; message: string } | undefined {
  if (amount <= 0n) return { code: 'BAD_AMOUNT', message: 'The amount must be positive.' }
  if (amount > MAX_AMOUNT_WEI) return { code: 'AMOUNT_TOO_LARGE', message: TOO_LARGE }
  return undefined
}

/** Throws the typed error for an amount outside 1 wei to MAX_AMOUNT_WEI. */
export function checkAmount(amount: bigint): void {
  const problem = amountProblem(amount)
  if (problem) throw new ApiCallError(problem.code, problem.message)
}
