// Test support: what a channel's balances must be after some payments, recounted from the payments themselves.
import type { ChannelFixture } from '../../contracts/test/fixture.js'
import type { TransferRecord } from '../consensus/payments.js'

/** Every member's `deposit`, moved by `records` (each counted once). */
export function recount(f: ChannelFixture, records: readonly TransferRecord[], deposit: bigint): bigint[] {
  const balances = f.members.map(() => deposit)
  const at = (account: string): number => f.members.findIndex((m) => m.address === account)
  for (const r of records) {
    balances[at(r.transfer.from)]! -= r.transfer.amount
    balances[at(r.transfer.to)]! += r.transfer.amount
  }
  return balances
}
