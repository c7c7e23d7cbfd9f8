// One long operation at a time per screen: its progress line and, when it fails, what to do next.
import { api } from './api'
import { explain } from './hints'

export class Busy {
  working = $state(false)
  step = $state('')
  error = $state('')

  async run<T>(first: string, work: () => Promise<T>): Promise<T | undefined> {
    this.working = true
    this.step = first
    this.error = ''
    // Listens only while working: a screen that is left must not keep a listener behind.
    const off = api.onEvent((e) => {
      if (e.type === 'progress') this.step = e.step
    })
    try {
      return await work()
    } catch (err) {
      this.error = explain(err)
      return undefined
    } finally {
      off()
      this.working = false
      this.step = ''
    }
  }
}
