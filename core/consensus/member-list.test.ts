// The member list alone, over a scripted chain: a read answering an older state never loses a joiner or an exit,
// calls during a read share one read after it, and listeners hear of joins and exits, not of every read.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Hex } from '../protocol/types.js'
import type { MemberRecord } from './chain-port.js'
import { MemberList } from './member-list.js'

const member = (index: number, over: Partial<MemberRecord> = {}): MemberRecord => ({
  index,
  account: `0x${String(index + 1).repeat(40)}`,
  peerKey: `0x${'00'.repeat(32)}` as Hex,
  deposit: 10n,
  exited: false,
  ...over,
})

/** A chain whose `members()` answers come back when the test releases them, in any order. */
function scriptedChain() {
  const calls: Array<(list: MemberRecord[]) => void> = []
  return {
    chain: { members: () => new Promise<MemberRecord[]>((resolve) => calls.push(resolve)) },
    answer: (call: number, list: MemberRecord[]) => calls[call]?.(list),
    calls,
  }
}

describe('member list', () => {
  it('keeps a joiner and an exit when a later read answers an older state (a lagging RPC node)', async () => {
    const { chain, answer } = scriptedChain()
    const list = new MemberList(chain)
    const first = list.refresh()
    answer(0, [member(0, { exited: true, deposit: 20n }), member(1), member(2)])
    await first
    const second = list.refresh()
    answer(1, [member(0), member(1)])
    await second
    assert.equal(list.count, 3)
    assert.equal(list.exited(0), true)
    assert.equal(list.get(0)?.deposit, 20n)
    assert.equal(list.indexOf(member(2).account), 2)
  })

  it('reads once more after a read under way for every call made during it, however many', async () => {
    const { chain, answer, calls } = scriptedChain()
    const list = new MemberList(chain)
    const first = list.refresh()
    const during = [list.refresh(), list.refresh(), list.refresh()]
    assert.equal(calls.length, 1, 'one read at a time')
    answer(0, [member(0)])
    await first
    await new Promise((r) => setImmediate(r))
    assert.equal(calls.length, 2, 'the calls made during the first read share one read, started after it')
    answer(1, [member(0), member(1)])
    for (const p of during) assert.equal((await p).length, 2, 'each sees the read that began after its call')
    const after = list.refresh()
    assert.equal(calls.length, 3, 'a call after both reads reads again')
    answer(2, [member(0), member(1)])
    await after
  })

  it('tells listeners of joins and exits only', async () => {
    const { chain, answer } = scriptedChain()
    const list = new MemberList(chain)
    const heard: number[] = []
    list.onChange((l) => heard.push(l.length))
    const reads = [[member(0)], [member(0, { deposit: 99n })], [member(0), member(1)], [member(0), member(1, { exited: true })]]
    for (const [i, l] of reads.entries()) {
      const p = list.refresh()
      answer(i, l)
      await p
    }
    assert.deepEqual(heard, [1, 2, 2])
  })

  it('calls an index that is no member exited, and finds no account it does not know', async () => {
    const { chain, answer } = scriptedChain()
    const list = new MemberList(chain)
    const p = list.refresh()
    answer(0, [member(0)])
    await p
    assert.equal(list.exited(5), true)
    assert.equal(list.indexOf(member(5).account), undefined)
  })
})
