#!/usr/bin/env node
// The command-line entry. Commands: sandbox (the whole product on this machine), devnet (the embedded local chain
// with a channel on it), node (one headless peer).
import { parseArgs } from 'node:util'
import { runDevnetCommand } from './devnet-command.js'
import { ACCOUNT_KEY_ENV } from '../node/wire.js'
import { nodeCommandOptions, runNodeCommand } from './node-command.js'
import { runSandbox } from './sandbox-command.js'
import { runUiCommand } from './ui-command.js'
import { UsageError } from './usage-error.js'
import { errorMessage } from '../util/error-message.js'

const USAGE = `usage: offchain-channel <command> [options]

  sandbox [--peers N] [--epochs E] [--deposit ETH] [--rpc URL] [--json FILE]
      the whole product on this machine: a local chain (or --rpc, whose first accounts are funded), a local DHT,
      a channel, N peers (default 4) as separate processes paying each other, live progress; stops after E
      checkpoints (default: at Ctrl-C) and writes a summary to --json FILE

  devnet [--members N] [--deposit ETH] [--once]
      start a local chain (anvil on 127.0.0.1), deploy a channel, have N dev accounts join and land the first
      checkpoint; keeps running until Ctrl-C (--once: exit when done)

  node --rpc URL --chain-id ID --channel ADDRESS --data-dir DIR [--key-file FILE] [--bootstrap HOST:PORT,...]
       [--join ETH] [--epoch-ms MS] [--leader-timeout-ms MS]
      run one headless peer of a channel; the account key comes from --key-file or ${ACCOUNT_KEY_ENV};
      without --bootstrap it uses the public DHT. JSON commands on stdin, JSON events on stdout.

  node --ui [--data-dir DIR] [--port P] [--rpc URL --chain-id ID --bootstrap HOST:PORT,...]
      the app (accounts in the OS keychain, channels, payments) with its UI served to a browser on 127.0.0.1;
      prints the URL with a one-time access token. The sandbox network is --rpc/--bootstrap when given,
      else a local chain and DHT started on first use. Data in DIR (default ~/.offchain-channels).`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command === 'sandbox') {
    const { values } = parseArgs({
      args: rest,
      options: {
        peers: { type: 'string', default: '4' },
        epochs: { type: 'string' },
        deposit: { type: 'string', default: '10' },
        rpc: { type: 'string' },
        json: { type: 'string' },
      },
    })
    await runSandbox({
      peers: Number(values.peers),
      epochs: values.epochs === undefined ? Infinity : Number(values.epochs),
      depositEth: values.deposit,
      rpc: values.rpc,
      json: values.json,
      log: (line) => console.log(line),
    })
    return 0
  }
  if (command === 'devnet') {
    const { values } = parseArgs({
      args: rest,
      options: {
        members: { type: 'string', default: '4' },
        deposit: { type: 'string', default: '10' },
        once: { type: 'boolean', default: false },
      },
    })
    await runDevnetCommand({
      members: Number(values.members),
      depositEth: values.deposit,
      once: values.once,
      log: (line) => console.log(line),
    })
    return 0
  }
  if (command === 'node' && rest.includes('--ui')) {
    const { values } = parseArgs({
      args: rest,
      options: {
        ui: { type: 'boolean' },
        rpc: { type: 'string' },
        'chain-id': { type: 'string' },
        'data-dir': { type: 'string' },
        bootstrap: { type: 'string' },
        port: { type: 'string' },
      },
    })
    await runUiCommand({
      dataDir: values['data-dir'],
      rpc: values.rpc,
      chainId: values['chain-id'] === undefined ? undefined : BigInt(values['chain-id']),
      bootstrap: values.bootstrap,
      port: values.port === undefined ? undefined : Number(values.port),
      log: (line) => console.log(line),
    })
    return 0
  }
  if (command === 'node') {
    await runNodeCommand(nodeCommandOptions(rest, USAGE))
    return 0
  }
  console.error(`unknown command: ${command}\n${USAGE}`)
  return 2
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A person reads this: the message, not a stack. A command line that cannot run as given exits 2, like an
    // unknown command; a command that failed while running exits 1.
    console.error(`error: ${errorMessage(err)}`)
    process.exit(err instanceof UsageError ? 2 : 1)
  },
)
