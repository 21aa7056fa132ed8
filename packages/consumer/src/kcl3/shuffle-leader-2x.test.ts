import { describe, expect, it } from 'vitest'
import { javaShuffle, shuffleLeaderOf } from './shuffle-leader-2x.js'

const workers = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`)

describe('the 2.x shuffle leader', () => {
  // Printed by Java 17: Collections.shuffle(["w0".."wN-1"], new Random(1947)).
  it.each([
    [1, 'w0'],
    [2, 'w0,w1'],
    [3, 'w2,w0,w1'],
    [5, 'w4,w0,w2,w1,w3'],
    [8, 'w2,w3,w0,w6,w4,w7,w1,w5'],
    [13, 'w12,w2,w6,w8,w0,w4,w11,w3,w7,w9,w5,w1,w10'],
  ])('shuffles %i owners as java.util.Collections.shuffle with Random(1947)', (n, java) => {
    expect(javaShuffle(workers(n)).join(',')).toBe(java)
  })

  it('elects from the sorted distinct owners, ignoring unowned leases', () => {
    expect(shuffleLeaderOf(['w1', undefined, 'w2', 'w0', 'w2'])).toBe('w2')
    expect(shuffleLeaderOf([undefined])).toBeUndefined()
  })
})
