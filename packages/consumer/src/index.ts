/** Filled by the consumer issue. */
export const PACKAGE_NAME = '@kinesis-ts/consumer'
