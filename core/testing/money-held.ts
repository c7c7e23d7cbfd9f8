// Test support: the "money held" invariant, read from the chain at a landed checkpoint's block. The contract's ether
// is the checkpoint's balances plus the deposits it did not include yet plus the credits it owes (and its ether in
// less out); the checkpoint's balances plus the paid-out exits are its included deposits. Used by the adversarial
// run (after every checkpoint) and the soak.
import type { Provider } from 'ethers'
import type { ChannelClient, ChannelEvent } from '../chain/index.js'

export type Checkpointed = Extract<ChannelEvent, { type: 'CheckpointSubmitted' }>

/** What the contract holds at `cp`'s block, and what it should. */
export interface MoneyHeld {
  /** Wei the contract holds. */
  held: bigint
  /** The checkpoint's balances (exits aside) plus unincluded deposits plus credits owed. */
  expected: bigint
  /** Ether in less ether out, from the events. */
  flows: bigint
  /** Each broken equation, as a line a person can read. */
  violations: string[]
}

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n)

/** Checks the money held at `cp` (`events`: the channel's events, any beyond its block are ignored). */
export async function moneyHeld(provider: Provider, channel: ChannelClient, cp: Checkpointed, events: readonly ChannelEvent[]): Promise<MoneyHeld> {
  const B = cp.blockNumber
  const e = cp.epoch
  const deposits: bigint[] = []
  const exitedBy = new Set<number>()
  let flows = 0n
  let owed = 0n
  for (const ev of events) {
    if (ev.blockNumber > B) continue
    if (ev.type === 'Joined') {
      deposits[ev.index] = ev.amount
      flows += ev.amount
    } else if (ev.type === 'Deposited') {
      deposits[ev.index] = ev.total
      flows += ev.amount
    } else if (ev.type === 'Exited') {
      exitedBy.add(ev.index)
      flows -= ev.amount
    } else if (ev.type === 'PaymentDeferred') {
      flows += ev.amount
      owed += ev.amount
    } else if (ev.type === 'Withdrawn') {
      flows -= ev.amount
      owed -= ev.amount
    }
  }
  const held = await provider.getBalance(channel.address, B)
  const paid = await channel.paidIncluded(B)
  const violations: string[] = []
  // The contract checked its conservation before paying this checkpoint's exits, which `paid` (read after) holds.
  const staying = cp.balances.filter((_, i) => ((cp.exitMask >> BigInt(i)) & 1n) === 0n)
  if (sum(staying) + paid !== sum(cp.deposited)) {
    violations.push(`money, epoch ${e}: balances ${sum(staying)} (exits aside) + paid out ${paid} != included deposits ${sum(cp.deposited)}`)
  }
  let expected = owed
  for (let i = 0; i < Math.max(deposits.length, cp.balances.length); i++) {
    if (exitedBy.has(i)) continue
    expected += (cp.balances[i] ?? 0n) + (deposits[i] ?? 0n) - (cp.deposited[i] ?? 0n)
  }
  if (held !== expected) violations.push(`money, epoch ${e}: the contract holds ${held}, balances + unincluded deposits + credits = ${expected}`)
  if (held !== flows) violations.push(`money, epoch ${e}: the contract holds ${held}, its ether in less out is ${flows}`)
  return { held, expected, flows, violations }
}
