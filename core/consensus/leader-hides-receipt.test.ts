// A leader that keeps a member's payment to itself: it countersigns and receipts it in its own ledger but writes
// neither to its log, proposes the payer's balance with the payment deducted (its count and root shaped after what
// the payer saw), and wins the payer's challenge by answering with the hidden receipt. One `send` must still debit
// the payer once: the payer's node reads the leader's answer from the chain, takes the payment as checkpointed, and
// never pays it again, nor shows it unpaid after a restart. The payer pays three times and the answer travels one
// entry a transaction, so the node must read it from every chunk.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import { receiptLeaf } from '../protocol/eip712.js'
import { decodeEntry } from '../protocol/entries.js'
import { merkleRoot } from '../protocol/merkle.js'
import type { Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'
import type { Conduct } from './conduct.js'
import type { Transport } from './transport.js'

const PAYER = 0
const LEADER = 1 // leads epoch 2

describe('leader hides a receipt', () => {
  const devnet = useDevnet()

  it('the payer challenges, the leader wins with the hidden receipt, and the payment is debited once', async () => {
    const f = await openChannel(devnet(), { members: 2, deposit: parseEther('1') })
    f.channel.listChunk = 1 // every member's client sends dispute lists one entry a transaction
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const payer = f.member(PAYER).address
    const hidden = new Set<string>()
    // The leader's log never carries the payer's payments: no countersign, no receipt.
    const hiding = (t: Transport): Transport => ({
      subscribe: (h) => t.subscribe(h),
      append: (entries) =>
        t.append(
          entries.filter((bytes) => {
            const e = decodeEntry(bytes)
            const transfer = e.type === 'countersign' ? e.transfer : e.type === 'receipt' ? e.tx.transfer : undefined
            if (transfer?.from !== payer) return true
            hidden.add(transfer.id)
            return false
          }),
        ),
    })
    // Its proposal counts only the receipts it wrote, so the count and root match the payer's ledger.
    const shaping: Conduct = {
      propose: (honest, view) => {
        const shown = view.receipts.filter((t) => !hidden.has(t.transfer.id))
        return { ...honest, txRoot: merkleRoot(shown.map(receiptLeaf)), txCount: shown.length }
      },
      answer: (honest) => honest,
      judge: (verdict, evidence) => ({ verdict, evidence }),
    }
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 1500, leaderTimeoutMs: 2000, chainPollMs: 40 },
      wrapTransport: { [LEADER]: hiding },
      conduct: { [LEADER]: shaping },
    })
    try {
      await cluster.untilCheckpoint(1n)
      const p = cluster.participants[PAYER]!
      while (p.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 20))
      assert.equal(p.currentLeader, LEADER)
      const amount = parseEther('0.1')
      const payments = [p.send(LEADER, amount), p.send(LEADER, amount), p.send(LEADER, amount)]

      await cluster.untilCheckpoint(3n, 60_000)
      const events = await f.channel.events()
      const verdict = events.find((e) => e.type === 'DisputeResolved' && e.epoch === 2n)
      assert.ok(verdict?.type === 'DisputeResolved' && verdict.leaderRight && verdict.challenger === PAYER, 'the leader won the payer\'s challenge')
      assert.equal(hidden.size, 3)
      const answered = events.filter((e) => e.type === 'Answered' && e.epoch === 2n)
      assert.equal(new Set(answered.map((e) => e.transactionHash)).size, 3, 'the answer came in three transactions')
      const cps = events.flatMap((e) => (e.type === 'CheckpointSubmitted' ? [e] : []))
      const after = (epoch: bigint): bigint[] => cps.find((c) => c.epoch === epoch)!.balances
      assert.deepEqual(after(2n), [parseEther('0.7'), parseEther('1.3')], 'the contested checkpoint took each payment once')
      assert.deepEqual(after(3n), [parseEther('0.7'), parseEther('1.3')], 'and nobody took them again')

      const records = await Promise.all(payments)
      for (const record of records) {
        assert.equal(record.status, 'checkpointed')
        assert.equal(record.transfer.epoch, 2n, 'a payment of epoch 2, never re-issued')
      }
      const mine = p.transfers().filter((t) => t.direction === 'out')
      assert.equal(mine.length, 3)
      assert.ok(mine.every((t) => t.status === 'checkpointed'))

      // Restarted, the payer finds no receipt of it in any log: it must read the leader's answer on chain again,
      // or it shows the payment as ended unpaid (and its user pays a second time).
      const back = await cluster.restart(PAYER)
      const deadline = Date.now() + 10_000
      const shown = (): string[] => records.map((r) => back.transfers().find((t) => t.transfer.id === r.transfer.id)?.status ?? 'missing')
      while (shown().some((s) => s !== 'checkpointed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      assert.deepEqual(shown(), ['checkpointed', 'checkpointed', 'checkpointed'], 'after a restart the payments are still shown paid')
      assert.equal(back.transfers().filter((t) => t.direction === 'out').length, 3)
    } finally {
      await cluster.stop()
    }
  })
})
