export {
  startWatcher,
  coalesce,
  ALWAYS_IGNORED,
  MAX_PENDING_PATHS,
  type Watcher,
  type WatcherOptions,
  type FsChange,
  type FsEventPayload,
  type FsOverflowPayload,
} from './watcher';
export { startTimers, type Timers, type TimerPayload } from './timers';
