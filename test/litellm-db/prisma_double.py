"""An in-memory double of the Prisma database LiteLLM 1.77.3 talks to (test harness only).

It stands in for `litellm.proxy.utils.PrismaClient.db` (prisma-client-py's generated client): the
real `PrismaClient` class is used, only its `db` is this double, so LiteLLM's own helpers
(`get_data`, `insert_data`, `health_check`, ...) run unchanged on top of it.

Strict where Prisma is strict, for the tables it models — LiteLLM_MCPServerTable, LiteLLM_ObjectPermissionTable,
LiteLLM_VerificationToken, LiteLLM_SpendLogs (rules cite litellm/proxy/schema.prisma at 1.77.3, line numbers of the
file in the venv):
  - an `@id` must be unique on create (P2002), `find_unique`/`update`/`delete` need a unique `where`;
    `update`/`delete` of a missing row return None, as prisma-client-py's do;
  - a required field without `@default` must be given on create (MissingRequiredValueError);
  - Json fields take a JSON string (LiteLLM serializes with safe_dumps); `None` for a Json field on
    create is rejected (prisma-client-py needs `prisma.Json(None)` / `fields.Json` for a JSON null);
    reading returns the parsed value;
  - `@default(now())` and `@updatedAt` timestamps are set by the double, `@default(uuid())` ids too;
  - a foreign key must name an existing row (LiteLLM_VerificationToken.object_permission_id, P2003);
    relations to tables it does not model read as null while their key is null, else are refused;
  - unknown fields in `data` or `where` are rejected (Prisma validates against the schema); `where`
    knows equality, in/has/hasSome/equals/not/gt/gte/lt/lte (SQL: a NULL column matches no comparison)
    and AND/OR/NOT; `order` sorts with Postgres' NULL placement.
Tables it does not model answer reads with nothing (`find_many` -> [], `find_*` -> None, count 0)
and refuse writes, so a code path that writes somewhere unexpected fails loudly in the log.

Raw SQL: `SELECT 1` (health) and key auth's `combined_view` query (PrismaClient.get_data), matched
whole; the latter only for keys without team_id and budget_id, because the team, membership, model
and budget tables it joins are not modelled (for those keys Postgres would return NULL there too).

What it cannot show: real SQL, Postgres types and constraints beyond these, migrations, the Prisma
query engine binaries, transactions, concurrency, other raw queries (refused).
"""
from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import re
import uuid
from typing import Any, Callable, Dict, List, Optional

from pydantic import BaseModel, ConfigDict


class PrismaDoubleError(Exception):
    """Base class; the message names the table and the rule (like prisma-client-py's errors)."""


class UniqueViolationError(PrismaDoubleError):
    pass


class RecordNotFoundError(PrismaDoubleError):
    pass


class MissingRequiredValueError(PrismaDoubleError):
    pass


class FieldNotFoundError(PrismaDoubleError):
    pass


class Row(BaseModel):
    """A row as prisma-client-py returns it: a pydantic model with attributes and model_dump()."""

    model_config = ConfigDict(extra="allow")


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _comparable(v: Any) -> Any:
    """Timestamps may be stored as datetime or, after a restart (state file), as ISO text."""
    if isinstance(v, str):
        try:
            d = _dt.datetime.fromisoformat(v)
            return d if d.tzinfo else d.replace(tzinfo=_dt.timezone.utc)
        except ValueError:
            return v
    if isinstance(v, _dt.datetime) and v.tzinfo is None:
        return v.replace(tzinfo=_dt.timezone.utc)
    return "" if v is None else v


def _compare(op: str, a: Any, b: Any) -> bool:
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


class Model:
    """What the double knows of one `model` block in schema.prisma."""

    def __init__(
        self,
        name: str,
        id_field: str,
        fields: Dict[str, Any],
        required: tuple = (),
        json_fields: tuple = (),
        list_fields: tuple = (),
        updated_at: tuple = (),
        now_defaults: tuple = (),
        uuid_id: bool = False,
        relations: Optional[Dict[str, Callable[["PrismaDouble", Row], Any]]] = None,
        unique: tuple = (),
        foreign: Optional[Dict[str, str]] = None,
    ):
        self.name = name
        self.id_field = id_field
        self.fields = fields  # field -> default (None = no default / optional)
        self.required = required
        self.json_fields = json_fields
        self.list_fields = list_fields
        self.updated_at = updated_at
        self.now_defaults = now_defaults
        self.uuid_id = uuid_id
        self.relations = relations or {}
        self.unique = (id_field,) + unique
        self.foreign = foreign or {}  # field -> modelled table it references (@relation fields/references)


def _object_permission_of(db: "PrismaDouble", row: Row) -> Optional[Row]:
    pid = getattr(row, "object_permission_id", None)
    return db.litellm_objectpermissiontable.peek(pid) if pid else None


def _unmodelled_relation(fk: str, table: str) -> Callable[["PrismaDouble", Row], Any]:
    """A relation to a table the double does not model: None while the foreign key is null, else refused."""

    def rel(db: "PrismaDouble", row: Row) -> Any:
        if getattr(row, fk, None) is not None:
            raise PrismaDoubleError(f"prisma double: `{fk}` points into {table}, which is not modelled")
        return None

    return rel


# schema.prisma 167-189: model LiteLLM_MCPServerTable
MCP_SERVER = Model(
    "LiteLLM_MCPServerTable",
    "server_id",
    {
        "server_id": None, "server_name": None, "alias": None, "description": None, "url": None,
        "transport": "sse", "auth_type": None, "created_at": None, "created_by": None,
        "updated_at": None, "updated_by": None, "mcp_info": {}, "mcp_access_groups": [],
        "status": "unknown", "last_health_check": None, "health_check_error": None,
        "command": None, "args": [], "env": {},
    },
    json_fields=("mcp_info", "env"),
    list_fields=("mcp_access_groups", "args"),
    updated_at=("updated_at",),
    now_defaults=("created_at", "updated_at"),
    uuid_id=True,
)

# schema.prisma 155-164: model LiteLLM_ObjectPermissionTable (relations not stored here)
OBJECT_PERMISSION = Model(
    "LiteLLM_ObjectPermissionTable",
    "object_permission_id",
    {"object_permission_id": None, "mcp_servers": [], "mcp_access_groups": [], "vector_stores": []},
    list_fields=("mcp_servers", "mcp_access_groups", "vector_stores"),
    uuid_id=True,
)

# schema.prisma 247-279: model LiteLLM_SpendLogs (the audit trail; written in batches by update_spend)
SPEND_LOGS = Model(
    "LiteLLM_SpendLogs",
    "request_id",
    {
        "request_id": None, "call_type": None, "api_key": "", "spend": 0.0, "total_tokens": 0,
        "prompt_tokens": 0, "completion_tokens": 0, "startTime": None, "endTime": None,
        "completionStartTime": None, "model": "", "model_id": "", "model_group": "",
        "custom_llm_provider": "", "api_base": "", "user": "", "metadata": {}, "cache_hit": "",
        "cache_key": "", "request_tags": [], "team_id": None, "end_user": None,
        "requester_ip_address": None, "messages": {}, "response": {}, "session_id": None,
        "status": None, "mcp_namespaced_tool_name": None, "proxy_server_request": {},
    },
    required=("call_type", "startTime", "endTime"),
    json_fields=("metadata", "request_tags", "messages", "response", "proxy_server_request"),
)

# schema.prisma 192-227: model LiteLLM_VerificationToken (virtual keys; `token` is the sha256 of the key).
# The relations to LiteLLM_BudgetTable and LiteLLM_OrganizationTable are not modelled: a key with a
# budget_id (soft budget) or organization_id is refused when read with them. `allowed_routes String[] @default([])`
# (line 214) is a list field like `models`: [] when not given, None refused on create; key auth reads it back
# through combined_view's `v.*` and RouteChecks enforces it (the reconciler's keys send ["mcp_routes"], ADR 0019).
VERIFICATION_TOKEN = Model(
    "LiteLLM_VerificationToken",
    "token",
    {
        "token": None, "key_name": None, "key_alias": None, "soft_budget_cooldown": False, "spend": 0.0,
        "expires": None, "models": [], "aliases": {}, "config": {}, "user_id": None, "team_id": None,
        "permissions": {}, "max_parallel_requests": None, "metadata": {}, "blocked": None, "tpm_limit": None,
        "rpm_limit": None, "max_budget": None, "budget_duration": None, "budget_reset_at": None,
        "allowed_cache_controls": [], "allowed_routes": [], "model_spend": {}, "model_max_budget": {},
        "budget_id": None, "organization_id": None, "object_permission_id": None, "created_at": None,
        "created_by": None, "updated_at": None, "updated_by": None,
    },
    json_fields=("aliases", "config", "permissions", "metadata", "model_spend", "model_max_budget"),
    list_fields=("models", "allowed_cache_controls", "allowed_routes"),
    updated_at=("updated_at",),
    now_defaults=("created_at", "updated_at"),
    foreign={"object_permission_id": "litellm_objectpermissiontable"},
    relations={
        "object_permission": _object_permission_of,
        "litellm_budget_table": _unmodelled_relation("budget_id", "LiteLLM_BudgetTable"),
        "litellm_organization_table": _unmodelled_relation("organization_id", "LiteLLM_OrganizationTable"),
    },
)

MODELS: Dict[str, Model] = {
    "litellm_verificationtoken": VERIFICATION_TOKEN,
    "litellm_mcpservertable": MCP_SERVER,
    "litellm_objectpermissiontable": OBJECT_PERMISSION,
    "litellm_spendlogs": SPEND_LOGS,
}


# The SQL of litellm/proxy/utils.py PrismaClient.get_data(table_name="combined_view") at 1.77.3 (what
# user_api_key_auth runs for a virtual key that is not in its cache), matched whole: another query, or
# this one changed, is refused rather than answered wrongly.
COMBINED_VIEW = re.compile(
    r"\s*SELECT\s+v\.\*,(?P<select>.*?)"
    r'FROM "LiteLLM_VerificationToken" AS v\s+'
    r'LEFT JOIN "LiteLLM_TeamTable" AS t ON v\.team_id = t\.team_id\s+'
    r'LEFT JOIN "LiteLLM_TeamMembership" AS tm ON v\.team_id = tm\.team_id AND tm\.user_id = v\.user_id\s+'
    r'LEFT JOIN "LiteLLM_ModelTable" m ON t\.model_id = m\.id\s+'
    r'LEFT JOIN "LiteLLM_BudgetTable" AS b ON v\.budget_id = b\.budget_id\s+'
    r"WHERE v\.token = '(?P<token>[0-9a-f]{64})'\s*",
    re.S,
)


class Table:
    """One modelled table: the prisma-client-py action methods LiteLLM calls on it."""

    def __init__(self, db: "PrismaDouble", model: Model):
        self.db = db
        self.m = model
        self.rows: Dict[str, Dict[str, Any]] = {}

    # -- helpers -----------------------------------------------------------------------------
    def _check_fields(self, data: Dict[str, Any], what: str) -> None:
        for k in data:
            if k not in self.m.fields:
                raise FieldNotFoundError(f"{self.m.name}.{what}: unknown field `{k}`")

    def _check_foreign(self, row: Dict[str, Any], what: str) -> None:
        """A foreign key must name an existing row (Prisma P2003, `Foreign key constraint failed`)."""
        for f, table in self.m.foreign.items():
            v = row.get(f)
            if v is not None and v not in self.db.tables[table].rows:
                raise PrismaDoubleError(f"{self.m.name}.{what}: Foreign key constraint failed on the field: `{f}`")

    def _json_in(self, field: str, value: Any, creating: bool) -> Any:
        if value is None:
            if creating:
                raise MissingRequiredValueError(
                    f"{self.m.name}.create: `{field}` is a Json field; None is not a JSON value "
                    "(prisma-client-py needs prisma.Json(None) for a JSON null)"
                )
            raise MissingRequiredValueError(f"{self.m.name}.update: `{field}` = None is not a JSON value")
        if isinstance(value, str):
            return json.loads(value)
        return copy.deepcopy(value)

    def _out(self, stored: Dict[str, Any], include: Optional[Dict[str, Any]] = None) -> Row:
        row = Row(**copy.deepcopy(stored))
        for rel, on in (include or {}).items():
            if not on:
                continue
            if rel not in self.m.relations:
                raise FieldNotFoundError(f"{self.m.name}: include of unknown relation `{rel}`")
            setattr(row, rel, self.m.relations[rel](self.db, row))
        return row

    def _unique_key(self, where: Dict[str, Any]) -> str:
        self._check_fields(where, "where")
        keys = [k for k in where if k in self.m.unique]
        if len(where) != 1 or not keys or not isinstance(where[keys[0]], str):
            raise PrismaDoubleError(f"{self.m.name}: a unique where needs exactly one unique field, got {where}")
        k = keys[0]
        if k == self.m.id_field:
            return where[k]
        for rid, r in self.rows.items():
            if r.get(k) == where[k]:
                return rid
        return "\0missing"

    def _match(self, r: Dict[str, Any], where: Optional[Dict[str, Any]]) -> bool:
        """Prisma's where: field equality or operators, AND / OR / NOT; SQL null semantics for comparisons."""
        for k, cond in (where or {}).items():
            if k == "AND":
                if not all(self._match(r, w) for w in (cond if isinstance(cond, list) else [cond])):
                    return False
                continue
            if k == "OR":
                if not any(self._match(r, w) for w in cond):
                    return False
                continue
            if k == "NOT":
                if any(self._match(r, w) for w in (cond if isinstance(cond, list) else [cond])):
                    return False
                continue
            if k not in self.m.fields:
                raise FieldNotFoundError(f"{self.m.name}.where: unknown field `{k}`")
            v = r.get(k)
            if isinstance(cond, dict):
                for op, arg in cond.items():
                    if op == "in":
                        ok = v in list(arg)
                    elif op == "has":
                        ok = isinstance(v, list) and arg in v
                    elif op == "hasSome":
                        ok = isinstance(v, list) and any(a in v for a in arg)
                    elif op == "equals":
                        ok = v == arg
                    elif op == "not":
                        # SQL: `col <> 'x'` is not true for a NULL col (Prisma's `not` on a nullable field)
                        ok = (v is not None) if arg is None else (v is not None and v != arg)
                    elif op in ("gt", "gte", "lt", "lte"):
                        ok = v is not None and arg is not None and _compare(op, _comparable(v), _comparable(arg))
                    else:
                        raise PrismaDoubleError(f"{self.m.name}.where: operator `{op}` is not modelled")
                    if not ok:
                        return False
            elif v != cond:
                return False
        return True

    def _sorted(self, rows: List[Dict[str, Any]], order: Any) -> List[Dict[str, Any]]:
        """Prisma's `order`: one {field: asc|desc} or a list of them (first is the primary key of the sort)."""
        if order is None:
            return rows
        for o in reversed(order if isinstance(order, list) else [order]):
            for f, d in o.items():
                if f not in self.m.fields or d not in ("asc", "desc"):
                    raise PrismaDoubleError(f"{self.m.name}: order by `{f}` `{d}` is not modelled")
                # NULLs last ascending, first descending (Postgres' default)
                rows = sorted(rows, key=lambda r: (r.get(f) is not None, _comparable(r.get(f))), reverse=(d == "desc"))
        return rows

    def peek(self, rid: str) -> Optional[Row]:
        r = self.rows.get(rid)
        return self._out(r) if r is not None else None

    # -- actions -----------------------------------------------------------------------------
    async def create(self, data: Dict[str, Any], include: Optional[Dict[str, Any]] = None, **_: Any) -> Row:
        data = dict(data)
        self._check_fields(data, "create")
        for f in self.m.required:
            if data.get(f) is None:
                raise MissingRequiredValueError(f"{self.m.name}.create: required field `{f}` is missing")
        row: Dict[str, Any] = {}
        for f, default in self.m.fields.items():
            if f in data:
                v = data[f]
                if f in self.m.json_fields:
                    v = self._json_in(f, v, creating=True)
                elif f in self.m.list_fields and v is None:
                    raise MissingRequiredValueError(f"{self.m.name}.create: `{f}` is a list; None is not a list")
                row[f] = copy.deepcopy(v)
            else:
                row[f] = copy.deepcopy(default)
        for f in self.m.now_defaults:
            if row.get(f) is None:
                row[f] = _now()
        if row.get(self.m.id_field) is None:
            if not self.m.uuid_id:
                raise MissingRequiredValueError(f"{self.m.name}.create: required field `{self.m.id_field}` is missing")
            row[self.m.id_field] = str(uuid.uuid4())
        self._check_foreign(row, "create")
        for u in self.m.unique:
            if row.get(u) is not None and any(r.get(u) == row[u] for r in self.rows.values()):
                raise UniqueViolationError(f"Unique constraint failed on the fields: (`{u}`) [{self.m.name}]")
        self.rows[row[self.m.id_field]] = row
        self.db.save()
        return self._out(row, include)

    async def create_many(self, data: List[Dict[str, Any]], skip_duplicates: bool = False, **_: Any) -> int:
        n = 0
        for d in data:
            if skip_duplicates and d.get(self.m.id_field) in self.rows:
                continue
            await self.create(data=d)
            n += 1
        return n

    async def find_unique(self, where: Dict[str, Any], include: Optional[Dict[str, Any]] = None, **_: Any) -> Optional[Row]:
        r = self.rows.get(self._unique_key(where))
        return self._out(r, include) if r is not None else None

    async def find_unique_or_raise(self, where: Dict[str, Any], include: Optional[Dict[str, Any]] = None, **_: Any) -> Row:
        r = await self.find_unique(where, include)
        if r is None:
            raise RecordNotFoundError(f"{self.m.name}: no record for {where}")
        return r

    async def find_many(
        self, where: Optional[Dict[str, Any]] = None, include: Optional[Dict[str, Any]] = None,
        take: Optional[int] = None, skip: Optional[int] = None, order: Any = None, **_: Any,
    ) -> List[Row]:
        hits = self._sorted([r for r in self.rows.values() if self._match(r, where)], order)
        out = [self._out(r, include) for r in hits]
        out = out[skip or 0:]
        return out[:take] if take is not None else out

    async def find_first(self, where: Optional[Dict[str, Any]] = None, include: Optional[Dict[str, Any]] = None, **_: Any) -> Optional[Row]:
        rows = await self.find_many(where=where, include=include, take=1)
        return rows[0] if rows else None

    async def count(self, where: Optional[Dict[str, Any]] = None, **_: Any) -> int:
        return len([r for r in self.rows.values() if self._match(r, where)])

    async def update(self, where: Dict[str, Any], data: Dict[str, Any], include: Optional[Dict[str, Any]] = None, **_: Any) -> Optional[Row]:
        rid = self._unique_key(where)
        if rid not in self.rows:
            return None  # prisma-client-py: update() of a missing record returns None
        self._check_fields(data, "update")
        row = copy.deepcopy(self.rows[rid])
        for f, v in data.items():
            if f in self.m.json_fields:
                v = self._json_in(f, v, creating=False)
            if f == self.m.id_field and v != rid:
                raise PrismaDoubleError(f"{self.m.name}.update: changing the id is not modelled")
            row[f] = copy.deepcopy(v)
        self._check_foreign(row, "update")
        for f in self.m.updated_at:  # @updatedAt: set on every update unless given
            if f not in data:
                row[f] = _now()
        self.rows[rid] = row
        self.db.save()
        return self._out(row, include)

    async def delete(self, where: Dict[str, Any], **_: Any) -> Optional[Row]:
        rid = self._unique_key(where)
        if rid not in self.rows:
            return None  # prisma-client-py: delete() of a missing record returns None
        gone = self.rows.pop(rid)
        self.db.save()
        return self._out(gone)

    async def delete_many(self, where: Optional[Dict[str, Any]] = None, **_: Any) -> int:
        gone = [rid for rid, r in self.rows.items() if self._match(r, where)]
        for rid in gone:
            del self.rows[rid]
        self.db.save()
        return len(gone)

    async def upsert(self, where: Dict[str, Any], data: Dict[str, Any], include: Optional[Dict[str, Any]] = None, **_: Any) -> Row:
        rid = self._unique_key(where)
        if rid in self.rows:
            if not data.get("update"):  # LiteLLM's key insert: `"update": {}`; the double leaves the row (not observed on Prisma)
                return self._out(self.rows[rid], include)
            return await self.update(where=where, data=data["update"], include=include)  # type: ignore[return-value]
        return await self.create(data=data.get("create", {}), include=include)


class EmptyTable:
    """A table the double does not model: reads find nothing, writes are refused (and logged by LiteLLM)."""

    def __init__(self, name: str):
        self.name = name

    async def find_many(self, *a: Any, **k: Any) -> list:
        return []

    async def find_first(self, *a: Any, **k: Any) -> None:
        return None

    async def find_unique(self, *a: Any, **k: Any) -> None:
        return None

    async def count(self, *a: Any, **k: Any) -> int:
        return 0

    async def group_by(self, *a: Any, **k: Any) -> list:
        return []

    def __getattr__(self, action: str) -> Any:
        async def refuse(*a: Any, **k: Any) -> Any:
            raise PrismaDoubleError(f"prisma double: `{self.name}.{action}` is not modelled")

        return refuse


class PrismaDouble:
    """Stands in for prisma-client-py's `Prisma()` (what `PrismaClient.db` wraps).

    With `state_file` the modelled tables outlive a restart of the proxy (JSON, written after every
    write), so a test can show what LiteLLM loads from its database at start-up.
    """

    def __init__(self, state_file: Optional[str] = None) -> None:
        self.tables: Dict[str, Table] = {name: Table(self, m) for name, m in MODELS.items()}
        self.raw_queries: List[str] = []
        self.state_file = state_file
        if state_file and os.path.exists(state_file):
            with open(state_file) as f:
                for name, rows in json.load(f).items():
                    if name in self.tables:
                        self.tables[name].rows = {r[self.tables[name].m.id_field]: r for r in rows}

    def save(self) -> None:
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({n: list(t.rows.values()) for n, t in self.tables.items()}, f, default=str)
        os.replace(tmp, self.state_file)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("litellm_"):
            t = self.__dict__["tables"].get(name)
            return t if t is not None else EmptyTable(name)
        raise AttributeError(name)

    def is_connected(self) -> bool:
        return True

    async def connect(self, *a: Any, **k: Any) -> None:
        return None

    async def disconnect(self, *a: Any, **k: Any) -> None:
        return None

    async def query_raw(self, query: str, *args: Any) -> list:
        self.raw_queries.append(query)
        if re.fullmatch(r"\s*SELECT 1\s*", query):
            return [{"?column?": 1}]
        m = COMBINED_VIEW.fullmatch(query)
        if m:
            return self._combined_view(m)
        raise PrismaDoubleError(f"prisma double: raw SQL is not modelled: {query.strip()[:80]!r}")

    def _combined_view(self, m: "re.Match[str]") -> list:
        """Key auth's one raw query (PrismaClient.get_data(table_name="combined_view")): the key row (v.*)
        LEFT JOINed to team, team membership, model and budget tables. Those tables are not modelled, so
        this answers only keys whose team_id and budget_id are null - then every joined column is NULL,
        as Postgres would give - and refuses the others."""
        stored = self.tables["litellm_verificationtoken"].rows.get(m.group("token"))
        if stored is None:
            return []
        for fk in ("team_id", "budget_id"):
            if stored.get(fk) is not None:
                raise PrismaDoubleError(f"prisma double: combined_view for a key with a {fk} is not modelled")
        out = copy.deepcopy(stored)
        for alias in re.findall(r"\b\w+\.\w+\s+(?:AS|as)\s+(\w+)", m.group("select")):
            out[alias] = None
        return [out]

    async def query_first(self, query: str, *args: Any) -> Any:
        rows = await self.query_raw(query, *args)
        return rows[0] if rows else None

    async def execute_raw(self, query: str, *args: Any) -> int:
        self.raw_queries.append(query)
        raise PrismaDoubleError(f"prisma double: raw SQL is not modelled: {query.strip()[:80]!r}")


def make_prisma_client(proxy_logging_obj: Any) -> Any:
    """LiteLLM's real PrismaClient with the double as its `db` (its __init__ would import `prisma`)."""
    from litellm.proxy.utils import PrismaClient

    client = PrismaClient.__new__(PrismaClient)
    client.proxy_logging_obj = proxy_logging_obj
    client.iam_token_db_auth = False
    client.db = PrismaDouble(os.environ.get("PRISMA_DOUBLE_STATE") or None)
    return client
