// A command line that cannot run as given (a missing or malformed flag): main.ts prints its message and exits 2,
// the usage-error code it also gives for an unknown command, apart from 1 for a command that failed while running.
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
