// The runner build/run-tests.ts starts: node:test's run() over the files given after `--`, one at a time, each file
// cancelled after --file-timeout ms, each file's process ended once its tests and hooks are done even if a test that
// timed out left something running (forceExit), reported by node's own reporter (spec on a terminal, else TAP, as
// `node --test` does) with its closing summary. A file that registers no test fails the run: it is named just
// before the summary. Each test file's process inherits this one's node options (build/test-timeout.ts).
import { relative, resolve } from 'node:path'
import { Transform } from 'node:stream'
import { run } from 'node:test'
import { dot, spec, tap } from 'node:test/reporters'

const args = process.argv.slice(2)
const split = args.indexOf('--')
const options = split === -1 ? args : args.slice(0, split)
const files = split === -1 ? [] : args.slice(split + 1)
const option = (name: string): string[] =>
  options.filter((o) => o === name || o.startsWith(`${name}=`)).map((o) => o.slice(name.length + 1))

const fileTimeout = Number(option('--file-timeout')[0] ?? Infinity)
const testNamePatterns = option('--test-name-pattern')
const reporterName = option('--test-reporter')[0] ?? (process.stdout.isTTY ? 'spec' : 'tap')
const reporters = { spec: () => new spec(), tap: () => tap, dot: () => dot } as const
if (!(reporterName in reporters)) {
  console.error(`unknown --test-reporter=${reporterName} (spec, tap or dot)`)
  process.exit(1)
}
if (files.length === 0) {
  console.error('no test files given')
  process.exit(1)
}

interface TestEventData {
  name?: string
  nesting?: number
  file?: string
  message?: string
  details?: { type?: string }
}
interface TestEvent {
  type: string
  data: TestEventData
}

const absolute = files.map((f) => resolve(f))
const tests = new Map(absolute.map((f) => [f, 0]))
/** Files that failed as a whole (a crash, the file timeout): failures already, whatever they registered. */
const brokenFiles = new Set<string>()
let failed = false
let reported = false

/** Counts the tests each file ran (suites and the file itself aside); names the files with none before the summary. */
const count = new Transform({
  objectMode: true,
  transform(event: TestEvent, _encoding, done) {
    const { type, data } = event
    if (type === 'test:fail') failed = true
    if ((type === 'test:pass' || type === 'test:fail') && data.file) {
      const file = resolve(data.file)
      const isFileItself = data.name !== undefined && resolve(data.name) === file
      if (isFileItself && type === 'test:fail') brokenFiles.add(file)
      if (!isFileItself && data.details?.type !== 'suite') tests.set(file, (tests.get(file) ?? 0) + 1)
    }
    // The summary (tests, suites, pass, fail, cancelled, ...) comes last, from the root, once every file is done.
    if (!reported && type === 'test:diagnostic' && data.nesting === 0 && !data.file && /^tests \d+$/.test(data.message ?? '')) {
      reported = true
      for (const [file, n] of tests) {
        if (n > 0 || brokenFiles.has(file)) continue
        failed = true
        const message = `${relative(process.cwd(), file)} registered no test`
        console.error(message)
        this.push({ type: 'test:diagnostic', data: { nesting: 0, message } })
      }
    }
    if (type === 'test:diagnostic' && data.nesting === 0 && /^(fail|cancelled) [1-9]/.test(data.message ?? '')) failed = true
    done(null, event)
  },
})

const stream = run({
  files,
  concurrency: 1,
  timeout: fileTimeout,
  forceExit: true,
  ...(testNamePatterns.length > 0 ? { testNamePatterns } : {}),
  ...(option('--test-only').length > 0 ? { only: true } : {}),
})
const out = stream.pipe(count).compose(reporters[reporterName as keyof typeof reporters]())
out.pipe(process.stdout)
out.on('end', () => {
  if (!reported) {
    console.error('the test runner ended without its summary')
    failed = true
  }
  process.exitCode = failed ? 1 : 0
})
