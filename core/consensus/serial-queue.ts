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
  private readonly tasks: Task[] = []
  /** The loop working the tasks off, while there are any. */
  private working: Promise<void> | undefined
  /** A task is running now. */
  private busy = false
  /** The one re-armable timer (the running attempt's deadline). */
  private deadline: unknown
  private readonly timers = new Set<unknown>()
  private halted = false

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
    return this.tasks.length + (this.busy ? 1 : 0)
  }

  run(task: Task): void {
    this.tasks.push(task)
    this.work()
  }

  /**
   * Tasks that go ahead of every task queued but not started: entries held back that arrived before the ones
   * queued since, handed back in the order they came.
   */
  runFirst(tasks: readonly Task[]): void {
    this.tasks.unshift(...tasks)
    this.work()
  }

  private work(): void {
    this.working ??= (async () => {
      await undefined // never inside run: the caller goes on first, as it would with a promise chain
      for (let task = this.tasks.shift(); task; task = this.tasks.shift()) {
        this.busy = true
        try {
          if (!this.halted) await task()
        } catch (err) {
          this.onError(err)
        }
        this.busy = false
      }
      this.working = undefined
    })()
  }

  /** Resolves once every task queued so far is done. */
  idle(): Promise<void> {
    return this.working ?? Promise.resolve()
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
    return this.idle()
  }
}
