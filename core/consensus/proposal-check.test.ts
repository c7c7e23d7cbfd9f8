// The judgement of a leader's proposal alone: a member votes only for what its own ledger gives, challenges at once
// when its own balance is wrong, waits when only the order differs and it can prove it, and stays silent when the
// proposal is wrong in a way its receipts cannot show (without its vote the checkpoint cannot land).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Checkpoint, Hex } from '../protocol/types.js'
import type { MemberRecord } from './chain-port.js'
import { checkProposal, type ProposalCheck } from './proposal-check.js'

const ROOT = `0x${'11'.repeat(32)}` as Hex
const OTHER_ROOT = `0x${'22'.repeat(32)}` as Hex

const members: MemberRecord[] = [0, 1, 2].map((index) => ({
  index,
  account: `0x${String(index + 1).repeat(40)}`,
  peerKey: `0x${'00'.repeat(32)}` as Hex,
  deposit: 100n,
  exited: false,
}))

/** What the member's own ledger gives for the proposal's choices. */
function ours(over: Partial<Checkpoint> = {}): Checkpoint {
  return { epoch: 4n, leader: 1, nextLeader: 2, balances: [90n, 110n, 100n], deposited: [100n, 100n, 100n], exitMask: 0n, txRoot: ROOT, txCount: 3, ...over }
}

function check(proposal: Checkpoint, over: Partial<ProposalCheck> = {}) {
  let recounts = 0
  let evidenceAsked = 0
  const verdict = checkProposal({
    proposal,
    me: 0,
    last: { balances: [100n, 100n, 100n], deposited: [100n, 100n, 100n] },
    members,
    exitRequests: new Set(),
    recount: (next) => (recounts++, ours({ nextLeader: next.nextLeader, deposited: [...next.deposited], exitMask: next.exitMask })),
    evidence: () => (evidenceAsked++, 2),
    ...over,
  })
  return { verdict, recounts, evidenceAsked }
}

describe('a member judging a proposal', () => {
  it('votes for the checkpoint its own ledger gives, without checking its evidence', () => {
    const r = check(ours())
    assert.deepEqual(r.verdict, { action: 'vote' })
    assert.equal(r.recounts, 1)
    assert.equal(r.evidenceAsked, 0, 'signature checks of our evidence only when we may challenge')
  })

  it('challenges at once when its own balance is wrong', () => {
    assert.equal(check(ours({ balances: [80n, 120n, 100n] })).verdict.action, 'challenge-now')
  })

  it('waits to challenge when only the receipt root differs and it holds two receipts to prove an order', () => {
    assert.equal(check(ours({ txRoot: OTHER_ROOT })).verdict.action, 'challenge-later')
    assert.equal(check(ours({ txCount: 2 })).verdict.action, 'challenge-later')
  })

  it('stays silent when the root differs but it cannot prove an order (fewer than two receipts of its own)', () => {
    assert.equal(check(ours({ txRoot: OTHER_ROOT }), { evidence: () => 1 }).verdict.action, 'abstain')
  })

  it('stays silent when another member\'s balance is wrong but its own and the root are right', () => {
    assert.equal(check(ours({ balances: [90n, 120n, 90n] })).verdict.action, 'abstain')
  })

  it('never votes for a proposal with a wrong member count, deposits, exits or next leader; recounts nothing then', () => {
    const wrong: Array<[string, Checkpoint]> = [
      ['more members than the chain has', ours({ balances: [90n, 110n, 100n, 0n], deposited: [100n, 100n, 100n, 0n] })],
      ['fewer members than the last checkpoint', ours({ balances: [90n, 110n], deposited: [100n, 100n] })],
      ['balances and deposits of different lengths', ours({ deposited: [100n, 100n] })],
      ['a deposit above what the contract holds', ours({ deposited: [100n, 101n, 100n] })],
      ['a deposit below the last checkpoint\'s', ours({ deposited: [99n, 100n, 100n] })],
      ['an exit nobody asked for', ours({ exitMask: 1n << 2n, nextLeader: 0 })],
      ['a next leader out of rotation', ours({ nextLeader: 0 })],
    ]
    for (const [what, cp] of wrong) {
      const r = check(cp)
      assert.equal(r.verdict.action, 'abstain', what)
      assert.equal(r.recounts, 0, what)
    }
  })

  it('accepts an exit that was asked for, with the next leader skipping the leaver', () => {
    const cp = ours({ exitMask: 1n << 2n, nextLeader: 0 })
    assert.deepEqual(check(cp, { exitRequests: new Set([2]) }).verdict, { action: 'vote' })
  })

  it('skips an exited member when it checks the next leader', () => {
    const gone = members.map((m) => (m.index === 2 ? { ...m, exited: true } : m))
    assert.deepEqual(check(ours({ nextLeader: 0 }), { members: gone }).verdict, { action: 'vote' })
  })
})
