// The dashboard's live feed: above the bus, the tools and telemetry (it watches all three), below
// the bridge and the dashboard server that serve it.
export {
  Feed,
  skipWhileBlocked,
  resolveFeedOptions,
  FeedOptionError,
  type FeedOptions,
  type FeedSources,
  type ResolvedFeedOptions,
} from './feed';
