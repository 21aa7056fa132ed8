import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createKinesisClient } from './clients.js'

const profiles = (name: string) => fileURLToPath(new URL(`./test-support/aws-profiles/${name}`, import.meta.url))

describe('createKinesisClient region', () => {
  beforeEach(() => {
    // Only the repository's profile files are read, whatever the machine running the test has.
    vi.stubEnv('AWS_REGION', undefined)
    vi.stubEnv('AWS_DEFAULT_REGION', undefined)
    vi.stubEnv('AWS_PROFILE', undefined)
    vi.stubEnv('AWS_CONFIG_FILE', profiles('config-with-region'))
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', profiles('empty'))
  })
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('takes the region of the default AWS profile when none is given', async () => {
    const client = createKinesisClient()
    await expect(client.config.region()).resolves.toBe('eu-west-3')
    client.destroy()
  })

  it('takes the region of the profile AWS_PROFILE names', async () => {
    vi.stubEnv('AWS_PROFILE', 'paris-west')
    const client = createKinesisClient()
    await expect(client.config.region()).resolves.toBe('eu-west-1')
    client.destroy()
  })

  it('prefers AWS_REGION to the profile, and a given region to both', async () => {
    vi.stubEnv('AWS_REGION', 'ap-south-1')
    const fromEnvironment = createKinesisClient()
    const given = createKinesisClient({ region: 'sa-east-1' })
    await expect(fromEnvironment.config.region()).resolves.toBe('ap-south-1')
    await expect(given.config.region()).resolves.toBe('sa-east-1')
    fromEnvironment.destroy()
    given.destroy()
  })

  it('fails with the SDK error instead of guessing us-east-1 when nothing names a region', async () => {
    vi.stubEnv('AWS_CONFIG_FILE', profiles('empty'))
    const client = createKinesisClient()
    await expect(client.config.region()).rejects.toThrow(/Region is missing/)
    client.destroy()
  })
})
