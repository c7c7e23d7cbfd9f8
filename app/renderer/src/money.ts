// Money is shown in ether with its unit, never as raw wei; amounts typed in ether are checked before they leave.
import { formatEther, parseEther } from 'ethers'

export function ether(wei: string | undefined): string {
  if (wei === undefined) return '…'
  const [whole, frac = ''] = formatEther(BigInt(wei)).split('.')
  const shown = frac.slice(0, 6).replace(/0+$/, '')
  return `${whole}${shown ? `.${shown}` : ''} ETH`
}

/**
 * A small amount such as a fee, to four significant digits: ether() stops at six decimals, which shows a fee of
 * 0.00000042 ETH (a few cents on a rollup) as 0.
 */
export function smallEther(wei: string): string {
  const [whole, frac = ''] = formatEther(BigInt(wei)).split('.')
  if (whole !== '0') return ether(wei)
  const first = frac.search(/[1-9]/)
  return first < 0 ? '0 ETH' : `0.${frac.slice(0, first + 4).replace(/0+$/, '')} ETH`
}

/** Ether typed by a person as wei, or an error sentence. */
export function toWei(text: string): { wei: string } | { error: string } {
  const t = text.trim()
  if (!/^\d+(\.\d{1,18})?$/.test(t)) return { error: 'Enter an amount in ether, like 0.5' }
  const wei = parseEther(t)
  if (wei <= 0n) return { error: 'The amount must be more than zero' }
  return { wei: wei.toString() }
}

export function short(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`
}
