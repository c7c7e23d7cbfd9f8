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
  private tasks: Array<Task | undefined> = []
  /** Index of the next task in `tasks` (shift would copy the rest each time: quadratic on a long queue). */
  private head = 0
  /** The loop working the tasks off, while there are any. */
  private working: Promise<void> | undefined
  /** Tasks queued and not yet done, marks left out. */
  private queued = 0
  /** Tasks that only tell a waiter its turn came: they run after stop too, and are not counted. */
  private readonly marks = new WeakSet<Task>()
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
    return this.queued
  }

  run(task: Task): void {
    this.queued++
    this.tasks.push(task)
    this.work()
  }

  /**
   * Tasks that go ahead of every task queued but not started: entries held back that arrived before the ones
   * queued since, handed back in the order they came.
   */
  runFirst(tasks: readonly Task[]): void {
    this.queued += tasks.length
    this.tasks = [...tasks, ...this.tasks.slice(this.head)] // not unshift(...): a whole inbox passes its arguments limit
    this.head = 0
    this.work()
  }

  private work(): void {
    this.working ??= (async () => {
      await undefined // never inside run: the caller goes on first, as it would with a promise chain
      for (let task = this.next(); task; task = this.next()) {
        const mark = this.marks.has(task)
        try {
          if (!this.halted || mark) await task()
        } catch (err) {
          try {
            this.onError(err)
          } catch {} // a failing report must not end the queue
        }
        if (!mark) this.queued--
      }
      this.working = undefined
    })()
  }

  private next(): Task | undefined {
    const task = this.tasks[this.head]
    if (task) this.tasks[this.head++] = undefined // let it go
    if (this.head === this.tasks.length || this.head > 4096) { // now and then, not per task
      this.tasks = this.tasks.slice(this.head)
      this.head = 0
    }
    return task
  }

  /** Resolves once every task queued so far is done (not those queued after: a steady stream never ends). */
  idle(): Promise<void> {
    if (!this.working) return Promise.resolve()
    return new Promise((resolve) => {
      const mark = (): void => resolve()
      this.marks.add(mark)
      this.tasks.push(mark)
    })
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
