// A promise rejection nobody handled ends a Node process by default. In a process that serves channels (the app's
// core, `node --ui`, a headless node) one forgotten catch must not take every channel down with it, so such a
// rejection is logged and the process keeps serving. The log line is the error's message only: a stack or the
// rejected value's fields may quote arguments, and no secret may reach a log.
import { errorMessage } from './error-message.js'

let installed = false

/** Logs every unhandled rejection from now on through `log` instead of letting it end the process. */
export function logUnhandledRejections(log: (line: string) => void): void {
  if (installed) return
  installed = true
  process.on('unhandledRejection', (reason) => {
    log(`unexpected error, kept running: ${errorMessage(reason)}`)
  })
}
