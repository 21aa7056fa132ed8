import { describe, expect, it } from 'vitest'
import {
  AbortedError,
  ClosedError,
  ConfigurationError,
  InvalidArgumentError,
  KinesisTsError,
  describeValue,
  errorCodeOf,
} from './errors.js'

describe('errors', () => {
  it('carry a stable code, a retriable flag and a cause', () => {
    const cause = new Error('root')
    const error = new KinesisTsError('ERR_X', 'boom', { cause, retriable: true })
    expect(error).toMatchObject({ code: 'ERR_X', retriable: true, message: 'boom' })
    expect(error.cause).toBe(cause)
    expect(errorCodeOf(error)).toBe('ERR_X')
  })

  it('name the field, the limit and the value received', () => {
    const error = new InvalidArgumentError('partitionKey', 'must be 1 to 256 characters', 'x'.repeat(300))
    expect(error.message).toBe(
      'Invalid partitionKey: must be 1 to 256 characters (received a string of 300 characters)',
    )
    const config = new ConfigurationError('recordTtl', 'an integer in 100..9007199254740991 ms', -1)
    expect(config.message).toContain('recordTtl')
    expect(config.message).toContain('-1')
    // What the operator wrote (a path, an ARN) is shown whole; a call's value stays short.
    const path = `/srv/app/${'nested/'.repeat(20)}processor.js`
    expect(new ConfigurationError('processorModule', 'an existing module file', path).message).toContain(
      JSON.stringify(path),
    )
    expect(new ConfigurationError('endpoint', 'a URL', 'x'.repeat(2_000)).message).toContain(
      'a string of 2000 characters',
    )
  })

  it('match with instanceof by brand, also for a copy from another bundle', () => {
    const closed = new ClosedError('KinesisProducer')
    expect(closed).toBeInstanceOf(ClosedError)
    expect(closed).toBeInstanceOf(KinesisTsError)
    expect(closed).not.toBeInstanceOf(AbortedError)
    // What a second copy of the library would produce: a plain object with the same global brand.
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('kinesis-ts.error'), { value: 'ERR_CLOSED' })
    expect(foreign).toBeInstanceOf(ClosedError)
    expect(foreign).toBeInstanceOf(KinesisTsError)
    expect(new Error('plain')).not.toBeInstanceOf(KinesisTsError)
  })

  it('never dump large payloads into messages', () => {
    expect(describeValue(Buffer.alloc(2_000_000))).toBe('Buffer of 2000000 bytes')
    expect(describeValue({ a: 1 })).toBe('object')
  })
})
