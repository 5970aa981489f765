// The bus part's public face: everything other runtime parts import from 'runtime/bus'.
export * from './types';
export { BusError, DeliveryDropped, type BusErrorCode } from './errors';
export {
  EventBus,
  reply,
  DEFAULT_QUEUE_SIZES,
  DEFAULT_QUEUE_BYTES,
  DEFAULT_MAX_HOPS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_MAX_TOPIC_STATS,
  eventBytes,
} from './bus';
export {
  assertTopic,
  isValidTopic,
  parsePattern,
  fromReferencePattern,
  topicMatches,
  matchesSegments,
  MAX_TOPIC_LENGTH,
  INBOX_PREFIX,
} from '../contract/topics';
export * from './envelope';
// A bounded ring of the latest items (the bus's recent-event buffers; the dashboard's feed keeps its own).
export { Ring } from './ring';
