// A payment asked for while its epoch was closing is held, then goes out in the next epoch under its own id (found
// by the soak): it went out as a re-issue, whose id derives from a first id that was never written, so a restarted
// payer could not link it to anything and showed its later re-issues as payments of their own. Payments alone (a
// unit of one module).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Wallet } from 'ethers'
import { randomTransferId } from '../protocol/signatures.js'
import { Payments, reissueId, type TransferRecord } from './payments.js'

describe('a held payment', () => {
  it('goes out in the next epoch under its own id, and its re-issues derive from that id', () => {
    const payments = new Payments(() => {})
    const [from, to] = [Wallet.createRandom().address, Wallet.createRandom().address]
    const id = randomTransferId()
    const { record, done } = payments.open({ id, epoch: 4n, from, to, amount: 5n })
    done.catch(() => {}) // never settles here
    payments.hold(record)
    const sent: TransferRecord[] = []
    payments.carryOver(5n, (r) => sent.push({ ...r, transfer: r.transfer }))
    assert.equal(sent.length, 1)
    assert.equal(sent[0]!.transfer.id, id, 'its own id, which goes into our log with this request')
    assert.equal(sent[0]!.transfer.epoch, 5n)
    assert.equal(payments.get(id)?.retries ?? 0, 0, 'not counted as a re-issue')
    // Not receipted in epoch 5 either: the re-issue derives from the id our log holds.
    payments.carryOver(6n, (r) => sent.push({ ...r, transfer: r.transfer }))
    assert.equal(sent[1]!.transfer.id, reissueId(id, 1))
  })
})
