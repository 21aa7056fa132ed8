import { ConfigurationError } from './errors.js'

/*
 * The option checks of every package, so that each bad option reads the same:
 * "Invalid option <name>: expected <what is allowed> (received <value>)". An absent option takes its
 * default; a present one is checked, never coerced.
 */

const UNBOUNDED = Number.MAX_SAFE_INTEGER

/** "in [1, 500]", or ", at least 1" when there is no upper bound. */
function range(min: number, max: number): string {
  return max >= UNBOUNDED ? `, at least ${min}` : ` in [${min}, ${max}]`
}

function integerIn(option: string, value: unknown, fallback: number, min: number, max: number, what: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(option, `${what}${range(min, max)}`, value)
  }
  return value
}

/** An integer in [min, max]; `fallback` when absent. */
export function integerOption(option: string, value: unknown, fallback: number, min: number, max = UNBOUNDED): number {
  return integerIn(option, value, fallback, min, max, 'an integer')
}

/** An integer in [min, max] that must be given. */
export function requiredIntegerOption(option: string, value: unknown, min: number, max = UNBOUNDED): number {
  if (value === undefined) throw new ConfigurationError(option, `an integer${range(min, max)}`)
  return integerOption(option, value, min, min, max)
}

/** A function (`what` describes its signature); undefined when absent, `required` refuses absence. */
export function functionOption<F extends (...args: never[]) => unknown>(
  option: string,
  value: unknown,
  what: string,
  required = false,
): F | undefined {
  if (value === undefined && !required) return undefined
  if (typeof value !== 'function') throw new ConfigurationError(option, what, value)
  return value as F
}

/** A whole number of milliseconds in [min, max]; `fallback` when absent. */
export function durationOption(option: string, value: unknown, fallback: number, min: number, max = UNBOUNDED): number {
  return integerIn(option, value, fallback, min, max, 'an integer number of milliseconds')
}

export interface NumberRange {
  readonly min: number
  /** The minimum itself is refused (a rate or a factor that must be positive). */
  readonly minExclusive?: boolean
  /** Inclusive; Infinity allows "unlimited". */
  readonly max: number
}

/** A number (fractions allowed, NaN never) in the range; `fallback` when absent. */
export function numberOption(option: string, value: unknown, fallback: number, range: NumberRange): number {
  if (value === undefined) return fallback
  const { min, minExclusive = false, max } = range
  const inRange = (v: number) => (minExclusive ? v > min : v >= min) && v <= max
  if (typeof value !== 'number' || Number.isNaN(value) || !inRange(value)) {
    const lower = minExclusive ? `above ${min}` : `at least ${min}`
    const upper = max === Number.POSITIVE_INFINITY ? '' : ` and at most ${max}`
    throw new ConfigurationError(option, `a number ${lower}${upper}`, value)
  }
  return value
}

export function booleanOption(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigurationError(option, 'true or false', value)
  return value
}

/** 'a', 'b' or 'c'. */
function alternatives(allowed: readonly string[]): string {
  const quoted = allowed.map((value) => `'${value}'`)
  return quoted.length < 2 ? (quoted[0] ?? 'nothing') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`
}

/** One of the `allowed` strings; `fallback` when absent, and absent is refused when there is none. */
export function oneOf<const T extends string>(option: string, value: unknown, allowed: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigurationError(option, alternatives(allowed), value)
  }
  return value as T
}

export interface StringRule {
  readonly minLength?: number | undefined
  readonly maxLength?: number | undefined
  /** Every character must match; `characters` names them in the message. */
  readonly pattern?: { readonly test: RegExp; readonly characters: string } | undefined
}

function describeString({ minLength = 1, maxLength = UNBOUNDED, pattern }: StringRule): string {
  const length = maxLength >= UNBOUNDED ? 'a non-empty string' : `a string of ${minLength} to ${maxLength} characters`
  return pattern === undefined ? length : `${length} of ${pattern.characters}`
}

/** A string within the rule, or undefined when absent (an empty string is not absent: it is refused). */
export function stringOption(option: string, value: unknown, rule: StringRule = {}): string | undefined {
  if (value === undefined) return undefined
  const { minLength = 1, maxLength = UNBOUNDED, pattern } = rule
  if (
    typeof value !== 'string' ||
    value.length < minLength ||
    value.length > maxLength ||
    (pattern !== undefined && !pattern.test.test(value))
  ) {
    throw new ConfigurationError(option, describeString(rule), value)
  }
  return value
}

/** As stringOption, and absent is refused too. */
export function requiredStringOption(option: string, value: unknown, rule: StringRule = {}): string {
  const checked = stringOption(option, value, rule)
  if (checked === undefined) throw new ConfigurationError(option, describeString(rule), value)
  return checked
}

/** An option that must not be below another one (a backoff ceiling and its base). */
export function notBelow(option: string, value: number, other: string, otherValue: number): number {
  if (value < otherValue) throw new ConfigurationError(option, `at least ${other} (${otherValue})`, value)
  return value
}
