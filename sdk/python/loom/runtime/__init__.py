"""The runtime side of a project: its `loom.toml`, starting this project's runtime
(`node dist/runtime.js`, never a download) and running a project's agents beside it.

- `config`: `ProjectConfig`, `load_project_config` (the reference's view of loom.toml);
- `embedded`: `find_runtime_js`, `start_runtime`, and the reference's `start_bridge`, `start_core`,
  `get_binary`, ...;
- `orchestrator`: `Orchestrator`, `OrchestratorConfig`, `run_orchestrator` (what `loom run` does).
"""
from .config import (
    BridgeConfig,
    DashboardConfig,
    LLMProviderConfig,
    MCPServerConfig,
    ProjectConfig,
    load_project_config,
)
from .embedded import (
    RuntimeNotInstalled,
    binary_path,
    cache_dir,
    find_node,
    find_runtime_js,
    get_binary,
    platform_tag,
    running_runtime,
    start_bridge,
    start_core,
    start_runtime,
)
from .orchestrator import Orchestrator, OrchestratorConfig, ProcessInfo, run_orchestrator

__all__ = [
    "BridgeConfig",
    "DashboardConfig",
    "LLMProviderConfig",
    "MCPServerConfig",
    "Orchestrator",
    "OrchestratorConfig",
    "ProcessInfo",
    "ProjectConfig",
    "RuntimeNotInstalled",
    "binary_path",
    "cache_dir",
    "find_node",
    "find_runtime_js",
    "get_binary",
    "load_project_config",
    "platform_tag",
    "run_orchestrator",
    "running_runtime",
    "start_bridge",
    "start_core",
    "start_runtime",
]
