export { startWatcher, coalesce, ALWAYS_IGNORED, type Watcher, type FsChange, type FsEventPayload } from './watcher';
export { startTimers, type Timers, type TimerPayload } from './timers';
