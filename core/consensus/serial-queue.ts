// Runs a participant's reactions one at a time, in order, with its timers on an injected clock.
export interface Clock {
  now(): number
  setTimeout(task: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (task, ms) => setTimeout(task, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

type Task = () => Promise<void> | void

export class SerialQueue {
  private tail: Promise<void> = Promise.resolve()
  /** The one re-armable timer (the running attempt's deadline). */
  private deadline: unknown
  private readonly timers = new Set<unknown>()
  private halted = false
  private queued = 0

  constructor(
    readonly clock: Clock,
    /** A task that throws is reported here; the queue goes on. */
    private readonly onError: (err: unknown) => void,
  ) {}

  get stopped(): boolean {
    return this.halted
  }

  /** Tasks queued and not yet done. */
  get backlog(): number {
    return this.queued
  }

  run(task: Task): void {
    this.queued++
    this.tail = this.tail
      .then(async () => {
        if (!this.halted) await task()
      })
      .catch(this.onError)
      .finally(() => this.queued--)
  }

  /** Resolves once every task queued so far is done. */
  idle(): Promise<void> {
    return this.tail
  }

  /** Arms the single deadline timer; arming again replaces it. */
  arm(ms: number, task: Task): void {
    this.clock.clearTimeout(this.deadline)
    if (!this.halted) this.deadline = this.clock.setTimeout(() => this.run(task), ms)
  }

  /** A one-off delayed task; never armed once stopped, cleared by stop. */
  after(ms: number, task: Task): void {
    if (this.halted) return
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle)
      this.run(task)
    }, ms)
    this.timers.add(handle)
  }

  /** Stops taking tasks and clears every timer; resolves once the task running now (if any) is done. */
  stop(): Promise<void> {
    this.halted = true
    this.clock.clearTimeout(this.deadline)
    for (const t of this.timers) this.clock.clearTimeout(t)
    this.timers.clear()
    return this.tail.catch(() => {})
  }
}
