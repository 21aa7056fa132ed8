/**
 * The KPL aggregated-record schema, as the Java KPL and KCL define it. Kept as proto2 text:
 * proto2 keeps field presence, so `explicit_hash_key_index = 0` is not dropped (a JSON
 * descriptor read as proto3 loses it).
 */
export const AGGREGATED_RECORD_PROTO = `
syntax = "proto2";
message AggregatedRecord {
  repeated string partition_key_table = 1;
  repeated string explicit_hash_key_table = 2;
  repeated Record records = 3;
}
message Tag {
  required string key = 1;
  optional string value = 2;
}
message Record {
  required uint64 partition_key_index = 1;
  optional uint64 explicit_hash_key_index = 2;
  required bytes data = 3;
  repeated Tag tags = 4;
}
`

/** Every KPL aggregate starts with these four bytes. */
export const KPL_MAGIC: readonly number[] = Object.freeze([0xf3, 0x89, 0x9a, 0xc2])
export const MAGIC_LENGTH = 4
/** An MD5 digest of the protobuf body closes every aggregate. */
export const CHECKSUM_LENGTH = 16
/** Bytes an empty aggregate takes: magic + empty body + checksum. */
export const AGGREGATE_OVERHEAD = MAGIC_LENGTH + CHECKSUM_LENGTH

/** Field tags (field number << 3 | wire type) used by the encoder. */
export const Tags = Object.freeze({
  partitionKeyTable: 0x0a, // 1, length-delimited
  explicitHashKeyTable: 0x12, // 2, length-delimited
  record: 0x1a, // 3, length-delimited
  recordPartitionKeyIndex: 0x08, // 1, varint
  recordExplicitHashKeyIndex: 0x10, // 2, varint
  recordData: 0x1a, // 3, length-delimited
})

/** True when the bytes start with the KPL magic (they may still be corrupt). */
export function hasKplMagic(data: Uint8Array): boolean {
  return data.length >= MAGIC_LENGTH && data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2
}
