/** Filled by the producer issue. */
export const PACKAGE_NAME = '@kinesis-ts/producer'
