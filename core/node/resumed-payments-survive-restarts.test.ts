// Which payments a restarted app tells its person about (issue 11, hole 11), across several runs over one data
// directory, with payment records as the participant keeps them: one that ended while the app was down, one whose
// end came after the restart, and what is never told (this run's own payments, incoming ones, a failure that is
// only the replay not having caught up yet, a dismissed one after another crash). The real crash is
// payment-finished-after-crash.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { TransferRecord, TransferStatus } from '../consensus/participant.js'
import type { Hex } from '../protocol/types.js'
import { ResumedPayments } from './resumed-payments.js'

const ME = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const BOB = '0xC2164b4f2a0B6A8e3A1e2a19b0C3A2a0C3b25a01'
const id = (n: number): Hex => `0x${n.toString(16).padStart(32, '0')}`

function payment(n: number, epoch: bigint, status: TransferStatus, over: Partial<TransferRecord> = {}): TransferRecord {
  return { transfer: { id: id(n), epoch, from: ME, to: BOB, amount: BigInt(n) * 1000n }, direction: 'out', status, ...over }
}

describe('payments told after a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resumed-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('tells what ended after the app stopped, never this run\'s own payments, and keeps it across a second crash until dismissed', () => {
    const file = join(dir, 'a.json')
    let clock = 0
    const now = (): number => clock

    // First run: a new data directory, started in epoch 5. Two payments go out in it; the app dies in epoch 6 with
    // A checkpointed (epoch 5) and B requested in epoch 6.
    const first = new ResumedPayments(file, 1000, now)
    first.started(5n)
    const a = payment(1, 5n, 'checkpointed')
    const b = payment(2, 6n, 'requested')
    first.sent(a)
    first.epochBegan(6n, [a, b])
    assert.deepEqual(first.ended([a, b]), [])

    // Second run, in epoch 7: B's epoch was checkpointed while the app was down. The replay shows it ended unpaid
    // until the leader's receipt is read again: no failure is told before the settle time.
    const second = new ResumedPayments(file, 1000, now)
    second.started(7n)
    const b2 = payment(2, 6n, 'rejected', { reason: 'EPOCH_ENDED' })
    const a2 = payment(1, 5n, 'checkpointed')
    const incoming = payment(3, 6n, 'checkpointed', { direction: 'in' })
    assert.deepEqual(second.ended([a2, b2, incoming]), [], 'a failure told before the logs were read again')
    b2.status = 'checkpointed'
    delete b2.reason
    assert.deepEqual(second.ended([a2, b2, incoming]), [{ id: id(2), to: BOB, amount: 2000n, status: 'checkpointed' }])

    // This run pays too: one receipted then checkpointed, one refused; neither is "resumed".
    const c = payment(4, 7n, 'checkpointed')
    const d = payment(5, 7n, 'rejected', { reason: 'OVERDRAFT' })
    second.sent(c)
    second.sent(d.transfer)
    clock += 1000
    assert.deepEqual(second.ended([a2, b2, incoming, c, d]).map((r) => r.id), [id(2)])
    second.epochBegan(8n, [a2, b2, incoming, c, d])

    // Third run, after a second crash before B was dismissed: still told; once dismissed, gone.
    const third = new ResumedPayments(file, 1000, now)
    third.started(8n)
    const records = [payment(1, 5n, 'checkpointed'), payment(2, 6n, 'checkpointed'), payment(4, 7n, 'checkpointed'), payment(5, 7n, 'rejected', { reason: 'OVERDRAFT' })]
    clock += 1000
    assert.deepEqual(third.ended(records).map((r) => r.id), [id(2)])
    third.dismiss([id(2).toUpperCase().replace('0X', '0x')], records)
    assert.deepEqual(third.ended(records), [])
    assert.deepEqual(new ResumedPayments(file, 0, now).ended(records), [], 'a dismissed payment came back after a restart')
  })

  it('a re-issued payment is told once, by the id it was first sent with; a failure too, until dismissed across restarts', () => {
    const file = join(dir, 'b.json')
    const first = new ResumedPayments(file, 0)
    first.started(3n)
    // The app dies in epoch 3 with E requested; after the restart its epoch closes without it, it goes out again as
    // a re-issue (a new id and epoch, the first id kept), is refused for good, and F is re-issued and checkpointed.
    const second = new ResumedPayments(file, 0)
    second.started(3n)
    const e = payment(7, 4n, 'rejected', { reason: 'EPOCH_ENDED', firstId: id(6), retries: 3 })
    const f = payment(9, 4n, 'checkpointed', { firstId: id(8), retries: 1 })
    const told = second.ended([e, f])
    assert.deepEqual(told, [
      { id: id(6), to: BOB, amount: 7000n, status: 'rejected', reason: 'EPOCH_ENDED' },
      { id: id(8), to: BOB, amount: 9000n, status: 'checkpointed' },
    ])
    second.dismiss([id(6)], [e, f])
    // Crash before epoch 4 is over: the dismissed failure is not told again, the other one is.
    const third = new ResumedPayments(file, 0)
    third.started(4n)
    assert.deepEqual(third.ended([e, f]).map((r) => r.id), [id(8)])
  })

  it('a damaged file loses a notice, never the node: it starts afresh from the epoch it runs', () => {
    const file = join(dir, 'c.json')
    const ok = new ResumedPayments(file, 0)
    ok.started(2n)
    ok.epochBegan(3n, [])
    writeFileSync(file, '{"version":1,"finalThrough":')
    const fresh = new ResumedPayments(file, 0)
    fresh.started(9n)
    assert.deepEqual(fresh.ended([payment(1, 8n, 'checkpointed'), payment(2, 9n, 'checkpointed')]).map((r) => r.id), [id(2)])
  })
})
