// Runs every *.test.ts under contracts/, core/ and app/ with node's own test runner (Node 20's --test takes no
// globs). Files run one at a time: each starts its own chain and processes. Extra arguments pass through to node
// (e.g. --test-name-pattern=dispute). The keychain tests need a Secret Service: without a D-Bus session, the run
// restarts itself inside a private one with an unlocked gnome-keyring (Debian: dbus-x11, gnome-keyring).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const KEYRING_ENV = 'OFFCHAIN_TEST_KEYRING'

if (!process.env.DBUS_SESSION_BUS_ADDRESS && !process.env[KEYRING_ENV] && existsSync('/usr/bin/dbus-run-session') &&
  existsSync('/usr/bin/gnome-keyring-daemon')) {
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
  .flatMap((d) => readdirSync(d, { recursive: true, encoding: 'utf8' }).map((f) => join(d, f)))
  .filter((f) => f.endsWith('.test.ts') && !f.split(/[\\/]/).includes('node_modules'))
  .sort()
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=1', ...process.argv.slice(2), ...files]
const result = spawnSync(process.execPath, args, { stdio: 'inherit' })
process.exit(result.status ?? 1)
