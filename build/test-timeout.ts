// Loaded (--import) into every test file's process by build/run-test-files.ts: gives each test that sets no
// `{ timeout }` of its own (and whose suite sets none) OFFCHAIN_TEST_TIMEOUT_MS, so a test that never ends fails
// instead of hanging the run. Node 20's --test-timeout cannot do it: it reaches only the runner, where it limits
// each whole file. This sets the default where node:test makes each test (Test#createSubtest, an internal, hence
// --expose-internals); the test's own location stays as reported. Suites keep no limit of their own (a suite's
// timeout would bound all its tests together). Outside a test file's process (no NODE_TEST_CONTEXT), it does nothing.
import { createRequire } from 'node:module'

const ms = Number(process.env.OFFCHAIN_TEST_TIMEOUT_MS)

if (process.env.NODE_TEST_CONTEXT && Number.isFinite(ms) && ms > 0) {
  type Options = { timeout?: number } | null | undefined
  interface TestClass {
    prototype: {
      createSubtest(this: { timeout: number | null }, Factory: unknown, name: unknown, options: unknown, fn: unknown, overrides: unknown): unknown
    }
  }
  let internals: { Test?: TestClass; Suite?: unknown }
  try {
    internals = createRequire(import.meta.url)('internal/test_runner/test') as typeof internals
  } catch (err) {
    throw new Error(`build/test-timeout.ts: node:test's internals are not reachable (run with --expose-internals): ${String(err)}`)
  }
  const { Test, Suite } = internals
  const original = Test?.prototype.createSubtest
  if (!Test || !Suite || typeof original !== 'function' || original.length !== 5) {
    throw new Error(`build/test-timeout.ts: node:test's Test#createSubtest is not what this Node (${process.version}) was expected to have`)
  }
  Test.prototype.createSubtest = function (Factory, name, options, fn, overrides) {
    // The argument shapes createSubtest accepts: (name, options, fn), (options, fn), (name, fn), (fn).
    let args: [unknown, unknown, unknown] = [name, options, fn]
    const isSuite = Factory === Suite || (typeof Factory === 'function' && Factory.prototype instanceof (Suite as typeof Object))
    if (!isSuite && (this.timeout == null || this.timeout === Infinity)) {
      const withDefault = (o: Options): object => (o && typeof o === 'object' && o.timeout != null ? o : { ...o, timeout: ms })
      if (typeof name === 'function') args = [withDefault(undefined), name, undefined]
      else if (name !== null && typeof name === 'object') args = [withDefault(name as Options), options, undefined]
      else if (typeof options === 'function') args = [name, withDefault(undefined), options]
      else args = [name, withDefault(options as Options), fn]
    }
    return original.call(this, Factory, args[0], args[1], args[2], overrides)
  }
}
