// Re-exports of the generated message types most code needs, under short names.
export type { Event, Event__Output } from './gen/loom/v1/Event';
export type { ToolCall, ToolCall__Output } from './gen/loom/v1/ToolCall';
export type { ToolResult, ToolResult__Output } from './gen/loom/v1/ToolResult';
export type { ToolDescriptor, ToolDescriptor__Output } from './gen/loom/v1/ToolDescriptor';
export type { ClientEvent, ClientEvent__Output } from './gen/loom/v1/ClientEvent';
export type { ServerEvent, ServerEvent__Output } from './gen/loom/v1/ServerEvent';
export type { AgentRegisterRequest, AgentRegisterRequest__Output } from './gen/loom/v1/AgentRegisterRequest';
export type { AgentRegisterResponse } from './gen/loom/v1/AgentRegisterResponse';
export type { AgentInfo, AgentInfo__Output } from './gen/loom/v1/AgentInfo';
export type { StatsResponse, StatsResponse__Output } from './gen/loom/v1/StatsResponse';
export type { FeedUpdate, FeedUpdate__Output } from './gen/loom/v1/FeedUpdate';
export type { ContextItem, ContextItem__Output } from './gen/loom/v1/ContextItem';
export type { BridgeClient } from './gen/loom/v1/Bridge';
export type { RuntimeClient } from './gen/loom/v1/Runtime';
export type { ToolsClient } from './gen/loom/v1/Tools';
export type { StoreClient } from './gen/loom/v1/Store';
export type { MemoryServiceClient } from './gen/loom/v1/MemoryService';
