// Runs every *.test.ts under contracts/, core/ and app/ with node's own test runner (Node 20's --test takes no
// globs). Files run one at a time: each starts its own chain and processes. The keychain tests need a Secret
// Service: without a D-Bus session, the run restarts itself inside a private one with an unlocked gnome-keyring
// (Debian: dbus-x11, gnome-keyring).
//
// The files found must be exactly those listed in build/test-manifest.txt: a listed file gone, or a test file not
// listed, fails the run before anything runs. After adding, moving or removing a test file:
//   npx tsx build/run-tests.ts --update-manifest     (then commit build/test-manifest.txt)
// Each test has TEST_TIMEOUT_MS unless it (or its suite) sets its own `{ timeout }` (build/test-timeout.ts), each
// file FILE_TIMEOUT_MS (a hook that never ends), and a file that registers no test fails the run
// (build/run-test-files.ts).
//
// Arguments: --test-name-pattern=<re> (repeatable), --test-only, --test-reporter=spec|tap|dot,
// --test-timeout=<ms> (instead of TEST_TIMEOUT_MS); any other argument goes to node in each test file's process.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const KEYRING_ENV = 'OFFCHAIN_TEST_KEYRING'
const MANIFEST = 'build/test-manifest.txt'
/** Above the slowest test that sets no timeout of its own; the slow ones set theirs (the packed install: 600 s). */
const TEST_TIMEOUT_MS = 300_000
/** Above the slowest file, all its tests and hooks together. */
const FILE_TIMEOUT_MS = 1_200_000

const argv = process.argv.slice(2)
const updateManifest = argv.includes('--update-manifest')

if (!updateManifest && !process.env.DBUS_SESSION_BUS_ADDRESS && !process.env[KEYRING_ENV] &&
  existsSync('/usr/bin/dbus-run-session') && existsSync('/usr/bin/gnome-keyring-daemon')) {
  // A throwaway keyring in a temporary XDG data directory: never the user's own, unlocked by a password that
  // guards nothing.
  const keyrings = mkdtempSync(join(tmpdir(), 'test-keyring-'))
  const inner = `echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$0" "$@"`
  const run = spawnSync('dbus-run-session', ['--', 'sh', '-c', inner, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [KEYRING_ENV]: '1', XDG_DATA_HOME: keyrings },
  })
  rmSync(keyrings, { recursive: true, force: true })
  process.exit(run.status ?? 1)
}

const roots = ['contracts', 'core', 'app'].filter((d) => existsSync(d))
const files = roots
  .flatMap((d) => readdirSync(d, { recursive: true, encoding: 'utf8' }).map((f) => join(d, f).replaceAll('\\', '/')))
  .filter((f) => f.endsWith('.test.ts') && !f.split('/').includes('node_modules'))
  .sort()

if (updateManifest) {
  const header = [
    '# Every test file npm test runs, one per line (build/run-tests.ts fails on any difference with what it finds).',
    '# Regenerate after adding, moving or removing a test file: npx tsx build/run-tests.ts --update-manifest',
  ]
  writeFileSync(MANIFEST, [...header, ...files, ''].join('\n'))
  console.log(`${MANIFEST}: ${files.length} test files`)
  process.exit(0)
}

if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
if (!existsSync(MANIFEST)) {
  console.error(`${MANIFEST} is missing: create it with npx tsx build/run-tests.ts --update-manifest`)
  process.exit(1)
}
const listed = readFileSync(MANIFEST, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
const missing = listed.filter((f) => !files.includes(f))
const unlisted = files.filter((f) => !listed.includes(f))
if (missing.length > 0 || unlisted.length > 0) {
  console.error(`The test files found differ from ${MANIFEST}:`)
  for (const f of missing) console.error(`  listed but not found (deleted, renamed, or not named *.test.ts?): ${f}`)
  for (const f of unlisted) console.error(`  found but not listed: ${f}`)
  console.error(`If that is intended: npx tsx build/run-tests.ts --update-manifest, and commit ${MANIFEST}.`)
  process.exit(1)
}

// The runner is node:test's run() in build/run-test-files.ts (a per-file timeout, the count of tests per file);
// each test file's process inherits its node options, hence build/test-timeout.ts (the per-test default) in each.
const nodeArgs: string[] = []
const runnerArgs: string[] = []
let testTimeout = TEST_TIMEOUT_MS
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!
  const [flag, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
  const takeValue = (): string => value ?? argv[++i] ?? ''
  if (flag === '--test-name-pattern' || flag === '--test-reporter') runnerArgs.push(`${flag}=${takeValue()}`)
  else if (flag === '--test-only') runnerArgs.push(flag)
  else if (flag === '--test-timeout') testTimeout = Number(takeValue())
  else nodeArgs.push(a)
}
if (!Number.isFinite(testTimeout) || testTimeout <= 0) {
  console.error('--test-timeout takes a number of milliseconds')
  process.exit(1)
}
const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--expose-internals', '--import', './build/test-timeout.ts', ...nodeArgs,
    'build/run-test-files.ts', `--file-timeout=${FILE_TIMEOUT_MS}`, ...runnerArgs, '--', ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, OFFCHAIN_TEST_TIMEOUT_MS: String(testTimeout) } },
)
process.exit(result.status ?? 1)
