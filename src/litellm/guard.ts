/**
 * The gateway guard: a LiteLLM 1.77.3 callback that refuses a tools/call to a server the caller's
 * key may not use (ADR 0019). LiteLLM filters `tools/list` by the key's
 * `object_permission.mcp_servers`, but `MCPServerManager.call_tool` never checks it; it does run the
 * proxy's pre-call hooks first (`proxy_logging_obj.pre_call_hook(..., call_type="mcp_call")`, with
 * `data["mcp_tool_name"]` = the prefixed tool name). The guard asks the same list `tools/list` uses
 * (`get_allowed_mcp_servers`: a key without restrictions, the master key and a gateway without a
 * database get every server), so only a restricted key is ever refused.
 *
 * The reconciler writes GUARD_PY as GUARD_FILE beside config.yaml (the managed gateway mounts that
 * folder) and lists GUARD_CALLBACK under `litellm_settings.callbacks`; LiteLLM's `get_instance_fn`
 * loads `<module>.<instance>` from the config file's folder. Kept here as text, not as a .py file,
 * so it ships inside dist/ with the code that writes it (npm package and image alike).
 */
export const GUARD_FILE = 'mcp_reconciler_guard.py';
/** The `litellm_settings.callbacks` entry that loads it: `<module>.<instance>`. */
export const GUARD_CALLBACK = 'mcp_reconciler_guard.guard';
/** What a refused call answers: LiteLLM turns the 403 into the text result `Error: <detail>`. */
export const GUARD_REFUSAL = (tool: string): string => `tool ${tool}: its server is not allowed for this key`;

export const GUARD_PY = `# Written by mcp-reconciler; rewritten whenever it differs, so edit nothing here (ADR 0019).
# Loaded by LiteLLM 1.77.3 through config.yaml: litellm_settings.callbacks: [${GUARD_CALLBACK}]
"""Refuse an MCP tools/call to a server that the caller's key may not use.

LiteLLM 1.77.3 hides other servers' tools from a key limited by object_permission.mcp_servers
(tools/list) but MCPServerManager.call_tool does not check that list. It runs the proxy's
pre-call hooks first (call_type "mcp_call", data["mcp_tool_name"] = the prefixed tool name), so
this hook checks the tool's server against the list tools/list uses. A key without restrictions,
the master key and a gateway without a database get every server from that list: never refused.
"""
from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger


class McpServerGuard(CustomLogger):
    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        if call_type != "mcp_call":
            return None
        from litellm.proxy._experimental.mcp_server.mcp_server_manager import (
            global_mcp_server_manager as manager,
        )

        name = data.get("mcp_tool_name")
        server = manager._get_mcp_server_from_tool_name(name) if isinstance(name, str) else None
        if server is None:
            # call_tool already refused a tool it cannot map to a server ("Tool ... not found").
            return None
        allowed = await manager.get_allowed_mcp_servers(user_api_key_dict)
        if server.server_id not in allowed:
            raise HTTPException(
                status_code=403,
                detail=f"tool {name}: its server is not allowed for this key",
            )
        return None


guard = McpServerGuard()
`;
