// The channel contract's constructor bounds (contracts/Channel.sol, MIN_* and MAX_*), for the app: what it deploys
// stays inside them, and a channel whose settings fall outside them was not made by that constructor.
// contracts/test/constructor-bounds.test.ts checks these equal the contract's own constants.
import type { ChannelParams } from '../consensus/chain-port.js'

const DAY = 86_400n

export const CHANNEL_LIMITS = {
  minResponseWindow: 30n,
  maxResponseWindow: 7n * DAY,
  minChallengeWindow: 2n,
  maxChallengeWindow: 7n * DAY,
  minStaleAfter: 3_600n,
  maxStaleAfter: 365n * DAY,
  maxTxCap: 1024,
  maxMembers: 64,
  /** A join brings at most a uint88 of wei. */
  maxMinDeposit: 2n ** 88n - 1n,
} as const

/** What is wrong with these settings by the constructor's bounds, in words; undefined when nothing is. */
export function settingsProblem(p: Required<Omit<ChannelParams, 'invited'>> & { invited?: number }): string | undefined {
  const L = CHANNEL_LIMITS
  const outside = (name: string, got: bigint, min: bigint, max: bigint): string | undefined =>
    got < min || got > max ? `${name} is ${got}, outside ${min} to ${max}` : undefined
  const windows = 2n * p.responseWindow + p.challengeWindow + 1n
  return (
    outside('the response window (s)', p.responseWindow, L.minResponseWindow, L.maxResponseWindow) ??
    outside('the challenge window (s)', p.challengeWindow, L.minChallengeWindow, L.maxChallengeWindow) ??
    outside('the stale-close delay (s)', p.staleAfter, windows > L.minStaleAfter ? windows : L.minStaleAfter, L.maxStaleAfter) ??
    outside('the per-epoch transfer cap', BigInt(p.txCap), 1n, BigInt(L.maxTxCap)) ??
    outside('the minimum deposit (wei)', p.minDeposit, 1n, L.maxMinDeposit) ??
    (p.invited === undefined ? undefined : outside('the number of invited accounts', BigInt(p.invited), 0n, BigInt(L.maxMembers)))
  )
}
