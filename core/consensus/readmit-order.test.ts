// What a round restarted after a view change admits, and in what order: first what the round it replaces receipted,
// in that order, then the rest as they came; a transfer a leader of the epoch refused for good is left out; one
// short of funds is tried again as money comes in to its sender from the others (a chain of payments read in
// reverse is admitted whole), and what is still short is refused.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Wallet } from 'ethers'
import { hashTransfer } from '../protocol/eip712.js'
import { ChannelDigests, randomTransferId } from '../protocol/signatures.js'
import type { Hex, Transfer } from '../protocol/types.js'
import type { MemberRecord } from './chain-port.js'
import { Epoch } from './epoch.js'
import { LeaderRole, type Countersigned, type LeaderDeps } from './leader-role.js'
import type { MemberList } from './member-list.js'
import type { Round } from './round.js'

const accounts = [0, 1, 2].map(() => Wallet.createRandom().address)
const members: MemberRecord[] = accounts.map((account, index) => ({ index, account, peerKey: `0x${'00'.repeat(32)}` as Hex, deposit: 10n, exited: false }))
// A "signature" here is its signer's account: the ledger's checks pass for what the parties "signed".
const check = {
  digests: new ChannelDigests({ chainId: 31337n, verifyingContract: Wallet.createRandom().address }),
  recover: (_digest: Hex, signature: string) => signature.toLowerCase(),
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
  for (const t of arrived) epoch.keepCountersigned({ transfer: t, senderSig: sig, receiverSig: sig } satisfies Countersigned)
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

  it("a second transfer under a receipted one's id (its sender reusing it) neither replaces it nor takes its place", () => {
    const paid = transfer(0, 1, 3n)
    const reused = { ...transfer(0, 2, 4n), id: paid.id }
    const late = transfer(1, 2, 1n)
    // Read after the original: keyed by id, the reuse took its place and the payment the replaced round receipted
    // was gone from the restarted round.
    const order = epochWith([paid], [late, paid, reused]).readmitOrder()
    assert.deepEqual(order.map((c) => c.transfer), [paid, late, reused])
  })

  it('a transfer a leader refused for good is left out; a refusal naming another transfer under its id is not', () => {
    const [kept, refused] = [transfer(0, 1, 1n), transfer(0, 2, 1n)]
    const copied = transfer(1, 2, 1n)
    const epoch = epochWith([], [kept, refused, copied])
    const refusal = (id: Hex, t: Transfer) => ({ id, transfer: hashTransfer(t), reason: 'OVERDRAFT' })
    epoch.noteRefusal(refusal(refused.id, refused))
    epoch.noteRefusal(refusal(copied.id, transfer(0, 2, 5n)))
    epoch.noteRefusal(refusal(refused.id, transfer(0, 2, 7n))) // a later word on the id does not undo the first
    assert.deepEqual(epoch.refusedCountersigned().map((r) => r.id), [refused.id], 'the refusals of transfers it holds')
    assert.deepEqual(epoch.readmitOrder().map((c) => c.transfer.id), [kept.id, copied.id])
  })

  it("earlier leaders' receipts standing in for countersigns: those wanted, not kept or refused, each once, the cap's worth per leader and receiver", () => {
    const epoch = new Epoch(2n, { balances: [10n, 0n, 0n], deposited: [10n, 10n, 10n] }, 3, check)
    const first = epoch.newRound(1, members, 2)
    const byOne = Array.from({ length: 6 }, () => transfer(0, 2, 1n))
    const [toOne, toZero, held] = [transfer(0, 1, 1n), transfer(1, 0, 1n), transfer(1, 2, 1n)]
    const receipt = (t: Transfer, seq: number) => ({ transfer: t, seq, senderSig: sig, receiverSig: sig, leaderSig: sig })
    assert.ok(first.ledger.applyReceipt(receipt(byOne[0]!, 0), false).ok) // in the replaced round's ledger, and read
    ;[...byOne, toOne, toZero, held].forEach((t, seq) => epoch.noteReceipt(1, receipt(t, seq)))
    epoch.noteRefusal({ id: byOne[1]!.id, transfer: hashTransfer(byOne[1]!), reason: 'OVERDRAFT' }) // by a later leader
    epoch.keepCountersigned({ transfer: held, senderSig: sig, receiverSig: sig })
    epoch.newRound(0, members, 2)
    const byZero = [transfer(1, 2, 1n), byOne[2]!] // its second, leader 1's third receipted again
    byZero.forEach((t, seq) => epoch.noteReceipt(0, receipt(t, seq)))
    epoch.noteReceipt(2, receipt(transfer(0, 2, 1n), 0)) // by a member that led no earlier round: not a receipt
    epoch.newRound(2, members, 2)
    const found = epoch.receiptedWithoutCountersign((_, t) => t.to !== accounts[1])
    // Newest round first: leader 0's two, then leader 1's up to the cap for member 2 (its second refused, its third
    // taken already), and the one to member 0; never the one to member 1 (not wanted) or the one kept.
    assert.deepEqual(
      found.map(({ c }) => c.transfer.id),
      [...byZero, byOne[0]!, byOne[3]!, byOne[4]!, toZero].map((t) => t.id),
    )
    assert.deepEqual(found.map(({ by }) => by), [0, 0, 1, 1, 1, 1], 'each with the leader that receipted it')
  })

  it('refusals a member gave before it led: for want of funds only, kept by id and transfer, handed over once', () => {
    const [paid, other] = [transfer(0, 1, 1n), transfer(0, 2, 1n)]
    const reused = { ...transfer(0, 2, 9n), id: paid.id }
    const refusal = (t: Transfer, reason: string) => ({ id: t.id, transfer: hashTransfer(t), reason })
    const epoch = new Epoch(2n, { balances: [10n, 0n, 0n], deposited: [10n, 10n, 10n] }, 1024, check)
    // A receiver writes these too (a flood of requests makes an honest one write many): not kept.
    for (const reason of ['DUPLICATE_ID', 'CAP_REACHED', 'CLOSED', 'NOT_MEMBER']) assert.equal(epoch.refusalAhead(1, refusal(other, reason)), false)
    assert.equal(epoch.refusalAhead(1, refusal(reused, 'OVERDRAFT')), true)
    assert.equal(epoch.refusalAhead(1, refusal(paid, 'OVERDRAFT')), true, 'a refusal under a reused id does not stand in for it')
    assert.deepEqual(epoch.takeRefusalsAhead(1).map((r) => r.transfer), [hashTransfer(reused), hashTransfer(paid)])
    assert.deepEqual(epoch.takeRefusalsAhead(1), [], 'handed over once')
  })

  it("a member writing refusals before it leads fills its own share of them, not another's", () => {
    const epoch = new Epoch(2n, { balances: [10n, 0n, 0n], deposited: [10n, 10n, 10n] }, 2, check)
    const refusal = () => {
      const t = transfer(0, 1, 1n)
      return { id: t.id, transfer: hashTransfer(t), reason: 'OVERDRAFT' }
    }
    const kept = Array.from({ length: 5 }, () => epoch.refusalAhead(1, refusal()))
    assert.deepEqual(kept, [true, true, true, true, false], 'twice the cap of 2')
    assert.equal(epoch.refusalAhead(2, refusal()), true)
  })

  it('a chain read in reverse is admitted whole; what stays short is refused, nothing admitted twice', () => {
    const paid = chain(12)
    const tooMuch = transfer(1, 2, 50n)
    const epoch = new Epoch(2n, { balances: [10n, 0n, 0n], deposited: [10n, 10n, 10n] }, 1024, check)
    for (const t of [tooMuch, ...[...paid].reverse(), paid[3]!]) {
      epoch.keepCountersigned({ transfer: t, senderSig: t.from as Hex, receiverSig: t.to as Hex })
    }
    const round = epoch.newRound(2, members, 2)
    const written: string[] = []
    const blamed: string[] = []
    const role = new LeaderRole({
      me: 2,
      digests: check.digests,
      sign: () => sig,
      members: { indexOf: (a: string) => accounts.indexOf(a), get: (i: number) => members[i] } as unknown as MemberList,
      ownLog: { append: (e: { type: string }) => written.push(e.type) },
      misbehaviour: { blame: (_i: number, why: string) => blamed.push(why) },
      receipted: () => {},
    } as unknown as LeaderDeps)
    role.readmit(round as Round, epoch.readmitOrder())
    const ids = (list: readonly { id: string }[]): string[] => list.map((t) => t.id).sort()
    assert.deepEqual(ids(round.ledger.receipts().map((t) => t.transfer)), ids(paid), 'each payment of the chain, once')
    // The one still short is refused; its fake signatures make it junk here (a real one would get a refusal entry).
    assert.deepEqual(written, paid.map(() => 'receipt'))
    assert.deepEqual(blamed, ['countersign refused: OVERDRAFT'])
  })
})
