// The order a round restarted after a view change admits the epoch's transfers in: that of the round it replaces
// where known (a chain of payments each spending what the one before brought, read in reverse, is admitted whole),
// the rest as they came; a transfer a leader of the epoch refused for good is left out.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Wallet } from 'ethers'
import { hashTransfer } from '../protocol/eip712.js'
import { ChannelDigests, randomTransferId } from '../protocol/signatures.js'
import type { Hex, Transfer } from '../protocol/types.js'
import type { MemberRecord } from './chain-port.js'
import { Epoch } from './epoch.js'
import type { Countersigned } from './leader-role.js'

const accounts = [0, 1, 2].map(() => Wallet.createRandom().address)
const members: MemberRecord[] = accounts.map((account, index) => ({ index, account, peerKey: `0x${'00'.repeat(32)}` as Hex, deposit: 10n, exited: false }))
const check = {
  digests: new ChannelDigests({ chainId: 31337n, verifyingContract: Wallet.createRandom().address }),
  recover: () => null, // no signature is checked here: receipts are applied as a member not party to them does
}
const sig = `0x${'00'.repeat(65)}` as Hex
const transfer = (from: number, to: number, amount: bigint): Transfer => ({ id: randomTransferId(), epoch: 2n, from: accounts[from]!, to: accounts[to]!, amount })

/** Member 0 holds 10, the others nothing: 0 pays 1 ten, 1 pays 2 ten, 2 pays 0 ten, and so on, each payment spending the last. */
function chain(length: number): Transfer[] {
  return Array.from({ length }, (_, i) => transfer(i % 3, (i + 1) % 3, 10n))
}

function epochWith(receipted: Transfer[], arrived: Transfer[]): Epoch {
  const epoch = new Epoch(2n, { balances: [10n, 0n, 0n], deposited: [10n, 10n, 10n] }, 1024, check)
  const replaced = epoch.newRound(1, members, 2)
  receipted.forEach((t, seq) => assert.ok(replaced.ledger.applyReceipt({ transfer: t, seq, senderSig: sig, receiverSig: sig, leaderSig: sig }, false).ok))
  for (const t of arrived) epoch.countersigned.set(t.id, { transfer: t, senderSig: sig, receiverSig: sig } satisfies Countersigned)
  epoch.newRound(2, members, 2)
  return epoch
}

describe('readmit order after a view change', () => {
  it("the replaced round's order for what it receipted, then the rest as they came", () => {
    const paid = chain(20)
    const late = transfer(1, 0, 1n)
    const order = epochWith(paid.slice(0, 15), [late, ...[...paid].reverse()]).readmitOrder()
    assert.deepEqual(order.map((c) => c.transfer.id), [...paid.slice(0, 15), late, ...paid.slice(15).reverse()].map((t) => t.id))
  })

  it('a transfer a leader refused for good is left out; a refusal naming another transfer under its id is not', () => {
    const [kept, refused] = [transfer(0, 1, 1n), transfer(0, 2, 1n)]
    const copied = transfer(1, 2, 1n)
    const epoch = epochWith([], [kept, refused, copied])
    epoch.refused.set(refused.id, hashTransfer(refused))
    epoch.refused.set(copied.id, hashTransfer(transfer(0, 2, 5n)))
    assert.deepEqual(epoch.readmitOrder().map((c) => c.transfer.id), [kept.id, copied.id])
  })
})
