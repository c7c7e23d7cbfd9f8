// The JSON-RPC provider for a chain, chosen by the kind of network it is: the one place that choice is made.
import { JsonRpcProvider } from 'ethers'

/**
 * The two kinds of network, in the NodeApi's words: 'sandbox', a local chain (anvil, the devnet) that answers in
 * milliseconds, and 'rpc', an Ethereum node's RPC URL, often public and rate-limited.
 */
export type NetworkKind = 'sandbox' | 'rpc'

export function chainProvider(kind: NetworkKind, rpcUrl: string, chainId: bigint): JsonRpcProvider {
  // A local node: poll fast and never serve a cached block number after a time jump.
  if (kind === 'sandbox') return new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, pollingInterval: 20, cacheTimeout: -1 })
  // An RPC endpoint: ethers' own polling and caching, which a rate-limited RPC needs.
  return new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, pollingInterval: 4000 })
}
