export {
  AggregateBuilder,
  encodeAggregated,
  soleAggregateSize,
  type AggregationInput,
} from './aggregate-builder.js'
export { decodeAggregated, isAggregated, type DeaggregatedRecord, type OuterKeys } from './decode.js'
export type { KeySlot } from './key-table.js'
export { AGGREGATED_RECORD_PROTO, AGGREGATE_OVERHEAD, KPL_MAGIC, hasKplMagic } from './schema.js'
export { varintLength } from './varint.js'
export { HEADER_LIMITS, NO_HEADERS, encodeHeaderTags, type RecordHeaders } from './tags.js'
