// The serial queue alone, on a hand-driven clock: tasks run one at a time in order (tasks handed back go first), a
// failing task does not stop the queue, the deadline timer is replaced when re-armed, and nothing runs after stop.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SerialQueue, type Clock } from './serial-queue.js'

/** A clock whose timers fire only when the test advances it. */
class ManualClock implements Clock {
  private t = 0
  private readonly timers = new Map<number, { at: number; task: () => void }>()
  private nextId = 1
  now(): number {
    return this.t
  }
  setTimeout(task: () => void, ms: number): unknown {
    const id = this.nextId++
    this.timers.set(id, { at: this.t + ms, task })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }
  advance(ms: number): void {
    this.t += ms
    for (const [id, timer] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.t) continue
      this.timers.delete(id)
      timer.task()
    }
  }
  get pending(): number {
    return this.timers.size
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r))

/** Resolves once every task queued so far has run. */
const drained = (q: SerialQueue): Promise<void> => new Promise((r) => q.run(r))

describe('serial queue', () => {
  it('runs tasks handed back with runFirst ahead of those queued but not started, in the order given', async () => {
    const q = new SerialQueue(new ManualClock(), () => {})
    const seen: string[] = []
    q.run(() => {
      seen.push('a')
      q.runFirst([() => void seen.push('held 1'), () => void seen.push('held 2')])
    })
    q.run(() => void seen.push('b'))
    assert.equal(q.backlog, 2)
    await drained(q)
    assert.deepEqual(seen, ['a', 'held 1', 'held 2', 'b'])
    await q.idle()
    assert.equal(q.backlog, 0)
  })

  it('runs tasks one at a time, in order, even when an earlier one awaits', async () => {
    const q = new SerialQueue(new ManualClock(), () => {})
    const seen: string[] = []
    q.run(async () => {
      seen.push('a start')
      await settle()
      seen.push('a end')
    })
    q.run(() => void seen.push('b'))
    await drained(q)
    assert.deepEqual(seen, ['a start', 'a end', 'b'])
  })

  it('reports a failing task and goes on with the next', async () => {
    const errors: unknown[] = []
    const q = new SerialQueue(new ManualClock(), (err) => errors.push(err))
    let ran = false
    q.run(() => {
      throw new Error('boom')
    })
    q.run(() => void (ran = true))
    await drained(q)
    assert.equal((errors[0] as Error).message, 'boom')
    assert.equal(ran, true)
  })

  it('replaces the deadline when re-armed, and fires it on the clock', async () => {
    const clock = new ManualClock()
    const q = new SerialQueue(clock, () => {})
    const fired: string[] = []
    q.arm(100, () => void fired.push('first'))
    q.arm(300, () => void fired.push('second'))
    clock.advance(150)
    await settle()
    assert.deepEqual(fired, [])
    clock.advance(200)
    await settle()
    assert.deepEqual(fired, ['second'])
  })

  it('runs one-off timers beside the deadline and clears every timer on stop', async () => {
    const clock = new ManualClock()
    const q = new SerialQueue(clock, () => {})
    const fired: string[] = []
    q.after(50, () => void fired.push('later'))
    q.arm(100, () => void fired.push('deadline'))
    clock.advance(60)
    await settle()
    assert.deepEqual(fired, ['later'])
    await q.stop()
    assert.equal(clock.pending, 0)
    q.run(() => void fired.push('after stop'))
    q.after(1, () => void fired.push('after stop'))
    clock.advance(1000)
    await settle()
    assert.deepEqual(fired, ['later'])
    assert.equal(q.stopped, true)
  })
})
